"""Compile many specs together: all of them, or none if any has an error.

A configuration repository may hold hundreds of registries, and compiling is
CPU work in pure Python, so many specs are compiled in worker processes, each
returning its specs' artifacts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .diagnostics import Diagnostic, Severity, SpecError, UsageError
from .pipeline import compile_spec

if TYPE_CHECKING:
    from .render import Artifact

# Below this many specs per worker, starting a worker costs more than it saves.
SPECS_PER_WORKER = 32
# The most worker processes, whatever the number of CPUs.
MAX_WORKERS = 8


@dataclass(frozen=True)
class Output:
    """One spec compiled, as the commands need it; picklable."""

    path: Path
    name: str
    artifacts: list[Artifact]
    warnings: list[Diagnostic]


# Errors cross processes as values: SpecError does not survive pickling.
_Failure = list[Diagnostic] | UsageError


def _compile_one(path: Path) -> Output | _Failure:
    try:
        compiled = compile_spec(path)
    except SpecError as exc:
        return exc.diagnostics
    except UsageError as exc:
        return exc
    return Output(path, compiled.name, compiled.artifacts, compiled.checked.warnings)


def _workers(count: int) -> int:
    if not sys.platform.startswith("linux"):
        # Only fork() gives a worker the loaded compiler for free, and it is
        # unsafe on macOS: elsewhere everything is compiled in this process.
        return 1
    cpus = len(os.sched_getaffinity(0))
    return max(1, min(cpus, MAX_WORKERS, count // SPECS_PER_WORKER))


def _compile_all(paths: list[Path]) -> list[Output | _Failure]:
    workers = _workers(len(paths))
    if workers == 1:
        return [_compile_one(path) for path in paths]

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Compiling the first spec here compiles the templates, once: the forked
    # workers inherit them with the models, instead of each compiling them.
    first = _compile_one(paths[0])
    rest = paths[1:]
    context = multiprocessing.get_context("fork")
    # Chunks of many specs: fewer round trips, and still an even spread.
    chunk = max(1, len(rest) // (workers * 8))
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return [first, *pool.map(_compile_one, rest, chunksize=chunk)]


def compile_specs(paths: Sequence[Path]) -> list[Output]:
    """Every spec compiled, in order, nothing written.

    Raises ``SpecError`` with the diagnostics of all specs (their warnings
    too) when any has an error, and ``UsageError`` for an unreadable spec or
    two specs with one name.  A spec named twice is compiled once.
    """
    outputs: list[Output] = []
    problems: list[Diagnostic] = []
    owners: dict[str, Path] = {}
    for result in _compile_all(list(dict.fromkeys(paths))):
        if isinstance(result, UsageError):
            raise result
        if isinstance(result, list):
            problems.extend(result)
            continue
        problems.extend(result.warnings)
        owner = owners.setdefault(result.name, result.path)
        if owner != result.path:
            raise UsageError(
                f"{owner} and {result.path} both compile to '{result.name}': "
                "give one of them another `name:`"
            )
        outputs.append(result)
    if any(d.severity is Severity.ERROR for d in problems):
        raise SpecError(problems)
    return outputs
