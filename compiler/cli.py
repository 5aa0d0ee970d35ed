"""The ``regc`` command line, read by typer.

The commands themselves, and the mapping of every outcome to the exit
statuses of the contract, live in ``commands``; ``entry`` reads the common
forms of ``build`` and ``check`` without typer and sends the rest here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import __version__, commands
from .diagnostics import UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    help="Compile registry.yaml into every file a Humpback private registry needs.",
)

Specs = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Spec files (default: registry.yaml).",
        show_default=False,
        dir_okay=True,
        # regc says itself, in one line, why a spec cannot be read.
        readable=False,
    ),
]
OutDir = Annotated[
    Path, typer.Option("--out", "-o", help="Output folder; artifacts go to OUT/NAME/.")
]
Debug = Annotated[
    bool, typer.Option("--debug", help="Show the traceback of an internal error.")
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say what was written and skipped.")
]


@app.command()
def build(
    specs: Specs = None,
    out: OutDir = commands.DEFAULT_OUT,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Compile specs and write their artifacts to OUT/NAME/."""
    commands.setup_logging(verbose)
    paths = commands.specs_or_default(specs)
    raise typer.Exit(commands.run(lambda: commands.build(paths, out), debug))


@app.command()
def check(
    specs: Specs = None,
    out: OutDir = commands.DEFAULT_OUT,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help=(
                "Compile even when the manifests prove the output current "
                "(they are trusted not to be edited by hand)."
            ),
        ),
    ] = False,
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Compile specs in memory and compare with OUT/NAME/; write nothing."""
    commands.setup_logging(verbose)
    paths = commands.specs_or_default(specs)
    body = commands.check if full else commands.quick_check
    raise typer.Exit(commands.run(lambda: body(paths, out), debug))


@app.command("validate")
def validate_command(
    specs: Specs = None, verbose: Verbose = False, debug: Debug = False
) -> None:
    """Load, validate and lint specs; write nothing."""
    commands.setup_logging(verbose)
    paths = commands.specs_or_default(specs)
    raise typer.Exit(commands.run(lambda: commands.validate(paths), debug))


@app.command()
def schema(debug: Debug = False) -> None:
    """Print the spec's JSON Schema (draft-07)."""

    def action() -> int:
        from .schema import schema_text

        typer.echo(schema_text(), nl=False)
        return 0

    raise typer.Exit(commands.run(action, debug))


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write the starter spec.")
    ] = commands.DEFAULT_SPEC,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing file.")
    ] = False,
    debug: Debug = False,
) -> None:
    """Write a commented starter spec."""

    def action() -> int:
        from .starter import starter_spec

        if path.exists() and not force:
            raise UsageError(f"{path}: already exists; use --force to overwrite it")
        try:
            path.write_text(starter_spec(), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
        typer.echo(
            f"regc: wrote {path}; edit registry.server, then run: regc build {path}"
        )
        return 0

    raise typer.Exit(commands.run(action, debug))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"regc {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Compile registry.yaml into every file a Humpback private registry needs."""


def main() -> None:
    app()
