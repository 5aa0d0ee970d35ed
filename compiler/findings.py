"""A finding of the lint rules: where in the spec, how bad, and what to say."""

from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import Severity
from .load import Path_


@dataclass(frozen=True)
class Finding:
    """One problem of a valid spec, at a path into the spec's data."""

    path: Path_
    severity: Severity
    code: str
    message: str
    # About the key itself (unknown, or unknown to this version): point there,
    # not at its value.
    at_key: bool = False

    def under(self, prefix: Path_) -> Finding:
        """The same finding with ``prefix`` put before its path."""
        return Finding(
            (*prefix, *self.path), self.severity, self.code, self.message, self.at_key
        )
