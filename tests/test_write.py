"""Writing OUT/NAME/: atomic, idempotent, and careful with files regc did not make."""

from __future__ import annotations

from pathlib import Path

import pytest

from regc.render import Artifact
from regc.write import write_artifacts

ARTIFACTS = [
    Artifact("a.txt", b"alpha\n"),
    Artifact("sub/run.sh", b"#!/bin/sh\n", 0o755),
    Artifact(
        "manifest.json", b'{"artifacts": [{"path": "a.txt"}, {"path": "sub/run.sh"}]}'
    ),
]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int, int, int]]:
    return {
        path.relative_to(folder).as_posix(): (
            path.read_bytes(),
            path.stat().st_mode & 0o7777,
            path.stat().st_ino,
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_files_are_written_with_their_modes(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    assert (tmp_path / "r/a.txt").read_bytes() == b"alpha\n"
    assert (tmp_path / "r/a.txt").stat().st_mode & 0o7777 == 0o644
    assert (tmp_path / "r/sub/run.sh").stat().st_mode & 0o7777 == 0o755


def test_a_rebuild_with_nothing_changed_rewrites_nothing(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    before = _snapshot(tmp_path / "r")
    result = write_artifacts(tmp_path, "r", ARTIFACTS)
    assert not result.changed
    assert _snapshot(tmp_path / "r") == before


def test_a_changed_file_leaves_unchanged_ones_untouched(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    before = _snapshot(tmp_path / "r")
    changed = [Artifact("a.txt", b"beta\n"), *ARTIFACTS[1:]]
    result = write_artifacts(tmp_path, "r", changed)
    after = _snapshot(tmp_path / "r")
    assert result.written == ["a.txt"]
    assert after["sub/run.sh"] == before["sub/run.sh"]
    assert after["a.txt"][0] == b"beta\n"


def test_a_failure_mid_write_leaves_the_previous_output_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    before = _snapshot(tmp_path / "r")
    real_write = Path.write_bytes
    calls = 0

    def failing_write(self: Path, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing_write)
    changed = [Artifact(a.path, a.content + b"#", a.mode) for a in ARTIFACTS]
    with pytest.raises(OSError, match="No space left"):
        write_artifacts(tmp_path, "r", changed)

    assert _snapshot(tmp_path / "r") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_files_regc_did_not_generate_are_kept_and_reported(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r/NOTES.md").write_text("ours\n")
    result = write_artifacts(
        tmp_path, "r", [Artifact("a.txt", b"new\n"), *ARTIFACTS[1:]]
    )
    assert result.foreign == ["NOTES.md"]
    assert (tmp_path / "r/NOTES.md").read_text() == "ours\n"


def test_files_a_previous_build_generated_and_no_longer_does_are_removed(
    tmp_path: Path,
) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    fewer = [
        ARTIFACTS[0],
        Artifact("manifest.json", b'{"artifacts": [{"path": "a.txt"}]}'),
    ]
    result = write_artifacts(tmp_path, "r", fewer)
    assert result.removed == ["sub/run.sh"]
    assert not (tmp_path / "r/sub/run.sh").exists()


def test_leftovers_of_a_killed_build_are_cleaned_up(tmp_path: Path) -> None:
    leftover = tmp_path / ".r.abc123.regc-tmp"
    leftover.mkdir()
    (leftover / "x").write_text("half")
    write_artifacts(tmp_path, "r", ARTIFACTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
