"""Lint a spec whose fields did not all validate, as far as it can be trusted.

The rules read a validated model, so a spec with a bad field would show its
cross-field problems only once that field is fixed. To report them in the
same run, the bad values are left out (their defaults stand in), the rest
is validated again, and the rules run on it; a finding is kept only if its
rule read none of the values left out, so that no default speaks for what
the user wrote. Anything unexpected here means no extra findings, never an
error: the validation errors are reported either way.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .diagnostics import Diagnostic
from .findings import Finding
from .lint import positioned, rule_groups
from .load import Document, Path_
from .spec import Spec
from .validate import data_path


class _Reads:
    """What the rules read: each path, and whether it was a plain value.

    Reading a model (``spec.registry``) tells only that it is there; its
    fields are reads of their own.  A plain value (a number, a mapping, a
    list of names) is read whole.
    """

    def __init__(self) -> None:
        self.paths: list[tuple[Path_, bool]] = []

    def rest_on(self, gone: Path_) -> bool:
        """Whether anything read depends on the value at ``gone``."""
        return any(
            _inside(path, gone) or (whole and _inside(gone, path))
            for path, whole in self.paths
        )


class _Recorder:
    """A model that notes each field read through it."""

    def __init__(self, target: BaseModel, path: Path_, reads: _Reads) -> None:
        self._target = target
        self._path = path
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name not in type(self._target).model_fields:
            # Metadata such as model_fields_set tells about the whole model.
            self._reads.paths.append((self._path, True))
            return value
        path = (*self._path, name)
        models = value if isinstance(value, list) else [value]
        whole = not models or not all(isinstance(m, BaseModel) for m in models)
        self._reads.paths.append((path, whole))
        return _wrap(value, path, self._reads)


def _wrap(value: Any, path: Path_, reads: _Reads) -> Any:
    if isinstance(value, BaseModel):
        return _Recorder(value, path, reads)
    if isinstance(value, list):
        return [_wrap(item, (*path, index), reads) for index, item in enumerate(value)]
    return value


def _inside(path: Path_, folder: Path_) -> bool:
    """Whether ``path`` is ``folder`` or lies below it."""
    return path[: len(folder)] == folder


# Each round leaves out what the last one found invalid; a required field
# left out makes its parent invalid in the next.
ROUNDS = 4


def _bad_value(data: Any, error: ErrorDetails) -> Path_:
    """The path of the value an error is about; a missing field's parent."""
    path = data_path(data, tuple(error["loc"]))
    return path[:-1] if error["type"] == "missing" else path


def _removable(path: Path_) -> Path_:
    """The value to remove for a bad one at ``path``.

    Removing a list item would move the ones after it to other indexes, and
    their findings to other lines: the whole list goes instead.
    """
    while path and isinstance(path[-1], int):
        path = path[:-1]
    return path


def _without(data: Any, paths: list[Path_]) -> Any:
    """``data`` with the values at ``paths`` removed."""
    data = copy.deepcopy(data)
    for path in paths:
        node = data
        for part in path[:-1]:
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int):
                node = node[part] if part < len(node) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return data


def lint_salvaged(document: Document) -> list[Diagnostic]:
    """The findings of the rules that no invalid value of the spec decides."""
    try:
        return _salvage(document)
    except Exception:
        return []


def _salvage(document: Document) -> list[Diagnostic]:
    data = document.data
    dropped: list[Path_] = []
    for _ in range(ROUNDS):
        try:
            spec = Spec.model_validate(data)
            break
        except ValidationError as exc:
            bad = [_removable(_bad_value(data, error)) for error in exc.errors()]
        if not all(bad):
            return []
        dropped.extend(bad)
        data = _without(data, bad)
    else:
        return []
    if not dropped:
        return []

    reads = _Reads()
    recorded = cast(Spec, _Recorder(spec, (), reads))
    kept: list[Finding] = []
    for group in rule_groups(recorded):
        # A group's finding may rest on anything the group read before it.
        for finding in group():
            if not any(reads.rest_on(gone) for gone in dropped):
                kept.append(finding)
        reads.paths.clear()
    return positioned(kept, document)
