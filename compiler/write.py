"""Write a spec's artifacts into ``OUT/NAME/`` as one atomic step.

The new tree is assembled in a hidden sibling folder, unchanged files are
hard-linked from the old tree (so they are not rewritten), and the folder is
swapped in with two renames.  An error before the swap leaves the previous
``OUT/NAME/`` exactly as it was and removes the staging folder.  A build
killed between the two renames leaves the previous folder under a backup
name, which the next build puts back before anything else.

Many specs are written by several threads at once: creating files and folders
is work for the kernel, done outside Python's lock, so threads spread it over
the CPUs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import manifest
from .diagnostics import UsageError
from .render import Artifact

# Enough to keep the file system busy; more only adds contention.
WRITER_THREADS = 8


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


# Suffixes of the hidden siblings of OUT/NAME: a folder being assembled, and
# the previous folder between the two renames of a swap.
STAGING_SUFFIX = ".regc-tmp"
BACKUP_SUFFIX = ".regc-old"


def existing_files(target: Path) -> dict[str, Path]:
    """What ``target`` holds, by path relative to it, in POSIX form.

    Files, and symbolic links to folders, by their path; an empty folder by
    its path and a final '/'.  So nothing in ``target`` goes unseen.
    """
    if not target.is_dir():
        return {}
    found: dict[str, Path] = {}
    for root, dirs, files in os.walk(target):
        dirs.sort()
        here = Path(root)
        linked = [name for name in dirs if (here / name).is_symlink()]
        for name in [*files, *linked]:
            path = here / name
            found[path.relative_to(target).as_posix()] = path
        if not files and not dirs and here != target:
            found[here.relative_to(target).as_posix() + "/"] = here
    return found


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


class _Leftovers:
    """What a killed build left in OUT, listed once for all names.

    Listing OUT for each name would make writing many specs quadratic.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._by_name: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def remove(self, name: str) -> None:
        with self._lock:
            if self._by_name is None:
                self._by_name = {}
                try:
                    entries = os.listdir(self.out_dir)
                except OSError:
                    entries = []
                for entry in entries:
                    # Staging and backup folders are named .NAME.RANDOM.SUFFIX.
                    if entry.startswith(".") and entry.endswith(
                        (STAGING_SUFFIX, BACKUP_SUFFIX)
                    ):
                        owner = entry[1:].partition(".")[0]
                        self._by_name.setdefault(owner, []).append(entry)
            stale = self._by_name.pop(name, [])
        target = self.out_dir / name
        for entry in sorted(stale):
            path = self.out_dir / entry
            if entry.endswith(BACKUP_SUFFIX) and not os.path.lexists(target):
                # Killed between the renames of a swap: the previous folder.
                path.rename(target)
            elif entry.endswith(BACKUP_SUFFIX) and target.is_symlink():
                # _plan refuses the link; the folder stays until it is fixed.
                continue
            elif path.is_symlink():
                path.unlink()
            else:
                shutil.rmtree(path, ignore_errors=True)


class _Stage:
    """A staging folder, filled with as few system calls as it takes.

    On a busy file system creating folders and files is the cost of a
    build, so each folder is made once, top down, and each file with one
    open, write, chmod and close.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made = {""}

    def path(self, relative: str) -> Path:
        self.folder(relative.rpartition("/")[0])
        return self.root / relative

    def folder(self, folder: str) -> None:
        if folder not in self._made:
            parts = folder.split("/")
            for depth in range(1, len(parts) + 1):
                sub = "/".join(parts[:depth])
                if sub not in self._made:
                    # Whatever the umask: `rsync -a` of hosts/NAME/ would
                    # give a host's /etc this folder's mode.
                    os.mkdir(self.root / sub)
                    os.chmod(self.root / sub, 0o755)
                    self._made.add(sub)

    def write(self, relative: str, content: bytes, mode: int) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(self.path(relative), flags, mode)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            # The umask may have taken bits off the mode given to open().
            os.fchmod(fd, mode)
        finally:
            os.close(fd)


@dataclass
class _Plan:
    """What writing a folder will change, and the files it holds now."""

    target: Path
    artifacts: list[Artifact]
    current: dict[str, Path]
    result: WriteResult


def write_artifacts(out_dir: Path, name: str, artifacts: list[Artifact]) -> WriteResult:
    """Make ``out_dir/name`` hold exactly ``artifacts`` (and foreign files)."""
    return write_many(out_dir, [(name, artifacts)])[0]


def write_many(
    out_dir: Path, outputs: Iterable[tuple[str, list[Artifact]]]
) -> list[WriteResult]:
    """``write_artifacts`` for each (name, artifacts), several at a time.

    ``outputs`` may be a stream: each folder is written as soon as it comes,
    and is replaced or left as it was on its own.  The first error is raised
    once the folders already begun are done.  The names must differ.
    """
    leftovers = _Leftovers(out_dir)

    def update(name: str, artifacts: list[Artifact]) -> _Plan:
        leftovers.remove(name)
        plan = _plan(out_dir / name, artifacts)
        if plan.result.changed:
            out_dir.mkdir(parents=True, exist_ok=True)
            _write(out_dir, plan)
        return plan

    return [plan.result for plan in _each(update, outputs)]


def _each(
    update: Callable[[str, list[Artifact]], _Plan],
    outputs: Iterable[tuple[str, list[Artifact]]],
) -> list[_Plan]:
    """``update`` of each output, the first in this thread, more in a pool."""
    stream = iter(outputs)
    first = next(stream, None)
    if first is None:
        return []
    second = next(stream, None)
    if second is None:
        # One folder: a thread pool would only add its start-up.
        return [update(*first)]

    from concurrent.futures import ThreadPoolExecutor, wait

    pool = ThreadPoolExecutor(WRITER_THREADS)
    try:
        futures = [pool.submit(update, *first), pool.submit(update, *second)]
        futures.extend(pool.submit(update, *output) for output in stream)
        wait(futures)
    finally:
        # On Ctrl-C, folders not begun are not begun; those begun finish, so
        # that no staging folder is left behind.
        pool.shutdown(wait=True, cancel_futures=True)
    return [future.result() for future in futures]


def _plan(target: Path, artifacts: list[Artifact]) -> _Plan:
    """What writing ``artifacts`` to ``target`` would change."""
    if target.is_symlink():
        raise UsageError(
            f"{target}: is a symbolic link, and regc replaces the folder as a "
            "whole: make it a folder, or give --out the folder it points into"
        )
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a folder")
    current = existing_files(target)
    previous = manifest.read(target)
    ours_before = previous.paths if previous is not None else set()
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
    # Without a manifest regc cannot tell its files from others: a folder
    # whose manifest was lost is rebuilt, as it always was.
    known = ours_before if previous is not None else None
    _refuse_foreign_in_the_way(target, result, set(current), known)
    return _Plan(target, artifacts, current, result)


def _refuse_foreign_in_the_way(
    target: Path, result: WriteResult, current: set[str], ours_before: set[str] | None
) -> None:
    """Refuse to replace what regc did not write with what it generates now.

    That is a file of the user's at an artifact's path (when the manifest
    says which files are regc's), or a folder or link where regc writes a
    file, or a file where it needs a folder.
    """
    foreign = {relative.rstrip("/") for relative in result.foreign}
    in_the_way = sorted(
        path
        for path in result.written
        if (ours_before is not None and path in current and path not in ours_before)
        or path in foreign
        or any(_nested(path, other) for other in foreign)
    )
    if not in_the_way:
        return
    raise UsageError(
        f"{target}: regc now generates {', '.join(in_the_way)}, but what is "
        "there was not written by regc: move it out of the folder, then build "
        "again"
    )


def _nested(one: str, other: str) -> bool:
    """Whether either path lies inside the other, as a folder holds a file."""
    return one.startswith(other + "/") or other.startswith(one + "/")


def _write(out_dir: Path, plan: _Plan) -> None:
    """Swap in the new folder ``plan`` describes."""
    target, current, result = plan.target, plan.current, plan.result
    staging = _Stage(
        Path(
            tempfile.mkdtemp(
                prefix=f".{target.name}.", suffix=STAGING_SUFFIX, dir=out_dir
            )
        )
    )
    try:
        for artifact in plan.artifacts:
            if artifact.path in result.unchanged:
                os.link(current[artifact.path], staging.path(artifact.path))
            else:
                staging.write(artifact.path, artifact.content, artifact.mode)
        for relative in result.foreign:
            if relative.endswith("/"):
                staging.folder(relative.rstrip("/"))
            else:
                os.link(
                    current[relative], staging.path(relative), follow_symlinks=False
                )
        staging.root.chmod(0o755)
        _swap(staging.root, target)
    except BaseException:
        shutil.rmtree(staging.root, ignore_errors=True)
        raise


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    backup = Path(
        tempfile.mkdtemp(
            prefix=f".{target.name}.", suffix=BACKUP_SUFFIX, dir=target.parent
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
