"""The manifest proof: `regc check` of a current tree without compiling.

Whatever the proof cannot establish falls back to a full compile, so each
test here pairs a tree the proof must accept, or must refuse, with what a
full `regc check` says of it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from commandline import MINIMAL, imported_modules, regc
from regc import proof, render
from regc.manifest import MANIFEST

COMPILER_PACKAGES = {"pydantic", "jinja2", "yaml", "typer"}


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A folder holding registry.yaml and its current out/registry/."""
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    assert regc("build", cwd=tmp_path).returncode == 0
    return tmp_path


def _proven(folder: Path, *specs: str, out: str = "out") -> bool:
    paths = [folder / spec for spec in specs or ("registry.yaml",)]
    return proof.proven_current(paths, folder / out)


def test_a_freshly_built_tree_is_proven_current(built: Path) -> None:
    assert _proven(built)


def test_a_current_check_loads_none_of_the_compilers_libraries(built: Path) -> None:
    assert not imported_modules("check", cwd=built) & COMPILER_PACKAGES


def test_a_check_that_finds_a_difference_compiles_to_report_it(built: Path) -> None:
    (built / "out/registry/verify.sh").write_text("#!/bin/sh\n")
    assert {"pydantic", "jinja2"} <= imported_modules("check", cwd=built)


def test_the_manifest_constants_are_those_the_renderer_writes() -> None:
    assert MANIFEST == render.MANIFEST
    assert proof.MANIFEST_MODE == render.REGULAR


def test_a_spec_with_a_name_field_is_found_in_its_named_folder(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("name: edge\n" + MINIMAL)
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    assert regc("build", "x.yaml", "registry.yaml", cwd=tmp_path).returncode == 0
    assert _proven(tmp_path, "x.yaml", "registry.yaml")


def _edit_manifest(target: Path, change: dict[str, object]) -> None:
    data = json.loads((target / MANIFEST).read_text())
    data.update(change)
    (target / MANIFEST).write_text(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )


@pytest.mark.parametrize(
    "change",
    [
        "the spec changed",
        "a file was edited",
        "a file lost its executable bit",
        "a file was added",
        "a file was removed",
        "a file became a symbolic link",
        "the manifest was reformatted",
        "another regc version wrote it",
        "the manifest names another folder",
        "the output folder is gone",
    ],
)
def test_the_proof_refuses_and_full_check_reports(built: Path, change: str) -> None:
    target = built / "out/registry"
    if change == "the spec changed":
        (built / "registry.yaml").write_text(MINIMAL + "  port: 5001\n")
    elif change == "a file was edited":
        (target / "verify.sh").write_text("#!/bin/sh\n")
    elif change == "a file lost its executable bit":
        (target / "verify.sh").chmod(0o644)
    elif change == "a file was added":
        (target / "NOTES.md").write_text("notes\n")
    elif change == "a file was removed":
        (target / "verify.sh").unlink()
    elif change == "a file became a symbolic link":
        (target / "verify.sh").rename(built / "verify.sh")
        (target / "verify.sh").symlink_to(built / "verify.sh")
    elif change == "the manifest was reformatted":
        data = json.loads((target / MANIFEST).read_text())
        (target / MANIFEST).write_text(json.dumps(data, indent=4) + "\n")
    elif change == "another regc version wrote it":
        _edit_manifest(target, {"generator": "regc 0.0.1"})
    elif change == "the manifest names another folder":
        _edit_manifest(target, {"name": "other"})
    elif change == "the output folder is gone":
        target.rename(built / "elsewhere")

    assert not _proven(built)
    assert regc("check", cwd=built).returncode == 1


def test_two_specs_proven_by_one_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/registry.yaml").write_text(MINIMAL)
    (tmp_path / "b/registry.yaml").write_text(MINIMAL)
    assert regc("build", "a/registry.yaml", cwd=tmp_path).returncode == 0
    assert _proven(tmp_path, "a/registry.yaml")
    assert not _proven(tmp_path, "a/registry.yaml", "b/registry.yaml")
    result = regc("check", "a/registry.yaml", "b/registry.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "both compile to 'registry'" in result.stderr


def test_a_spec_whose_manifest_is_in_two_folders_is_not_proven(
    tmp_path: Path,
) -> None:
    (tmp_path / "x.yaml").write_text("name: edge\n" + MINIMAL)
    assert regc("build", "x.yaml", cwd=tmp_path).returncode == 0
    copy = tmp_path / "out/copy"
    shutil.copytree(tmp_path / "out/edge", copy)
    _edit_manifest(copy, {"name": "copy"})
    assert not _proven(tmp_path, "x.yaml")
    assert regc("check", "x.yaml", cwd=tmp_path).returncode == 0


def test_a_missing_spec_proves_nothing(tmp_path: Path) -> None:
    assert not _proven(tmp_path, "registry.yaml")
    assert not proof.proven_current([], tmp_path / "out")


class TestInASourceCheckout:
    """In a checkout, code changes without the version: mtimes must agree."""

    @pytest.fixture
    def checkout(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        root = tmp_path / "checkout"
        (root / "compiler").mkdir(parents=True)
        (root / "pyproject.toml").write_text("")
        (root / "compiler/render.py").write_text("")
        monkeypatch.setattr(proof, "_SOURCE_ROOT", root)
        monkeypatch.setattr(proof, "_PACKAGE", root / "compiler")
        return root

    def test_regc_older_than_the_build_keeps_the_proof(
        self, built: Path, checkout: Path
    ) -> None:
        os.utime(checkout / "compiler/render.py", ns=(0, 0))
        assert _proven(built)

    def test_regc_newer_than_the_build_breaks_the_proof(
        self, built: Path, checkout: Path
    ) -> None:
        later = (built / "out/registry" / MANIFEST).stat().st_mtime_ns + 10**9
        os.utime(checkout / "compiler/render.py", ns=(later, later))
        assert not _proven(built)

    def test_an_installed_regc_is_trusted_by_its_version(
        self, built: Path, checkout: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(proof, "_PACKAGE", checkout / "regc")
        later = (built / "out/registry" / MANIFEST).stat().st_mtime_ns + 10**9
        os.utime(checkout / "compiler/render.py", ns=(later, later))
        assert _proven(built)
