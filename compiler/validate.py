"""Validate a loaded spec against the models, every error at its position."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .diagnostics import Diagnostic, Severity, SpecError
from .load import Document, Path_
from .spec import PATTERN_HINTS, Spec

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
    """The spec's model, or ``SpecError`` with every problem found.

    The loader's own refusals (``document.problems``) come first at their
    places; a model error at a node the loader already refused is its echo
    (the refused node reads as empty) and is dropped.
    """
    diagnostics: list[Diagnostic] = []
    try:
        spec = Spec.model_validate(document.data)
    except ValidationError as exc:
        diagnostics = [_diagnostic(document, error) for error in exc.errors()]
    if document.problems:
        refused = {problem.position for problem in document.problems}
        echoes = [d for d in diagnostics if d.position in refused]
        diagnostics = [*document.problems, *(d for d in diagnostics if d not in echoes)]
    if diagnostics:
        diagnostics.sort(key=Diagnostic.sort_key)
        raise SpecError(_unique(diagnostics))
    return spec


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for diagnostic in diagnostics:
        if diagnostic not in seen:
            seen.add(diagnostic)
            result.append(diagnostic)
    return result


def data_path(data: Any, loc: tuple[int | str, ...]) -> Path_:
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
    """``registry.cors.allow_origins[1]``; odd keys quoted to stay visible."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f"'{part}'"
        text += f".{name}" if text else name
    return text


def _diagnostic(document: Document, error: ErrorDetails) -> Diagnostic:
    path = data_path(document.data, tuple(error["loc"]))
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
        return f"must be {_EXPECTED[kind]}, not {got}{_type_hint(kind, given)}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "literal_error":
        return _one_of(str(ctx.get("expected", "")), given)
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} items"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_HINTS:
        return f"{given!r} does not fit here: {PATTERN_HINTS[ctx['pattern']]}"
    return str(error["msg"])


def _type_hint(kind: str, given: object) -> str:
    """What to write instead of a value of the wrong type."""
    if kind == "string_type" and isinstance(given, bool | int | float):
        return ": put it in quotes"
    if kind.startswith("int") and isinstance(given, str):
        return ": write the number without quotes"
    if kind.startswith("int") and isinstance(given, float):
        return ": write a whole number"
    if kind.startswith("bool") and isinstance(given, str):
        return ": write true or false without quotes"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return ": write its fields indented below it"
    if kind == "list_type":
        return ": write one '- item' per line, or [a, b]"
    return ""


def _one_of(expected: str, given: object) -> str:
    """The message of a value outside an enumeration, with the nearest one."""
    shown = repr(given)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    message = f"must be one of {expected}, not {shown}"
    if isinstance(given, bool):
        return f"{message} (YAML reads a bare yes/no/on/off as a boolean: quote it)"
    allowed = re.findall(r"'([^']*)'", expected)
    if isinstance(given, str):
        close = difflib.get_close_matches(given.lower(), allowed, n=1, cutoff=0.6)
        if close:
            return f"{message}: did you mean '{close[0]}'?"
    return message


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
