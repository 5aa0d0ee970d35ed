"""Run regc's command line for real, as users do, from the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["MINIMAL", "imported_modules", "regc", "regc_typer", "snapshot"]

MINIMAL = "registry:\n  server: 192.168.1.10\n"
# Seconds for one run; a run takes well under one.
TIMEOUT = 120


def regc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m regc ARGS`` in ``cwd``: the quick path where it applies."""
    return subprocess.run(
        [sys.executable, "-m", "regc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def regc_typer(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The same command line read by typer only, as ``regc.cli.main`` does."""
    code = "import sys\nfrom regc.cli import main\nsys.argv[0] = 'regc'\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def imported_modules(*args: str, cwd: Path) -> set[str]:
    """The top-level packages ``python -m regc ARGS`` imports."""
    return {name.split(".")[0] for name in imported_module_names(*args, cwd=cwd)}


def imported_module_names(*args: str, cwd: Path) -> set[str]:
    """The dotted names of every module ``python -m regc ARGS`` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "regc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under ``folder``: content, mode and modification time."""
    return {
        path.relative_to(folder).as_posix(): (
            path.read_bytes(),
            path.stat().st_mode & 0o7777,
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
