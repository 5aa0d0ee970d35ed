"""The command line contract: commands, exit statuses, diagnostics on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

MINIMAL = "registry:\n  server: 192.168.1.10\n"


def regc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed command line for real, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "regc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_build_defaults_to_registry_yaml_and_out(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    result = regc("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "registry" / "registry" / "config.yml").is_file()
    assert result.stdout == result.stderr == ""


def test_build_names_the_folder_after_the_spec_name_field(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("name: edge\n" + MINIMAL)
    result = regc("build", "x.yaml", "--out", "gen", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gen" / "edge" / "manifest.json").is_file()


def test_verbose_build_says_what_it_wrote_then_that_it_is_up_to_date(
    tmp_path: Path,
) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    first = regc("build", "-v", cwd=tmp_path)
    second = regc("build", "-v", cwd=tmp_path)
    assert "wrote out/registry/registry/config.yml" in first.stderr
    assert "up to date" in second.stderr
    assert "wrote" not in second.stderr


def test_invalid_spec_exits_1_with_positioned_errors_and_writes_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "registry.yaml").write_text(
        "registry:\n  server: 192.168.1.10\n  port: 70000\n  restart: sometimes\n"
    )
    result = regc("build", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "registry.yaml:3:9: error: registry.port: must be at most 65535",
        "registry.yaml:4:12: error: registry.restart: must be one of 'always', "
        "'unless-stopped', 'on-failure' or 'no', not 'sometimes'",
    ]
    assert not (tmp_path / "out").exists()


def test_errors_of_all_specs_are_reported_and_none_is_built(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("registry: {}\n")
    (tmp_path / "b.yaml").write_text(MINIMAL)
    (tmp_path / "c.yaml").write_text("registry:\n  server: h\n  prot: 1\n")
    result = regc("build", "a.yaml", "b.yaml", "c.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "a.yaml:1:11: error: registry: missing required field 'server'",
        "c.yaml:3:3: error: registry.prot: unknown field: did you mean 'port'?",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "missing.yaml"], "missing.yaml: no such spec file"),
        (["validate", "."], ".: is a folder, not a spec file"),
        (["build", "--no-such-flag"], "No such option: --no-such-flag"),
        (["build", "--out", "file.txt"], "exists and is not a folder"),
        (["build", "--out", "file.txt/out"], "not a folder"),
        # Not even root may create folders in /proc: an unwritable output.
        (["build", "--out", "/proc/regc-out"], "cannot write the output"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    (tmp_path / "file.txt").write_text("")
    result = regc(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_two_specs_with_one_name_are_refused_before_writing(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: same\n" + MINIMAL)
    (tmp_path / "b.yaml").write_text("name: same\n" + MINIMAL)
    result = regc("build", "a.yaml", "b.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "both compile to 'same'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_warnings_are_printed_and_the_build_succeeds(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text("registry:\n  server: 127.0.0.1\n")
    result = regc("build", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.startswith("registry.yaml:2:11: warning[RG101]: ")


def test_validate_writes_nothing_and_exits_0_for_a_valid_spec(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    result = regc("validate", cwd=tmp_path)
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.yaml"]


def test_an_internal_error_exits_3_without_a_traceback(tmp_path: Path) -> None:
    # A bug is simulated by breaking the renderer from inside the process.
    (tmp_path / "registry.yaml").write_text(MINIMAL)
    code = (
        "import sys, regc.render as r\n"
        "r.render = lambda plan: 1 / 0\n"
        "import regc.pipeline as p; p.render = r.render\n"
        "from regc.cli import main\n"
        "sys.argv = ['regc', 'build'] + sys.argv[1:]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *[]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3
    assert "internal error: ZeroDivisionError" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr

    debug = subprocess.run(
        [sys.executable, "-c", code, "--debug"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert debug.returncode == 3
    assert "Traceback" in debug.stderr


def test_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    result = regc("schema", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schemas/registry.schema.json").read_text()


def test_init_writes_a_starter_spec_that_builds(tmp_path: Path) -> None:
    assert regc("init", cwd=tmp_path).returncode == 0
    text = (tmp_path / "registry.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert regc("build", cwd=tmp_path).returncode == 0


def test_every_example_line_of_the_starter_spec_uncommented_builds(
    tmp_path: Path,
) -> None:
    assert regc("init", cwd=tmp_path).returncode == 0
    spec = tmp_path / "registry.yaml"
    text = re.sub(
        r"(?m)^( *)#( +)((?:- )?[a-z_]+:.*)$",
        lambda m: m.group(1) + m.group(2)[1:] + m.group(3),
        spec.read_text(),
    )
    assert re.search(r"(?m)^hosts:\n  - name: web ", text)
    assert re.search(r"(?m)^  tls: ", text)
    spec.write_text(text)
    result = regc("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # With TLS on, the hosts need no insecure-registry file at all.
    assert not (tmp_path / "out/registry/hosts/web/etc").exists()
    assert (tmp_path / "out/registry/registry/gc.sh").is_file()


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text("mine\n")
    result = regc("init", cwd=tmp_path)
    assert result.returncode == 2
    assert (tmp_path / "registry.yaml").read_text() == "mine\n"
    assert regc("init", "--force", cwd=tmp_path).returncode == 0


def test_version_is_printed() -> None:
    result = regc("--version", cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout.startswith("regc ")
