"""The ``regc`` program: its common commands without loading typer.

Loading typer and building its command line costs more than checking an
unchanged tree.  So the forms that pre-commit, CI and people run all day,
``regc build`` and ``regc check`` with spec files and ``--out DIR``, are
read here; anything else (another command, any other option, help, a
malformed line) goes to the typer application in ``regc.cli``, which gives
the same result for these forms too.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

QUICK_COMMANDS = ("build", "check")
# Allocations between collections of the youngest generation (default 700).
GC_THRESHOLD = 100_000
OUT_OPTIONS = ("--out", "-o")


def parse(args: Sequence[str]) -> tuple[str, list[Path], Path | None] | None:
    """(command, specs, out) if ``args`` are a common form, else None.

    The grammar is a strict subset of what typer accepts, with the same
    meaning: ``build|check [SPEC | --out DIR | --out=DIR | -o DIR]...``, the
    output folder given at most once, no value starting with '-'.
    """
    if not args or args[0] not in QUICK_COMMANDS:
        return None
    specs: list[Path] = []
    out: str | None = None
    rest = iter(args[1:])
    for arg in rest:
        if arg in OUT_OPTIONS or arg.startswith("--out="):
            value = arg.partition("=")[2] if "=" in arg else next(rest, "")
            if out is not None or not value or value.startswith("-"):
                return None
            out = value
        elif not arg or arg.startswith("-"):
            return None
        else:
            specs.append(Path(arg))
    return args[0], specs, Path(out) if out is not None else None


def main() -> None:
    """Run ``regc`` with the arguments it was given."""
    # Loading pydantic and jinja2 makes objects by the hundred thousand and
    # few cycles: collecting garbage every 700 allocations, as Python does by
    # default, costs a short-lived run ~5% for nothing.  mypy does the same.
    gc.set_threshold(GC_THRESHOLD)
    # regc's models use no pydantic plugin, and one installed beside regc
    # should not change how a spec validates; looking for plugins means
    # reading the metadata of every installed package, on every run.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    request = parse(sys.argv[1:])
    if request is None:
        from . import cli

        cli.main()
        return

    from . import commands

    command, specs, out = request
    commands.setup_logging(verbose=False)
    body = commands.quick_check if command == "check" else commands.build
    paths = commands.specs_or_default(specs)
    folder = out or commands.DEFAULT_OUT
    _exit(commands.run(lambda: body(paths, folder), debug=False))


def _exit(status: int) -> NoReturn:
    # Tearing down the interpreter frees every object pydantic and jinja2
    # made, a tenth of a build's time, for a process that is done anyway.
    # Nothing regc runs needs atexit: pools and files are closed by now.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
