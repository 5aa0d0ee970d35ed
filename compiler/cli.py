"""The ``regc`` command line: the only place that prints or exits.

User errors are printed as diagnostics and mapped to the exit statuses of the
contract (1 invalid spec or differences, 2 usage); anything else is a bug in
regc and exits 3 with a short message, the traceback only under ``--debug``.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import __version__
from .diagnostics import Diagnostic, Severity, SpecError, UsageError, UserError

if TYPE_CHECKING:
    from .pipeline import Compiled

ISSUES_URL = "the regc issue tracker"
# Past this many, diagnostics are summarized: the first ones are enough to act.
MAX_DIAGNOSTICS = 50
DEFAULT_SPEC = Path("registry.yaml")

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

log = logging.getLogger("regc")


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("regc: %(message)s"))
    root = logging.getLogger("regc")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    shown = diagnostics[:MAX_DIAGNOSTICS]
    for diagnostic in shown:
        typer.echo(diagnostic.format(), err=True)
    if len(diagnostics) > len(shown):
        typer.echo(
            f"regc: ... and {len(diagnostics) - len(shown)} more problems", err=True
        )


def _run(action: Callable[[], int], debug: bool) -> None:
    """Run a command body, turning every outcome into an exit status."""
    try:
        status = action()
    except SpecError as exc:
        _print_diagnostics(exc.diagnostics)
        status = exc.exit_code
    except UserError as exc:
        typer.echo(f"regc: error: {exc}", err=True)
        status = exc.exit_code
    except KeyboardInterrupt:
        typer.echo("regc: interrupted", err=True)
        status = 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        typer.echo(
            f"regc: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in regc, not in your spec. Run the same command "
            f"with --debug for the traceback and report it to {ISSUES_URL}.",
            err=True,
        )
        status = 3
    raise typer.Exit(status)


def _specs(specs: list[Path] | None) -> list[Path]:
    return list(specs) if specs else [DEFAULT_SPEC]


def _compiled(specs: list[Path] | None) -> list[Compiled]:
    from .pipeline import compile_spec

    compiled: list[Compiled] = []
    problems: list[Diagnostic] = []
    for path in _specs(specs):
        try:
            result = compile_spec(path)
        except SpecError as exc:
            problems.extend(exc.diagnostics)
            continue
        problems.extend(result.checked.warnings)
        compiled.append(result)

    names: dict[str, Path] = {}
    for result in compiled:
        other = names.setdefault(result.name, result.checked.path)
        if other != result.checked.path:
            raise UsageError(
                f"{other} and {result.checked.path} both compile to '{result.name}': "
                "give one of them another `name:`"
            )
    if any(d.severity is Severity.ERROR for d in problems):
        raise SpecError(problems)
    _print_diagnostics(problems)
    return compiled


@app.command()
def build(
    specs: Specs = None,
    out: OutDir = Path("out"),
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Compile specs and write their artifacts to OUT/NAME/."""
    _setup_logging(verbose)

    def action() -> int:
        from .write import check_out_dir, write_artifacts

        compiled = _compiled(specs)
        check_out_dir(out)
        for result in compiled:
            try:
                outcome = write_artifacts(out, result.name, result.artifacts)
            except OSError as exc:
                where = exc.filename or out / result.name
                raise UsageError(
                    f"{where}: cannot write the output: {exc.strerror or exc}"
                ) from None
            for relative in outcome.foreign:
                log.warning(
                    "%s: not generated by regc; left in place",
                    out / result.name / relative,
                )
            if not outcome.changed:
                log.info("%s: up to date", out / result.name)
        return 0

    _run(action, debug)


@app.command()
def check(
    specs: Specs = None,
    out: OutDir = Path("out"),
    verbose: Verbose = False,
    debug: Debug = False,
) -> None:
    """Compile specs in memory and compare with OUT/NAME/; write nothing."""
    _setup_logging(verbose)

    def action() -> int:
        from .check import compare

        status = 0
        for result in _compiled(specs):
            target = out / result.name
            for difference in compare(target, result.artifacts):
                status = 1
                typer.echo(f"regc: {difference.describe(target)}", err=True)
                if difference.diff:
                    typer.echo(difference.diff, nl=False)
        return status

    _run(action, debug)


@app.command("validate")
def validate_command(
    specs: Specs = None, verbose: Verbose = False, debug: Debug = False
) -> None:
    """Load, validate and lint specs; write nothing."""
    _setup_logging(verbose)

    def action() -> int:
        from .pipeline import check_spec

        problems: list[Diagnostic] = []
        failed = False
        for path in _specs(specs):
            try:
                problems.extend(check_spec(path).warnings)
            except SpecError as exc:
                problems.extend(exc.diagnostics)
                failed = True
        _print_diagnostics(problems)
        return 1 if failed else 0

    _run(action, debug)


@app.command()
def schema(debug: Debug = False) -> None:
    """Print the spec's JSON Schema (draft-07)."""

    def action() -> int:
        from .schema import schema_text

        typer.echo(schema_text(), nl=False)
        return 0

    _run(action, debug)


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write the starter spec.")
    ] = DEFAULT_SPEC,
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

    _run(action, debug)


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
