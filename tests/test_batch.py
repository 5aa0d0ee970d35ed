"""Many specs in one call: compiled in worker processes, all or none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commandline import MINIMAL, regc
from regc import batch
from regc.batch import compile_specs
from regc.diagnostics import SpecError, UsageError


def _specs(folder: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = folder / f"r{index:03d}.yaml"
        path.write_text(
            f"registry:\n  server: registry-{index}.example.com\n"
            f"  port: {5000 + index}\n"
        )
        paths.append(path)
    return paths


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use two worker processes whatever the machine and the count."""
    monkeypatch.setattr(batch, "_workers", lambda count: 2)


def test_workers_give_the_same_artifacts_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _specs(tmp_path, 24)
    serial = compile_specs(paths)
    monkeypatch.setattr(batch, "_workers", lambda count: 2)
    parallel = compile_specs(paths)
    assert [o.name for o in parallel] == [p.stem for p in paths]
    assert parallel == serial


@pytest.mark.usefixtures("workers")
def test_the_errors_of_every_spec_are_reported_in_order(tmp_path: Path) -> None:
    paths = _specs(tmp_path, 20)
    paths[3].write_text("registry: {}\n")
    paths[17].write_text(MINIMAL + "  prot: 1\n")
    with pytest.raises(SpecError) as raised:
        compile_specs(paths)
    assert [d.file for d in raised.value.diagnostics] == [
        str(paths[3]),
        str(paths[17]),
    ]


@pytest.mark.usefixtures("workers")
def test_two_specs_with_one_name_are_a_usage_error(tmp_path: Path) -> None:
    paths = _specs(tmp_path, 20)
    paths[5].write_text("name: r012\n" + MINIMAL)
    with pytest.raises(UsageError, match=r"r005\.yaml and .*r012\.yaml both compile"):
        compile_specs(paths)


@pytest.mark.usefixtures("workers")
def test_an_unreadable_spec_is_a_usage_error(tmp_path: Path) -> None:
    paths = [*_specs(tmp_path, 10), tmp_path / "missing.yaml"]
    with pytest.raises(UsageError, match=r"missing\.yaml: no such spec file"):
        compile_specs(paths)


def test_a_spec_named_twice_is_compiled_once(tmp_path: Path) -> None:
    path = _specs(tmp_path, 1)[0]
    assert len(compile_specs([path, path])) == 1


def test_a_bug_in_a_worker_reaches_the_command_line_as_exit_3(
    tmp_path: Path,
) -> None:
    _specs(tmp_path, 70)
    code = (
        "import sys, glob, regc.pipeline as p, regc.batch as b\n"
        "b._workers = lambda count: 2\n"
        "p.render = lambda plan: 1 / 0\n"
        "from regc.entry import main\n"
        "sys.argv = ['regc', 'build', *sorted(glob.glob('*.yaml'))]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "internal error: ZeroDivisionError" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_hundred_specs_build_in_one_call_and_check_current(tmp_path: Path) -> None:
    paths = [p.name for p in _specs(tmp_path, 100)]
    result = regc("build", *paths, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        Path(p).stem for p in paths
    ]
    assert regc("check", *paths, cwd=tmp_path).returncode == 0
    assert regc("check", "--full", *paths, cwd=tmp_path).returncode == 0
