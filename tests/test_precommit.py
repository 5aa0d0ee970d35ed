"""The regc-check hook of .pre-commit-hooks.yaml, run by the real pre-commit.

A scratch configuration repository uses this checkout as its hook repository,
as users use regc's: pre-commit clones it at a commit and installs it into a
virtualenv with pip (which needs PyPI), then runs the hook on `git commit`.
The checkout's working tree is committed to a scratch hook repository first,
so that the code under test is the code in front of you, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from commandline import MINIMAL, regc
from conftest import ROOT
from realtools import require_tool

# What `pip install` of regc needs, and the hook definitions.
HOOK_REPO_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
HOOK_REPO_FOLDERS = ("compiler", "targets", "schemas")
# Seconds: the first commit builds the hook's virtualenv with pip.
FIRST_COMMIT_TIMEOUT = 900
COMMIT_TIMEOUT = 120
DAEMON_JSON = "out/registry/hosts/daemon-json/etc/docker/daemon.json"


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMIT_TIMEOUT,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def git_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    require_tool("git")
    home = tmp_path_factory.mktemp("home")
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "regc tests",
        "GIT_AUTHOR_EMAIL": "tests@regc.invalid",
        "GIT_COMMITTER_NAME": "regc tests",
        "GIT_COMMITTER_EMAIL": "tests@regc.invalid",
        # Hook environments are built here, not in the user's cache.
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home")),
        # pip's own cache is kept: it only saves downloads.
        "PIP_CACHE_DIR": os.environ.get(
            "PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")
        ),
        # A commit must not wait for a terminal.
        "GIT_TERMINAL_PROMPT": "0",
    }


@pytest.fixture(scope="module")
def hook_repo(
    tmp_path_factory: pytest.TempPathFactory, git_env: dict[str, str]
) -> tuple[Path, str]:
    """This checkout's working tree as a git repository, and its commit."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_REPO_FILES:
        shutil.copy2(ROOT / name, repo / name)
    for name in HOOK_REPO_FOLDERS:
        shutil.copytree(
            ROOT / name,
            repo / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    _git("init", "-q", cwd=repo, env=git_env)
    _git("add", "-A", cwd=repo, env=git_env)
    _git("commit", "-q", "-m", "regc under test", cwd=repo, env=git_env)
    return repo, _git("rev-parse", "HEAD", cwd=repo, env=git_env).strip()


def _commit(
    repo: Path, env: dict[str, str], message: str, timeout: float = COMMIT_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    _git("add", "-A", cwd=repo, env=env)
    return subprocess.run(
        ["git", "commit", "-m", message],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# The shipped hook as it is, and with the entry README.md gives for a glob.
CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: regc-check
      - id: regc-check
        name: regc check specs
        entry: sh -c 'exec regc check specs/*.yaml'
"""


def test_the_hook_passes_a_current_commit_and_stops_a_hand_edit(
    tmp_path: Path, hook_repo: tuple[Path, str], git_env: dict[str, str]
) -> None:
    hooks, rev = hook_repo
    repo = tmp_path / "config-repo"
    (repo / "specs").mkdir(parents=True)
    _git("init", "-q", cwd=repo, env=git_env)
    (repo / "registry.yaml").write_text(MINIMAL)
    (repo / "specs/edge.yaml").write_text(MINIMAL)
    (repo / "specs/hub.yaml").write_text(MINIMAL)
    (repo / ".pre-commit-config.yaml").write_text(CONFIG.format(repo=hooks, rev=rev))
    assert regc("build", cwd=repo).returncode == 0
    assert regc("build", "specs/edge.yaml", "specs/hub.yaml", cwd=repo).returncode == 0
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=repo,
        env=git_env,
        capture_output=True,
        text=True,
        timeout=COMMIT_TIMEOUT,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr

    first = _commit(repo, git_env, "registry", timeout=FIRST_COMMIT_TIMEOUT)
    assert first.returncode == 0, first.stdout + first.stderr
    assert _verdicts(first) == {"regc check": "Passed", "regc check specs": "Passed"}

    (repo / DAEMON_JSON).write_text('{"insecure-registries": []}\n')
    edited = _commit(repo, git_env, "hand edit")
    assert edited.returncode != 0
    assert _verdicts(edited) == {"regc check": "Failed", "regc check specs": "Passed"}
    assert f"regc: {DAEMON_JSON}: edited by hand since the last build" in (
        edited.stderr
    )
    assert '-{"insecure-registries": []}' in edited.stderr
    log = _git("log", "--format=%s", cwd=repo, env=git_env)
    assert log.splitlines() == ["registry"]

    _git("checkout", "HEAD", "--", "out", cwd=repo, env=git_env)
    (repo / "specs/hub.yaml").write_text(MINIMAL + "  port: 5001\n")
    stale = _commit(repo, git_env, "new port, not built")
    assert _verdicts(stale) == {"regc check": "Passed", "regc check specs": "Failed"}
    assert "out/hub/verify.sh: out of date, the spec changed" in stale.stderr

    assert regc("build", "specs/hub.yaml", cwd=repo).returncode == 0
    rebuilt = _commit(repo, git_env, "new port")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

    # A commit that only deletes a generated file: pre-commit lists no
    # deleted file, so only a hook that always runs can stop it.
    _git("rm", "-q", "out/registry/verify.sh", cwd=repo, env=git_env)
    deleted = _commit(repo, git_env, "delete verify.sh")
    assert deleted.returncode != 0
    assert _verdicts(deleted)["regc check"] == "Failed"
    assert "out/registry/verify.sh: missing" in deleted.stderr


def _verdicts(commit: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Each hook's name and verdict in pre-commit's report of a commit."""
    verdicts = {}
    for line in commit.stderr.splitlines():
        name, dots, verdict = line.partition("....")
        if dots:
            verdicts[name] = verdict.strip(".")
    return verdicts
