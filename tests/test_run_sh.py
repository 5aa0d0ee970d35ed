"""The generated registry/run.sh, run by sh against a test double of docker.

There is no Docker engine on this machine, so a fake ``docker`` first on PATH
stands in for the CLI: it records each call's argv as one JSON line and exits
as the real CLI would (``rm -f`` succeeds only when told that the container
exists). Everything else run.sh does, installing config.yml and creating the
data directory, happens for real under the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BuildSpec
from realtools import require_tool

SCRIPT_TIMEOUT = 30.0
# Where each image major version reads its config inside the container.
CONFIG_IN_CONTAINER = {
    "registry:2.5.1": "/etc/docker/registry/config.yml",
    "registry:3.0.0": "/etc/distribution/config.yml",
}

# The fake docker CLI: logs argv, then exits as the environment says.
FAKE_DOCKER = """\
#!{python}
import json, os, sys

args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
command = args[0] if args else ""
if command == os.environ.get("FAKE_DOCKER_FAIL"):
    print(f"fake docker: {{command}} failed", file=sys.stderr)
    sys.exit(1)
if command == "rm":
    sys.exit(0 if os.environ.get("FAKE_DOCKER_CONTAINER_EXISTS") == "1" else 1)
if command == "pull":
    sys.exit(0)
if command == "run":
    print("0123456789ab")
    sys.exit(0)
print(f"fake docker: unexpected command {{command!r}}", file=sys.stderr)
sys.exit(2)
"""


@dataclass(frozen=True)
class Setup:
    """A built spec whose host paths all lie under the test's tmp_path."""

    run_sh: Path
    config_yml: Path
    config_path: Path
    data_dir: Path


@dataclass(frozen=True)
class Outcome:
    """How run.sh ended and what it asked docker to do."""

    result: subprocess.CompletedProcess[str]
    calls: list[list[str]]


MakeSetup = Callable[..., Setup]
RunSh = Callable[..., Outcome]


@pytest.fixture
def make_setup(tmp_path: Path, build_spec: BuildSpec) -> MakeSetup:
    """Build a spec with data_dir and config_path under tmp_path."""

    def make(
        *,
        image: str = "registry:2.5.1",
        container_name: str = "registry",
        restart: str = "always",
        port: int = 5000,
        data_dir: str = "data",
    ) -> Setup:
        host_data = tmp_path / "host" / data_dir
        config_path = tmp_path / "host" / "etc" / "registry" / "config.yml"
        out = build_spec(
            "registry:\n"
            "  server: 192.168.1.10\n"
            f"  port: {port}\n"
            f"  image: {image}\n"
            f"  container_name: {container_name}\n"
            f"  restart: '{restart}'\n"
            f"  data_dir: {host_data}\n"
            f"  config_path: {config_path}\n"
        )
        return Setup(
            run_sh=out / "registry" / "run.sh",
            config_yml=out / "registry" / "config.yml",
            config_path=config_path,
            data_dir=host_data,
        )

    return make


@pytest.fixture
def run_sh(tmp_path: Path) -> RunSh:
    """Run ``sh run.sh`` with the fake docker first on PATH."""
    shell = require_tool("sh")
    for tool in ("dirname", "mkdir", "cmp", "cp", "mv"):
        require_tool(tool)
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
    docker.chmod(0o755)
    log = tmp_path / "docker-calls.jsonl"

    def run(script: Path, *, container_exists: bool = False, fail: str = "") -> Outcome:
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "FAKE_DOCKER_LOG": str(log),
            "FAKE_DOCKER_CONTAINER_EXISTS": "1" if container_exists else "0",
            "FAKE_DOCKER_FAIL": fail,
        }
        log.unlink(missing_ok=True)
        result = subprocess.run(
            [shell, str(script)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
        return Outcome(result, _calls(log))

    return run


def _calls(log: Path) -> list[list[str]]:
    """The argv of each docker call, in order; none when the log is absent."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _run_call(setup: Setup, *, name: str, image: str, policy: str) -> list[str]:
    """The ``docker run`` argv the Humpback guide gives, for ``setup``."""
    return [
        "run",
        "-d",
        "--name",
        name,
        f"--restart={policy}",
        "-p",
        "5000:5000",
        "-v",
        f"{setup.data_dir}:/var/lib/registry",
        "-v",
        f"{setup.config_path}:{CONFIG_IN_CONTAINER[image]}:ro",
        image,
    ]


@pytest.mark.parametrize("image", sorted(CONFIG_IN_CONTAINER))
def test_new_container_is_pulled_and_run(
    make_setup: MakeSetup, run_sh: RunSh, image: str
) -> None:
    """Without an old container: pull, rm -f (fails quietly), run as the guide."""
    setup = make_setup(image=image)
    outcome = run_sh(setup.run_sh, container_exists=False)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert outcome.calls == [
        ["pull", image],
        ["rm", "-f", "registry"],
        _run_call(setup, name="registry", image=image, policy="always"),
    ]
    assert "removed" not in outcome.result.stdout


@pytest.mark.parametrize("image", sorted(CONFIG_IN_CONTAINER))
def test_existing_container_is_removed_before_run(
    make_setup: MakeSetup, run_sh: RunSh, image: str
) -> None:
    """With an old container of the same name: pull, rm -f, then run."""
    setup = make_setup(image=image)
    outcome = run_sh(setup.run_sh, container_exists=True)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert outcome.calls == [
        ["pull", image],
        ["rm", "-f", "registry"],
        _run_call(setup, name="registry", image=image, policy="always"),
    ]
    assert "removed the existing container registry" in outcome.result.stdout


def test_port_and_policy_reach_docker_run(make_setup: MakeSetup, run_sh: RunSh) -> None:
    """registry.port is published on 5000 and restart 'no' stays the word 'no'."""
    setup = make_setup(port=15000, restart="no")
    outcome = run_sh(setup.run_sh)
    assert outcome.result.returncode == 0, outcome.result.stderr
    run_call = outcome.calls[-1]
    assert run_call[run_call.index("-p") + 1] == "15000:5000"
    assert "--restart=no" in run_call


def test_special_characters_reach_docker_as_one_word(
    make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """Names and paths with '.', '_', '-', '+' and '@' arrive verbatim, unsplit."""
    name = "reg.istry_1-a"
    setup = make_setup(
        container_name=name, data_dir="d+a@t.a_1-x", restart="unless-stopped"
    )
    outcome = run_sh(setup.run_sh, container_exists=True)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert outcome.calls == [
        ["pull", "registry:2.5.1"],
        ["rm", "-f", name],
        _run_call(setup, name=name, image="registry:2.5.1", policy="unless-stopped"),
    ]
    assert setup.data_dir.is_dir()


def test_config_is_installed_byte_for_byte(
    make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """config.yml beside run.sh is copied to config_path unchanged."""
    setup = make_setup()
    outcome = run_sh(setup.run_sh)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert setup.config_path.read_bytes() == setup.config_yml.read_bytes()
    assert f"installed {setup.config_path}" in outcome.result.stdout
    leftovers = [p.name for p in setup.config_path.parent.iterdir()]
    assert leftovers == ["config.yml"]


def test_data_dir_is_created(make_setup: MakeSetup, run_sh: RunSh) -> None:
    """The host data directory exists after a run."""
    setup = make_setup()
    assert not setup.data_dir.exists()
    outcome = run_sh(setup.run_sh)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert setup.data_dir.is_dir()


def test_unchanged_config_is_not_rewritten(
    make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """A second run with the same config.yml leaves config_path untouched."""
    setup = make_setup()
    assert run_sh(setup.run_sh).result.returncode == 0
    before = setup.config_path.stat()
    outcome = run_sh(setup.run_sh)
    assert outcome.result.returncode == 0, outcome.result.stderr
    after = setup.config_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert "installed" not in outcome.result.stdout


def test_changed_config_is_replaced(make_setup: MakeSetup, run_sh: RunSh) -> None:
    """A config_path edited by hand is replaced by the generated config.yml."""
    setup = make_setup()
    setup.config_path.parent.mkdir(parents=True)
    setup.config_path.write_text("version: 0.1\n# edited by hand\n", encoding="utf-8")
    outcome = run_sh(setup.run_sh)
    assert outcome.result.returncode == 0, outcome.result.stderr
    assert setup.config_path.read_bytes() == setup.config_yml.read_bytes()


def test_run_sh_alone_refuses_without_config(
    tmp_path: Path, make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """run.sh copied without config.yml exits 1, names the file, and does nothing."""
    setup = make_setup()
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy2(setup.run_sh, alone / "run.sh")
    outcome = run_sh(alone / "run.sh")
    assert outcome.result.returncode == 1
    assert f"{alone}/config.yml is missing" in outcome.result.stderr
    assert "copy the whole registry/ folder" in outcome.result.stderr
    assert outcome.calls == []
    assert not setup.data_dir.exists()
    assert not setup.config_path.exists()


def test_failed_pull_stops_before_touching_the_container(
    make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """If docker pull fails, run.sh exits non-zero with no rm or run."""
    setup = make_setup()
    outcome = run_sh(setup.run_sh, container_exists=True, fail="pull")
    assert outcome.result.returncode != 0
    assert outcome.calls == [["pull", "registry:2.5.1"]]
    assert "pull failed" in outcome.result.stderr


def test_failed_run_is_not_reported_as_running(
    make_setup: MakeSetup, run_sh: RunSh
) -> None:
    """If docker run fails, run.sh exits non-zero and never says it is running."""
    setup = make_setup()
    outcome = run_sh(setup.run_sh, fail="run")
    assert outcome.result.returncode != 0
    assert outcome.calls[-1][0] == "run"
    assert "is running" not in outcome.result.stdout
