"""Diagnostics and the errors a user can cause.

Everything a spec or a command line can get wrong is a ``UserError``; the CLI
catches it once and prints it.  Any other exception is a bug in regc.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """A place in a spec file, 1-based as editors count."""

    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec, printable as ``FILE:LINE:COL: error: ...``."""

    file: str
    position: Position
    severity: Severity
    message: str
    code: str | None = None

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file, self.position.line, self.position.column)

    def format(self) -> str:
        label = self.severity.value
        if self.code:
            label = f"{label}[{self.code}]"
        pos = self.position
        line = f"{self.file}:{pos.line}:{pos.column}: {label}: {self.message}"
        return printable(line)


def printable(text: str) -> str:
    """``text`` on one line, every unprintable character escaped as in Python.

    A spec's keys and values are echoed in messages: a line break would split
    a diagnostic, an escape sequence would drive the terminal, a
    bidirectional override would reorder what is shown, and a no-break space
    would pass for a space.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class UserError(Exception):
    """Base of every error a user can cause; never a bug in regc."""

    exit_code = 1

    def __str__(self) -> str:
        # Messages name files and values the user chose: keep them on one line.
        return printable(super().__str__())


class UsageError(UserError):
    """The command line asks for something impossible: exit status 2."""

    exit_code = 2


class SpecError(UserError):
    """A spec is invalid; carries every diagnostic found in it."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) in the spec")
        self.diagnostics = diagnostics
