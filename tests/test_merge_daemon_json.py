"""The generated apply/merge-daemon-json.py, run for real on daemon.json files.

Each case writes a daemon.json under tmp_path, runs the script as a Docker
host would (``sh merge-daemon-json.py``, or an interpreter on it), and reads
back the file's bytes, mode, inode and mtime.

Stock CentOS 7 has only Python 2.7.5. Debian bookworm packages no Python 2:
``apt-cache policy python2`` on this machine answers "Candidate: (none)". This
machine does have pyenv's 2.7.18, so every behaviour below also runs under a
real Python 2.7. Where none is found the Python 2.7 runs skip on a developer's
machine and fail under CI=true, as every missing tool does: this machine
image ships pyenv's 2.7.18. A syntax check that needs no Python 2 (no
f-strings, annotations or other Python-3-only syntax) always runs.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import py_compile
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from stat import S_IMODE

import pytest

from conftest import BuildSpec
from realtools import require_tool

SPEC = "registry:\n  server: 192.168.1.10\n"
ADDRESS = "192.168.1.10:5000"
SCRIPT = "apply/merge-daemon-json.py"
SCRIPT_TIMEOUT = 30.0
# What a created or merged file looks like: two-space indent, final newline.
CREATED = '{\n  "insecure-registries": [\n    "192.168.1.10:5000"\n  ]\n}\n'
# Where a Python 2.7 may be, besides PATH (pyenv shims on PATH can be dead ends).
PYTHON2_CANDIDATES = ("python2.7", "python2", "~/.pyenv/versions/2.7*/bin/python2.7")
# Syntax Python 2.7 does not have (besides annotations and raise ... from).
PYTHON3_ONLY_NODES = (
    ast.JoinedStr,
    ast.AnnAssign,
    ast.Nonlocal,
    ast.YieldFrom,
    ast.Await,
    ast.AsyncFunctionDef,
)
# Modules Python 2.7 does not have.
PYTHON3_ONLY_MODULES = frozenset(
    {"pathlib", "typing", "http", "urllib.request", "urllib.parse", "dataclasses"}
)


@dataclass(frozen=True)
class Snapshot:
    """What a run must leave alone when it changes nothing."""

    content: bytes
    mode: int
    inode: int
    mtime_ns: int


def snapshot(path: Path) -> Snapshot:
    status = path.stat()
    return Snapshot(
        path.read_bytes(), S_IMODE(status.st_mode), status.st_ino, status.st_mtime_ns
    )


def _is_python27(candidate: str) -> bool:
    try:
        result = subprocess.run(
            [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (2, 7))"],
            capture_output=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0


def find_python27() -> str | None:
    """A working Python 2.7 interpreter, or None."""
    for pattern in PYTHON2_CANDIDATES:
        if pattern.startswith("~"):
            found = sorted(glob.glob(os.path.expanduser(pattern)))
        else:
            found = [path] if (path := shutil.which(pattern)) else []
        for candidate in found:
            if _is_python27(candidate):
                return candidate
    return None


@pytest.fixture(scope="module")
def python27() -> str:
    path = find_python27()
    if path is None:
        message = "no Python 2.7 here (Debian bookworm packages none; pyenv's is used)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def script(build_spec: BuildSpec) -> Path:
    return build_spec(SPEC) / SCRIPT


@pytest.fixture(params=["sh", "python3", "python2.7"])
def launcher(request: pytest.FixtureRequest) -> list[str]:
    """How a host starts the script: through its sh launcher or an interpreter."""
    name: str = request.param
    if name == "python2.7":
        interpreter: str = request.getfixturevalue("python27")
        return [interpreter]
    return [require_tool(name)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An /etc/docker of its own, so that stray temporary files show."""
    path = tmp_path / "etc-docker"
    path.mkdir()
    return path


def run(
    launcher: list[str],
    script: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*launcher, str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def merge(
    launcher: list[str], script: Path, daemon_json: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return run(launcher, script, "--file", str(daemon_json), *args)


def _python3_only(tree: ast.AST) -> list[str]:
    """What Python 3.4's grammar and library allow but Python 2.7's do not."""
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, PYTHON3_ONLY_NODES):
            found.append(f"{type(node).__name__} on line {line}")
        elif isinstance(node, ast.Raise) and node.cause is not None:
            found.append(f"raise ... from on line {line}")
        elif isinstance(node, ast.FunctionDef):
            annotated = any(a.annotation is not None for a in node.args.args)
            if annotated or node.returns is not None or node.args.kwonlyargs:
                found.append(f"annotations or keyword-only arguments on {node.name}")
        elif isinstance(node, ast.Import):
            found.extend(f"import {a.name}" for a in node.names if _py3_module(a.name))
        elif isinstance(node, ast.ImportFrom) and _py3_module(node.module or ""):
            found.append(f"from {node.module} import")
    return found


def _py3_module(name: str) -> bool:
    return name in PYTHON3_ONLY_MODULES or name.split(".")[0] in PYTHON3_ONLY_MODULES


# The generated file itself.


def test_the_script_compiles_as_python_3(script: Path, tmp_path: Path) -> None:
    py_compile.compile(str(script), cfile=str(tmp_path / "x.pyc"), doraise=True)


def test_the_script_uses_no_syntax_or_module_python_2_lacks(script: Path) -> None:
    # A proxy for running it under Python 2.7, for machines that have none:
    # the oldest grammar ast still parses, then what 2.7 lacks of it.
    text = script.read_text("utf-8")
    tree = ast.parse(text, feature_version=(3, 4))

    assert _python3_only(tree) == []
    assert "from __future__ import print_function, unicode_literals" in text


def test_the_launcher_lines_parse_as_sh(script: Path, tmp_path: Path) -> None:
    # sh runs no further than the exec on line 2; the rest is never parsed by
    # it (line 3, the generated-by comment, is included as a check of that).
    head = tmp_path / "head.sh"
    head.write_text("".join(script.read_text("utf-8").splitlines(True)[:3]), "utf-8")
    for shell in ("sh", "dash", "bash"):
        if shutil.which(shell) is None:
            continue
        result = subprocess.run(
            [shell, "-n", str(head)],
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
        assert (shell, result.returncode, result.stderr) == (shell, 0, "")


def test_the_generated_by_line_follows_the_launcher_lines(script: Path) -> None:
    lines = script.read_text("utf-8").splitlines()
    assert lines[0] == "#!/bin/sh"
    assert lines[1].startswith("''''command -v python3 ")
    assert lines[2].startswith("# Generated by regc from registry.yaml. Do not edit")


def test_the_script_is_executable_and_runs_by_its_shebang(
    script: Path, folder: Path
) -> None:
    assert S_IMODE(script.stat().st_mode) == 0o755
    result = run([], script, "--file", str(folder / "daemon.json"))
    assert result.returncode == 0, result.stderr
    assert (folder / "daemon.json").read_text("utf-8") == CREATED


# Launching.


def _recording_interpreter(bin_dir: Path, name: str, real: str, log: Path) -> None:
    """An interpreter on PATH that notes its name before running the real one."""
    wrapper = bin_dir / name
    wrapper.write_text(f'#!/bin/sh\necho {name} >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)


def _sh_with_path(
    script: Path, bin_dir: Path, daemon_json: Path
) -> subprocess.CompletedProcess[str]:
    sh = require_tool("sh")
    return run([sh], script, "--file", str(daemon_json), env={"PATH": str(bin_dir)})


def test_sh_starts_python3_where_there_is_one(
    script: Path, folder: Path, tmp_path: Path
) -> None:
    python3 = sys.executable
    bin_dir, log = tmp_path / "bin", tmp_path / "chosen"
    bin_dir.mkdir()
    _recording_interpreter(bin_dir, "python3", python3, log)
    _recording_interpreter(bin_dir, "python", python3, log)

    result = _sh_with_path(script, bin_dir, folder / "daemon.json")

    assert result.returncode == 0, result.stderr
    assert log.read_text() == "python3\n"
    assert (folder / "daemon.json").read_text("utf-8") == CREATED


def test_sh_falls_back_to_python_where_there_is_no_python3(
    script: Path, folder: Path, tmp_path: Path
) -> None:
    # As on stock CentOS 7, whose only interpreter is Python 2.7's "python";
    # Python 3 stands in for it where there is no Python 2.7 here. (The
    # wrappers run real interpreters by path: pyenv's shims need its PATH.)
    real = find_python27() or sys.executable
    bin_dir, log = tmp_path / "bin", tmp_path / "chosen"
    bin_dir.mkdir()
    _recording_interpreter(bin_dir, "python", real, log)

    result = _sh_with_path(script, bin_dir, folder / "daemon.json")

    assert result.returncode == 0, result.stderr
    assert log.read_text() == "python\n"
    assert (folder / "daemon.json").read_text("utf-8") == CREATED


# Merging.


def test_a_missing_file_is_created_with_only_the_registry(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    assert daemon_json.read_text("utf-8") == CREATED
    assert S_IMODE(daemon_json.stat().st_mode) == 0o644
    assert ADDRESS in result.stdout
    assert "systemctl reload docker" in result.stdout
    assert sorted(os.listdir(folder)) == ["daemon.json"]


@pytest.mark.parametrize("content", ["", "   \n\t\n"], ids=["empty", "whitespace"])
def test_an_empty_file_is_an_empty_object(
    launcher: list[str], script: Path, folder: Path, content: str
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text(content)

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    assert daemon_json.read_text("utf-8") == CREATED


def test_other_keys_and_the_owners_registries_are_kept_in_their_order(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    owner = {
        "storage-driver": "overlay2",
        "insecure-registries": ["10.0.0.0/8", "old.example.com:5000"],
        "log-opts": {"max-size": "10m", "labels": "région"},
        "debug": False,
        "max-concurrent-downloads": 3,
    }
    daemon_json.write_text(json.dumps(owner), "utf-8")

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    text = daemon_json.read_text("utf-8")
    merged = json.loads(text)
    assert list(merged) == list(owner)
    assert merged["insecure-registries"] == [
        "10.0.0.0/8",
        "old.example.com:5000",
        ADDRESS,
    ]
    assert {k: v for k, v in merged.items() if k != "insecure-registries"} == {
        k: v for k, v in owner.items() if k != "insecure-registries"
    }
    # Written as UTF-8, not escaped; two-space indent; one final newline.
    assert '"labels": "région"' in text
    assert text.startswith('{\n  "storage-driver": "overlay2",\n')
    assert text.endswith("}\n") and not text.endswith("\n\n")


def test_a_second_run_changes_nothing(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text('{"debug": true}')
    assert merge(launcher, script, daemon_json).returncode == 0
    before = snapshot(daemon_json)

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    assert "already present" in result.stdout
    assert snapshot(daemon_json) == before


def test_a_file_that_already_lists_the_registry_is_not_rewritten(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    # The owner's own layout, which a rewrite would change.
    daemon_json.write_text('{"insecure-registries":["192.168.1.10:5000"],"x":1}')
    before = snapshot(daemon_json)

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    assert "already present" in result.stdout
    assert snapshot(daemon_json) == before


def test_matching_is_exact_so_the_host_alone_does_not_count(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text('{"insecure-registries": ["192.168.1.10"]}')

    assert merge(launcher, script, daemon_json).returncode == 0

    assert json.loads(daemon_json.read_text())["insecure-registries"] == [
        "192.168.1.10",
        ADDRESS,
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{\n  // commented\n  "debug": true\n}\n', "not valid JSON"),
        ('{"debug": true,}', "not valid JSON"),
        ('{"debug": true', "not valid JSON"),
        ('["192.168.1.10:5000"]', "holds a list, not a JSON object"),
        ('"text"', "not a JSON object"),
        ('{"insecure-registries": "192.168.1.10:5000"}', "not a list of strings"),
        ('{"insecure-registries": null}', "not a list of strings"),
        ('{"insecure-registries": ["a:1", 5]}', "holds a number (5)"),
        ('{"debug": true, "debug": false}', 'the key "debug" appears twice'),
        ('{"max-size": NaN}', "NaN is not JSON"),
        ('{"shutdown-timeout": 1e400}', "the number 1e400 is too large"),
    ],
    ids=[
        "comment",
        "trailing-comma",
        "truncated",
        "array",
        "string",
        "registries-string",
        "registries-null",
        "registries-number",
        "duplicate-key",
        "nan",
        "overflowing-number",
    ],
)
def test_a_file_that_cannot_be_merged_safely_is_left_exactly_as_it_was(
    launcher: list[str], script: Path, folder: Path, content: str, problem: str
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text(content)
    before = snapshot(daemon_json)

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"merge-daemon-json: error: {daemon_json}: ")
    assert problem in line
    assert "the file was not changed" in line
    assert snapshot(daemon_json) == before
    assert sorted(os.listdir(folder)) == ["daemon.json"]


def test_a_file_that_is_not_utf8_is_left_as_it_was(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_bytes(b'{"labels": "r\xe9gion"}')
    before = snapshot(daemon_json)

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 1
    assert "not UTF-8" in result.stderr
    assert snapshot(daemon_json) == before


def test_the_misspelt_singular_key_draws_a_warning_and_is_left_alone(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text('{"insecure-registry": ["old:5000"]}')

    result = merge(launcher, script, daemon_json)

    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr
    assert '"insecure-registry" (singular)' in result.stderr
    assert json.loads(daemon_json.read_text()) == {
        "insecure-registry": ["old:5000"],
        "insecure-registries": [ADDRESS],
    }


def test_dry_run_prints_the_result_and_writes_nothing(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text('{"debug": true}')
    before = snapshot(daemon_json)

    result = merge(launcher, script, daemon_json, "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    assert f'"{ADDRESS}"' in result.stdout
    assert snapshot(daemon_json) == before
    assert sorted(os.listdir(folder)) == ["daemon.json"]


def test_dry_run_creates_no_missing_file(
    launcher: list[str], script: Path, folder: Path
) -> None:
    result = merge(launcher, script, folder / "daemon.json", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert os.listdir(folder) == []


def test_the_files_mode_is_kept(
    launcher: list[str], script: Path, folder: Path
) -> None:
    daemon_json = folder / "daemon.json"
    daemon_json.write_text("{}")
    daemon_json.chmod(0o600)

    assert merge(launcher, script, daemon_json).returncode == 0

    assert S_IMODE(daemon_json.stat().st_mode) == 0o600
    assert daemon_json.read_text("utf-8") == CREATED


def test_a_symlinked_file_is_merged_where_it_points(
    launcher: list[str], script: Path, folder: Path, tmp_path: Path
) -> None:
    real = tmp_path / "managed-daemon.json"
    real.write_text("{}")
    link = folder / "daemon.json"
    link.symlink_to(real)

    assert merge(launcher, script, link).returncode == 0

    assert link.is_symlink()
    assert real.read_text("utf-8") == CREATED


def test_a_missing_docker_folder_is_reported_and_not_created(
    launcher: list[str], script: Path, tmp_path: Path
) -> None:
    result = merge(launcher, script, tmp_path / "no-docker" / "daemon.json")

    assert result.returncode == 1
    assert "is Docker installed?" in result.stderr
    assert not (tmp_path / "no-docker").exists()


def test_an_unknown_option_is_a_usage_error(launcher: list[str], script: Path) -> None:
    result = run(launcher, script, "--force")

    assert result.returncode == 2
    assert "usage: merge-daemon-json" in result.stderr


def test_the_python_2_check_can_fail() -> None:
    tree = ast.parse(
        'import pathlib\ndef f(x: int) -> None:\n    print(f"{x}")\n',
        feature_version=(3, 6),
    )

    assert len(_python3_only(tree)) == 3
