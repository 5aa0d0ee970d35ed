"""Compiled templates are kept between runs, safely, and change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from commandline import MINIMAL, snapshot
from regc import templatecache


def _build(folder: Path, cache_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regc", "build"],
        cwd=folder,
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _contents(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path: file[:2] for path, file in snapshot(folder).items()}


def test_a_build_from_cached_templates_writes_the_same_bytes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    outputs = []
    for run in ("cold", "cached"):
        folder = tmp_path / run
        folder.mkdir()
        (folder / "registry.yaml").write_text(MINIMAL)
        result = _build(folder, cache)
        assert result.returncode == 0, result.stderr
        outputs.append(_contents(folder / "out"))
    assert list((cache / "regc" / "templates").glob("*/*.cache"))
    assert outputs[0] == outputs[1]


def test_an_unusable_cache_folder_only_means_compiling(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    result = _build(tmp_path, tmp_path / "not-a-folder")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_damaged_cache_entry_is_compiled_again(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    assert _build(tmp_path, tmp_path / "cache").returncode == 0
    expected = _contents(tmp_path / "out")
    for entry in (tmp_path / "cache").rglob("*.cache"):
        entry.write_bytes(entry.read_bytes()[:20])
    (tmp_path / "out").rename(tmp_path / "first")
    assert _build(tmp_path, tmp_path / "cache").returncode == 0
    assert _contents(tmp_path / "out") == expected


def test_a_cache_folder_others_can_write_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    environment = jinja2.Environment()
    folder = templatecache.folder(environment)
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert templatecache.bytecode_cache(environment) is None
    folder.chmod(0o700)
    assert templatecache.bytecode_cache(environment) is not None


def test_other_syntax_options_use_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    plain = templatecache.folder(jinja2.Environment())
    trimmed = templatecache.folder(jinja2.Environment(trim_blocks=True))
    assert plain != trimmed
    assert plain == templatecache.folder(jinja2.Environment())
