"""Read ``manifest.json``, the record a build leaves in ``OUT/NAME/``.

Writing the manifest is the renderer's job; reading it back is needed by
``write`` (which files were ours), ``check`` (was a file edited by hand) and
``proof`` (is the folder current without compiling).  This module imports
nothing heavy, because ``proof`` runs before the compiler is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The same name render.MANIFEST writes; tests/test_proof.py keeps them equal.
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Entry:
    """One artifact as the manifest lists it."""

    sha256: str
    mode: int | None


@dataclass(frozen=True)
class Manifest:
    """What a build recorded; fields it did not record are empty."""

    generator: str
    name: str
    spec_file: str
    spec_sha256: str
    artifacts: dict[str, Entry]

    @property
    def paths(self) -> set[str]:
        """Every path the build wrote, the manifest itself included."""
        return {*self.artifacts, MANIFEST}


def _text(data: Any, *keys: str) -> str:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) else ""


def _mode(text: Any) -> int | None:
    try:
        return int(text, 8) if isinstance(text, str) else None
    except ValueError:
        return None


def parse(data: Any) -> Manifest | None:
    """The manifest in ``data`` (parsed JSON), or None if it is not one.

    Only the list of artifact paths is required: it is what tells regc's own
    files from others', and it must survive a manifest from an older regc.
    """
    entries = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    artifacts: dict[str, Entry] = {}
    for entry in entries:
        path = _text(entry, "path")
        if not path:
            return None
        artifacts[path] = Entry(_text(entry, "sha256"), _mode(entry.get("mode")))
    return Manifest(
        generator=_text(data, "generator"),
        name=_text(data, "name"),
        spec_file=_text(data, "spec", "file"),
        spec_sha256=_text(data, "spec", "sha256"),
        artifacts=artifacts,
    )


def read(target: Path) -> Manifest | None:
    """The manifest in folder ``target``; None if absent or unreadable."""
    try:
        data = json.loads((target / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    return parse(data)
