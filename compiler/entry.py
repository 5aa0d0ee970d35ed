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
import importlib
import os
import sys
import types
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


# pydantic's module that finds plugins, and what regc gives it instead.
PLUGIN_LOADER = "pydantic.plugin._loader"


def skip_pydantic_plugins() -> None:
    """Make pydantic build regc's models without looking for plugins.

    regc's models use no pydantic plugin, and one installed beside regc
    should not change how a spec validates.  The documented switch,
    PYDANTIC_DISABLE_PLUGINS, stops pydantic from loading plugins, but not
    from importing importlib.metadata to find them, a tenth of a build.  So
    regc also stands in for that module, with the one function pydantic
    calls on it, answering as the switch does: no plugins.  Where pydantic
    has already loaded it, it is left alone; should a later pydantic ask the
    stand-in for anything else, the real module is loaded and answers.
    """
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if PLUGIN_LOADER not in sys.modules:
        loader = types.ModuleType(PLUGIN_LOADER, "No pydantic plugins (regc).")
        loader.get_plugins = tuple  # type: ignore[attr-defined]
        loader.__getattr__ = _from_real_loader  # type: ignore[method-assign]
        sys.modules[PLUGIN_LOADER] = loader


def _from_real_loader(name: str) -> object:
    """``name`` of pydantic's own plugin loader, which replaces the stand-in."""
    if name.startswith("__"):
        raise AttributeError(name)
    sys.modules.pop(PLUGIN_LOADER, None)
    return getattr(importlib.import_module(PLUGIN_LOADER), name)


def main() -> None:
    """Run ``regc`` with the arguments it was given."""
    # Loading pydantic and jinja2 makes objects by the hundred thousand and
    # few cycles: collecting garbage every 700 allocations, as Python does by
    # default, costs a short-lived run ~5% for nothing.  mypy does the same.
    gc.set_threshold(GC_THRESHOLD)
    skip_pydantic_plugins()
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
