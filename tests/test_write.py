"""Writing OUT/NAME/: atomic, idempotent, and careful with files regc did not make."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regc.diagnostics import UsageError
from regc.render import Artifact
from regc.write import _Stage, write_artifacts, write_many

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
    real_write = _Stage.write
    calls = 0

    def failing_write(self: _Stage, relative: str, content: bytes, mode: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        real_write(self, relative, content, mode)

    monkeypatch.setattr(_Stage, "write", failing_write)
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


def test_modes_are_exact_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        write_artifacts(tmp_path, "r", ARTIFACTS)
    finally:
        os.umask(previous)
    assert (tmp_path / "r/a.txt").stat().st_mode & 0o7777 == 0o644
    assert (tmp_path / "r/sub/run.sh").stat().st_mode & 0o7777 == 0o755
    # hosts/NAME/etc/... is copied onto a host's /etc: its folders must not
    # carry a private umask there.
    assert (tmp_path / "r/sub").stat().st_mode & 0o7777 == 0o755


def test_many_folders_are_written_in_one_call(tmp_path: Path) -> None:
    names = [f"r{index}" for index in range(20)]
    results = write_many(tmp_path, [(name, ARTIFACTS) for name in names])
    assert [result.written for result in results] == [
        [a.path for a in ARTIFACTS]
    ] * len(names)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / name / "sub/run.sh").read_bytes() == b"#!/bin/sh\n"


def test_a_folder_that_cannot_be_written_fails_after_the_others_are_done(
    tmp_path: Path,
) -> None:
    (tmp_path / "r1").write_text("a file where a folder belongs")
    outputs = [(f"r{index}", ARTIFACTS) for index in range(4)]
    with pytest.raises(UsageError, match="r1: exists and is not a folder"):
        write_many(tmp_path, outputs)
    for name in ("r0", "r2", "r3"):
        assert (tmp_path / name / "a.txt").is_file()


def test_leftovers_are_cleaned_only_for_the_folders_written(tmp_path: Path) -> None:
    for leftover in (".r.abc.regc-tmp", ".other.abc.regc-tmp"):
        (tmp_path / leftover).mkdir()
    write_many(tmp_path, [("r", ARTIFACTS), ("s", ARTIFACTS)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".other.abc.regc-tmp",
        "r",
        "s",
    ]


def test_a_file_regc_did_not_write_is_not_replaced_by_one_it_now_generates(
    tmp_path: Path,
) -> None:
    before_run_sh = Artifact("manifest.json", b'{"artifacts": [{"path": "a.txt"}]}')
    write_artifacts(tmp_path, "r", [ARTIFACTS[0], before_run_sh])
    (tmp_path / "r/sub").mkdir()
    (tmp_path / "r/sub/run.sh").write_text("mine\n")
    before = _snapshot(tmp_path / "r")
    with pytest.raises(UsageError, match=r"regc now generates sub/run\.sh, but"):
        write_artifacts(tmp_path, "r", ARTIFACTS)
    assert _snapshot(tmp_path / "r") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_foreign_folder_where_regc_writes_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r/a.txt").mkdir(parents=True)
    (tmp_path / "r/a.txt/notes").write_text("mine\n")
    with pytest.raises(UsageError, match=r"regc now generates a\.txt, but"):
        write_artifacts(tmp_path, "r", ARTIFACTS)
    assert (tmp_path / "r/a.txt/notes").read_text() == "mine\n"


def test_the_previous_folder_of_a_build_killed_mid_swap_is_put_back(
    tmp_path: Path,
) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r/NOTES").write_text("mine\n")
    # Killed after the first rename of the swap, before the second.
    (tmp_path / "r").rename(tmp_path / ".r.k1ll3d.regc-old")
    (tmp_path / ".r.st4g3.regc-tmp").mkdir()
    result = write_artifacts(tmp_path, "r", ARTIFACTS)
    assert result.written == [] and result.foreign == ["NOTES"]
    assert (tmp_path / "r/NOTES").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_leftovers_are_cleaned_even_when_nothing_changed(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / ".r.abc.regc-tmp").mkdir()
    (tmp_path / ".r.def.regc-old").symlink_to("r")
    result = write_artifacts(tmp_path, "r", ARTIFACTS)
    assert not result.changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_an_output_folder_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "r").symlink_to("real")
    with pytest.raises(UsageError, match="r: is a symbolic link"):
        write_artifacts(tmp_path, "r", ARTIFACTS)
    assert list((tmp_path / "real").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r", "real"]


def test_empty_folders_and_links_to_folders_are_kept_and_reported(
    tmp_path: Path,
) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r/spare").mkdir()
    (tmp_path / "r/linked").symlink_to(tmp_path)
    result = write_artifacts(tmp_path, "r", [*ARTIFACTS, Artifact("b.txt", b"b\n")])
    assert result.foreign == ["linked", "spare/"]
    assert (tmp_path / "r/spare").is_dir()
    assert os.readlink(tmp_path / "r/linked") == str(tmp_path)


def test_a_folder_whose_manifest_was_lost_is_rebuilt(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r/manifest.json").unlink()
    changed = [Artifact("a.txt", b"changed\n"), *ARTIFACTS[1:]]
    result = write_artifacts(tmp_path, "r", changed)
    assert "a.txt" in result.written
    assert (tmp_path / "r/a.txt").read_bytes() == b"changed\n"


def test_an_empty_foreign_folder_where_regc_writes_a_file_is_refused(
    tmp_path: Path,
) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r/b.txt").mkdir()
    with pytest.raises(UsageError, match=r"regc now generates b\.txt, but"):
        write_artifacts(tmp_path, "r", [*ARTIFACTS, Artifact("b.txt", b"b\n")])
    assert (tmp_path / "r/b.txt").is_dir()


def test_a_backup_is_kept_while_the_output_folder_is_a_link(tmp_path: Path) -> None:
    write_artifacts(tmp_path, "r", ARTIFACTS)
    (tmp_path / "r").rename(tmp_path / ".r.k1ll3d.regc-old")
    (tmp_path / "r").symlink_to("nowhere")
    with pytest.raises(UsageError, match="r: is a symbolic link"):
        write_artifacts(tmp_path, "r", ARTIFACTS)
    assert (tmp_path / ".r.k1ll3d.regc-old/a.txt").read_bytes() == b"alpha\n"
