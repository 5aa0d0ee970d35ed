"""The `regc` program reads the common build and check lines without typer.

Whatever it reads itself must mean what typer would make of it, and
everything else must reach typer unchanged.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commandline import (
    MINIMAL,
    imported_module_names,
    imported_modules,
    regc,
    regc_typer,
    snapshot,
)
from regc.entry import parse


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build"], ("build", [], None)),
        (["check", "a.yaml", "b.yaml"], ("check", ["a.yaml", "b.yaml"], None)),
        (["build", "--out", "gen", "a.yaml"], ("build", ["a.yaml"], "gen")),
        (["build", "a.yaml", "-o", "gen"], ("build", ["a.yaml"], "gen")),
        (["check", "--out=gen"], ("check", [], "gen")),
        (
            ["check", "a.yaml", "--out", "gen", "b.yaml"],
            ("check", ["a.yaml", "b.yaml"], "gen"),
        ),
    ],
)
def test_the_common_forms_are_read_as_typer_reads_them(
    args: list[str], expected: tuple[str, list[str], str | None]
) -> None:
    command, specs, out = expected
    folder = Path(out) if out is not None else None
    assert parse(args) == (command, [Path(s) for s in specs], folder)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["validate"],
        ["schema"],
        ["--version"],
        ["build", "--help"],
        ["build", "-v"],
        ["check", "--debug"],
        ["check", "--full"],
        ["build", "--out"],
        ["build", "--out="],
        ["build", "--out", "a", "--out", "b"],
        ["build", "--out", "-v"],
        ["build", "-ogen"],
        ["build", "--", "a.yaml"],
        ["build", "-"],
        ["build", ""],
    ],
)
def test_everything_else_is_left_to_typer(args: list[str]) -> None:
    assert parse(args) is None


def _prepare(folder: Path) -> None:
    (folder / "registry.yaml").write_text(MINIMAL)
    (folder / "b.yaml").write_text("name: edge\n" + MINIMAL)
    (folder / "bad.yaml").write_text(MINIMAL + "  port: 0\n  prot: 1\n")
    (folder / "same.yaml").write_text("name: edge\n" + MINIMAL)


@pytest.mark.parametrize(
    "steps",
    [
        [["build"]],
        [["build", "registry.yaml", "b.yaml", "--out", "gen"]],
        [["build", "--out=gen", "b.yaml"], ["check", "b.yaml", "-o", "gen"]],
        [["build"], ["check"]],
        [["check"]],
        [["build", "bad.yaml", "registry.yaml"]],
        [["build", "b.yaml", "same.yaml"]],
        [["check", "missing.yaml"]],
        [["build", "--out", "registry.yaml"]],
    ],
    ids=lambda steps: " ; ".join(" ".join(step) for step in steps),
)
def test_the_quick_path_and_typer_give_the_same_result(
    tmp_path: Path, steps: list[list[str]]
) -> None:
    outcomes = []
    for run in (regc, regc_typer):
        folder = tmp_path / run.__name__
        folder.mkdir()
        _prepare(folder)
        results = [run(*step, cwd=folder) for step in steps]
        outcomes.append(
            (
                [(r.returncode, r.stdout, r.stderr) for r in results],
                {path: file[:2] for path, file in snapshot(folder).items()},
            )
        )
    assert outcomes[0] == outcomes[1]


def test_a_hand_edit_is_reported_alike_by_both(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    assert regc("build", cwd=tmp_path).returncode == 0
    (tmp_path / "out/registry/verify.sh").write_text("#!/bin/sh\n")
    quick = regc("check", cwd=tmp_path)
    full = regc_typer("check", cwd=tmp_path)
    assert quick.returncode == full.returncode == 1
    assert (quick.stdout, quick.stderr) == (full.stdout, full.stderr)


def test_the_common_forms_do_not_load_typer(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    assert "typer" not in imported_modules("build", cwd=tmp_path)
    assert "typer" in imported_modules("build", "-v", cwd=tmp_path)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` in a fresh interpreter, which must succeed."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_build_looks_for_no_plugins_and_no_package_resources(
    tmp_path: Path,
) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    names = imported_module_names("build", cwd=tmp_path)
    assert "regc.spec" in names and "regc.render" in names
    assert "importlib.metadata" not in names
    assert "importlib.resources" not in names
    assert (tmp_path / "out" / "registry" / "registry" / "config.yml").is_file()


def test_pydantic_builds_the_models_with_no_plugins_in_place_of_its_loader() -> None:
    code = (
        "import sys\n"
        "from regc.entry import PLUGIN_LOADER, skip_pydantic_plugins\n"
        "skip_pydantic_plugins()\n"
        "from regc import spec\n"
        "from pydantic.plugin import _loader\n"
        "print(_loader.__doc__, list(_loader.get_plugins()))\n"
        "print(spec.Spec.__pydantic_complete__, 'importlib.metadata' in sys.modules)\n"
    )
    result = _python(code)
    no_plugins, built = result.stdout.splitlines()
    assert no_plugins == "No pydantic plugins (regc). []"
    assert built == "True False"


def test_a_plugin_loader_pydantic_already_has_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic.plugin import _loader

    # The switch it sets is restored after the test.
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")

    from regc import entry, spec

    assert spec.Spec.__pydantic_complete__
    before = sys.modules[entry.PLUGIN_LOADER]
    entry.skip_pydantic_plugins()
    assert sys.modules[entry.PLUGIN_LOADER] is before is _loader


def test_anything_else_asked_of_the_stand_in_comes_from_pydantics_loader() -> None:
    code = (
        "import sys\n"
        "from regc.entry import PLUGIN_LOADER, skip_pydantic_plugins\n"
        "skip_pydantic_plugins()\n"
        "from pydantic.plugin import _loader\n"
        "print(_loader.PYDANTIC_ENTRY_POINT_GROUP)\n"
        "print(sys.modules[PLUGIN_LOADER].__doc__ != _loader.__doc__)\n"
    )
    result = _python(code)
    assert result.stdout.splitlines() == ["pydantic", "True"]


def test_help_and_other_commands_still_work_through_typer(tmp_path: Path) -> None:
    result = regc("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "build" in result.stdout and "check" in result.stdout
    result = regc("check", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--full" in result.stdout


def test_an_internal_error_on_the_quick_path_exits_3_without_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    code = (
        "import sys, regc.pipeline as p\n"
        "p.render = lambda plan: 1 / 0\n"
        "from regc.entry import main\n"
        "sys.argv = ['regc', 'build']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert "internal error: ZeroDivisionError" in result.stderr
    assert "Traceback" not in result.stderr
