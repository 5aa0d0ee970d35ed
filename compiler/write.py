"""Write a spec's artifacts into ``OUT/NAME/`` as one atomic step.

The new tree is assembled in a hidden sibling folder, unchanged files are
hard-linked from the old tree (so they are not rewritten), and the folder is
swapped in with two renames.  An error before the swap leaves the previous
``OUT/NAME/`` exactly as it was and removes the staging folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import UsageError
from .render import MANIFEST, Artifact

log = logging.getLogger(__name__)


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def existing_files(target: Path) -> dict[str, Path]:
    """Files under ``target`` by their path relative to it, in POSIX form."""
    if not target.is_dir():
        return {}
    found: dict[str, Path] = {}
    for root, dirs, files in os.walk(target):
        dirs.sort()
        for name in files:
            path = Path(root, name)
            found[path.relative_to(target).as_posix()] = path
    return found


def previous_artifacts(target: Path) -> set[str]:
    """Paths the previous build listed in its manifest; empty if unreadable."""
    try:
        manifest = json.loads((target / MANIFEST).read_text("utf-8"))
        return {entry["path"] for entry in manifest["artifacts"]} | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def is_current(path: Path, artifact: Artifact) -> bool:
    try:
        stat = path.lstat()
        if not path.is_file() or path.is_symlink():
            return False
        if stat.st_mode & 0o7777 != artifact.mode:
            return False
        return path.read_bytes() == artifact.content
    except OSError:
        return False


def check_out_dir(out_dir: Path) -> None:
    """Refuse an output folder that cannot work, as a usage error."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: the output path exists and is not a folder")
    probe = out_dir
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{probe}: is not a folder, so {out_dir} cannot be made")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"{probe}: the output folder is not writable")


def _clean_leftovers(out_dir: Path, name: str) -> None:
    # A build killed between its two renames leaves these behind.
    for stale in out_dir.glob(f".{name}.*.regc-tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def _stage(staging: Path, relative: str) -> Path:
    path = staging / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_artifacts(out_dir: Path, name: str, artifacts: list[Artifact]) -> WriteResult:
    """Make ``out_dir/name`` hold exactly ``artifacts`` (and foreign files)."""
    target = out_dir / name
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder")
    current = existing_files(target)
    ours_before = previous_artifacts(target)
    wanted = {artifact.path for artifact in artifacts}

    result = WriteResult()
    for artifact in artifacts:
        path = current.get(artifact.path)
        if path is not None and is_current(path, artifact):
            result.unchanged.append(artifact.path)
        else:
            result.written.append(artifact.path)
    for relative in sorted(set(current) - wanted):
        if relative in ours_before:
            result.removed.append(relative)
        else:
            result.foreign.append(relative)
    if not result.changed:
        return result

    out_dir.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(out_dir, name)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{name}.", suffix=".regc-tmp", dir=out_dir)
    )
    try:
        for artifact in artifacts:
            path = _stage(staging, artifact.path)
            if artifact.path in result.unchanged:
                os.link(current[artifact.path], path)
            else:
                path.write_bytes(artifact.content)
                path.chmod(artifact.mode)
        for relative in result.foreign:
            os.link(current[relative], _stage(staging, relative), follow_symlinks=False)
        staging.chmod(0o755)
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    for relative in result.written:
        log.info("wrote %s", target / relative)
    for relative in result.removed:
        log.info("removed %s (no longer generated)", target / relative)
    return result


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    backup = Path(
        tempfile.mkdtemp(
            prefix=f".{target.name}.", suffix=".regc-tmp", dir=target.parent
        )
    )
    backup.rmdir()
    target.rename(backup)
    try:
        staging.rename(target)
    except BaseException:
        backup.rename(target)
        raise
    shutil.rmtree(backup, ignore_errors=True)
