"""Prove output folders current from their manifests, without compiling.

``regc check`` on an unchanged tree is what pre-commit and CI run on every
commit, so it should not pay for loading the compiler.  A compile is a pure
function of the spec's bytes, the spec's file name and regc; manifest.json
records the first two and regc's version.  So when a spec still hashes to
what its folder's manifest recorded, this version of regc wrote that
manifest, and the folder holds exactly the files the manifest lists with
their recorded hashes and modes, compiling again would give the same files.

Anything short of that proves nothing, and the caller compiles.  What the
proof trusts, and so what ``regc check --full`` does not:

- manifest.json as regc wrote it: a hand edit that also rewrites the
  manifest's hashes goes unnoticed (reformatting the manifest does not);
- the version: in a source checkout code changes without it, so there the
  manifest must also be newer than every file of regc.

This module imports nothing heavy; only the standard library and
``regc.manifest``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__, manifest
from .manifest import MANIFEST, Manifest

GENERATOR = f"regc {__version__}"
# render writes the manifest as a regular file, with this mode.
MANIFEST_MODE = 0o644
# regc's own files in a source checkout: code, templates, schemas.
_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent
_SOURCE_FOLDERS = ("compiler", "targets", "schemas")


def proven_current(specs: Sequence[Path], out: Path) -> bool:
    """True when every spec's ``out/NAME/`` is proven what it compiles to."""
    if not specs:
        return False
    folders = _Folders(out)
    proven: set[Path] = set()
    for spec in specs:
        try:
            raw = spec.read_bytes()
        except OSError:
            return False
        digest = hashlib.sha256(raw).hexdigest()
        found = folders.of(spec.name, digest, spec.stem)
        if found is None:
            return False
        target, record = found
        # Two specs proven by one folder would be two specs with one name.
        if target in proven or not _records(record, spec.name, digest):
            return False
        if not _holds_exactly(target, record):
            return False
        proven.add(target)
    oldest = min((target / MANIFEST).stat().st_mtime_ns for target in proven)
    return not _regc_changed_since(oldest)


class _Folders:
    """The folders of ``out`` by the spec their manifest records."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._index: dict[tuple[str, str], list[tuple[Path, Manifest]]] | None = None

    def of(self, file: str, sha256: str, stem: str) -> tuple[Path, Manifest] | None:
        # Most specs have no `name:` and so build into OUT/STEM: look there
        # first, and read every manifest only for the others.
        guess = self._record(self.out / stem)
        if guess is not None and _records(guess[1], file, sha256):
            return guess
        matches = self._indexed().get((file, sha256), [])
        return matches[0] if len(matches) == 1 else None

    def _indexed(self) -> dict[tuple[str, str], list[tuple[Path, Manifest]]]:
        if self._index is None:
            self._index = {}
            try:
                entries = sorted(os.scandir(self.out), key=lambda entry: entry.name)
            except OSError:
                entries = []
            for entry in entries:
                found = self._record(Path(entry.path))
                if found is not None:
                    key = (found[1].spec_file, found[1].spec_sha256)
                    self._index.setdefault(key, []).append(found)
        return self._index

    @staticmethod
    def _record(target: Path) -> tuple[Path, Manifest] | None:
        record = manifest.read(target)
        # A folder holds the output of the spec whose name it bears.
        if record is None or record.name != target.name:
            return None
        return target, record


def _records(record: Manifest, file: str, sha256: str) -> bool:
    """Whether this version of regc wrote ``record`` from these spec bytes."""
    return (
        record.spec_file == file
        and record.spec_sha256 == sha256
        and record.generator == GENERATOR
    )


def _holds_exactly(target: Path, record: Manifest) -> bool:
    """Whether ``target`` holds the listed files, as listed, and nothing else."""
    found = dict(_files(target))
    if found.keys() != record.paths:
        return False
    files = {relative: path for relative, path in found.items() if path is not None}
    if len(files) != len(found):
        return False
    if _mode(files[MANIFEST]) != MANIFEST_MODE or not _canonical(files[MANIFEST]):
        return False
    for relative, entry in record.artifacts.items():
        path = files[relative]
        if _mode(path) != entry.mode:
            return False
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
            return False
    return True


def _files(folder: Path, prefix: str = "") -> Iterator[tuple[str, Path | None]]:
    """Every file under ``folder``; None for anything but a plain file.

    An empty folder counts too (as its path and '/'), as regc check sees it.
    """
    empty = True
    with os.scandir(folder) as entries:
        for entry in entries:
            empty = False
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from _files(Path(entry.path), relative + "/")
            elif entry.is_file(follow_symlinks=False):
                yield relative, Path(entry.path)
            else:
                yield relative, None
    if empty and prefix:
        yield prefix, None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _canonical(path: Path) -> bool:
    """Whether the manifest is byte for byte as regc writes it."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8") == raw


def _regc_changed_since(mtime_ns: int) -> bool:
    """In a source checkout, whether a file of regc is newer than ``mtime_ns``.

    An installed regc changes only with its version, which the manifest
    records; a source checkout changes under the same version number.
    """
    if _PACKAGE.name != "compiler" or not (_SOURCE_ROOT / "pyproject.toml").is_file():
        return False
    for folder in _SOURCE_FOLDERS:
        for root, dirs, files in os.walk(_SOURCE_ROOT / folder):
            # Bytecode follows the sources it is compiled from.
            dirs[:] = [name for name in dirs if name != "__pycache__"]
            for name in files:
                if os.stat(os.path.join(root, name)).st_mtime_ns > mtime_ns:
                    return True
    return False
