"""Validate a loaded spec against the models, every error at its position."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .diagnostics import Diagnostic, Severity, SpecError
from .load import Document, Path_
from .spec import Spec

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    type(None): "empty",
}
_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def validate(document: Document) -> Spec:
    """The spec's model, or ``SpecError`` with every problem found."""
    try:
        return Spec.model_validate(document.data)
    except ValidationError as exc:
        diagnostics = [_diagnostic(document, error) for error in exc.errors()]
        diagnostics.sort(key=Diagnostic.sort_key)
        raise SpecError(_unique(diagnostics)) from None


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            result.append(diagnostic)
    return result


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path_:
    """The path into the user's data, without pydantic's union branch tags."""
    path: list[str | int] = []
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, str) and isinstance(data, dict):
            if part in data:
                data = data[part]
                path.append(part)
            elif last:
                # A missing or unknown key: named by the path, absent in the data.
                path.append(part)
        elif isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
            path.append(part)
    return tuple(path)


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _diagnostic(document: Document, error: ErrorDetails) -> Diagnostic:
    path = _data_path(document.data, tuple(error["loc"]))
    kind = error["type"]
    where = _dotted(path)

    if kind == "missing":
        parent = path[:-1]
        position = document.value_position(parent)
        owner = f"{_dotted(parent)}: " if parent else ""
        message = f"{owner}missing required field '{path[-1]}'"
    elif kind == "extra_forbidden":
        position = document.key_position(path)
        message = f"{where}: unknown field" + _suggestion(path)
    else:
        position = document.value_position(path)
        message = f"{where}: {_explain(error)}" if where else _explain(error)

    return Diagnostic(document.file, position, Severity.ERROR, message)


def _explain(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if kind in _EXPECTED:
        got = _TYPE_NAMES.get(type(given), type(given).__name__)
        hint = ""
        if kind == "string_type" and isinstance(given, bool | int | float):
            hint = ": put it in quotes"
        return f"must be {_EXPECTED[kind]}, not {got}{hint}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        hint = ""
        if isinstance(given, bool):
            hint = " (YAML reads a bare yes/no/on/off as a boolean: quote it)"
        return f"must be one of {expected}, not {given!r}{hint}"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def _model_at(path: Path_) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Spec
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _find_model(field.annotation) if field else None
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _find_model(arg)
            if found is not None:
                return found
    return None


def _suggestion(path: Path_) -> str:
    model = _model_at(path[:-1])
    if model is None:
        return ""
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
    if close:
        return f": did you mean '{close[0]}'?"
    return f": known fields are {', '.join(known)}"
