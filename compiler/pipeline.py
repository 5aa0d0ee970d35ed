"""The compiler's stages, joined: spec file in, artifacts out (in memory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import values
from .diagnostics import Diagnostic, Position, Severity, SpecError, UsageError
from .lint import lint
from .load import Document, load
from .render import Artifact, render
from .resolve import resolve
from .salvage import lint_salvaged
from .spec import Spec
from .validate import validate


@dataclass
class Checked:
    """A spec that loaded, validated and linted without errors."""

    path: Path
    document: Document
    spec: Spec
    name: str
    warnings: list[Diagnostic]


@dataclass
class Compiled:
    """One spec compiled to its artifacts, nothing written."""

    checked: Checked
    artifacts: list[Artifact]

    @property
    def name(self) -> str:
        return self.checked.name


def _name(spec: Spec, document: Document, path: Path) -> str:
    if spec.name is not None:
        return spec.name
    if re.fullmatch(values.NAME_PATTERN, path.stem):
        return path.stem
    raise SpecError(
        [
            Diagnostic(
                document.file,
                Position(1, 1),
                Severity.ERROR,
                f"the file name '{path.stem}' cannot name the output folder: "
                "add `name:` with lower-case letters, digits and '-'",
            )
        ]
    )


def check_spec(path: Path) -> Checked:
    """Load, validate and lint; raises ``SpecError`` or ``UsageError``."""
    file = str(path)
    if path.is_dir():
        raise UsageError(f"{file}: is a folder, not a spec file")
    try:
        document = load(path, file, keep_going=True)
    except FileNotFoundError:
        raise UsageError(f"{file}: no such spec file") from None
    except OSError as exc:
        raise UsageError(f"{file}: cannot read the spec: {exc.strerror}") from None

    try:
        spec = validate(document)
    except SpecError as exc:
        # The cross-field rules whose values did validate, in the same run.
        more = [d for d in lint_salvaged(document) if d not in exc.diagnostics]
        # A stable sort of a fixed order: the same spec, the same output.
        raise SpecError(
            sorted([*exc.diagnostics, *more], key=Diagnostic.sort_key)
        ) from None
    name = _name(spec, document, path)
    findings = sorted(lint(spec, document), key=Diagnostic.sort_key)
    if any(d.severity is Severity.ERROR for d in findings):
        raise SpecError(findings)
    return Checked(path, document, spec, name, findings)


def compile_spec(path: Path) -> Compiled:
    """Every artifact of the spec at ``path``, nothing written."""
    checked = check_spec(path)
    plan = resolve(
        checked.spec,
        name=checked.name,
        spec_file=path.name,
        spec_sha256=checked.document.sha256,
    )
    return Compiled(checked, render(plan))
