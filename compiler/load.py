"""Load a spec file: YAML into plain data, with the position of every node.

Only what a spec needs is accepted: one document whose top level is a
mapping, of strings, numbers, booleans, null, lists and mappings.  Anything
that could surprise (duplicate keys, tags that construct objects, merge keys,
alias bombs, pathological nesting, huge files) is refused with a positioned
error instead of being interpreted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import Diagnostic, Position, Severity, SpecError

# A spec is a page of YAML; anything far larger is a mistake or an attack.
MAX_SPEC_BYTES = 1024 * 1024
# Bounds the work of expanding aliases (a "billion laughs" file stops here).
MAX_NODES = 50_000
# Deeper than any spec needs, far below what exhausts the Python stack.
MAX_DEPTH = 64

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null")}
# YAML 1.1 reads 2024-01-01 as a date; in a spec it can only mean the text.
_TEXT_TAGS = {f"{_YAML}timestamp", f"{_YAML}value"}

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A loaded spec: its data and where each part of it was written."""

    file: str
    data: Any
    sha256: str
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)

    def value_position(self, path: Path_) -> Position:
        """Where the value at ``path`` starts, or its nearest ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Position(1, 1))

    def key_position(self, path: Path_) -> Position:
        """Where the key of the mapping entry at ``path`` is written."""
        if path in self.keys:
            return self.keys[path]
        return self.value_position(path)


class _Converter:
    """Turns a composed YAML node graph into plain data, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[Path_, Position] = {}
        self.keys: dict[Path_, Position] = {}
        self.errors: list[Diagnostic] = []
        self.nodes = 0
        self._constructor = SafeConstructor()

    def error(self, node: Node, message: str) -> None:
        self.errors.append(
            Diagnostic(self.file, _position(node), Severity.ERROR, message)
        )

    def convert(self, node: Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig(node)
        if len(path) > MAX_DEPTH:
            raise _TooDeep(node)
        self.values[path] = _position(node)

        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != f"{_YAML}seq":
                self.error(node, f"tag {node.tag!r} is not allowed in a spec")
                return None
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        assert isinstance(node, ScalarNode)
        if node.tag in _TEXT_TAGS:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.error(
                node,
                f"tag {node.tag!r} is not allowed in a spec: write a plain value",
            )
            return None
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self.error(node, f"cannot read this value: {exc}")
            return None

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        if node.tag != f"{_YAML}map":
            self.error(node, f"tag {node.tag!r} is not allowed in a spec")
            return {}
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                continue
            if key in first_seen:
                line = _position(first_seen[key]).line
                self.error(
                    key_node,
                    f"duplicate key '{key}' (first written on line {line}): "
                    "keep only one",
                )
                continue
            first_seen[key] = key_node
            self.keys[(*path, key)] = _position(key_node)
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            self.error(node, "a key must be a plain name, not a list or mapping")
            return None
        if node.tag == f"{_YAML}merge":
            self.error(
                node,
                "merge keys (<<) are not supported in a spec: write the keys out",
            )
            return None
        if node.tag not in _SCALAR_TAGS | _TEXT_TAGS:
            self.error(node, f"tag {node.tag!r} is not allowed on a key")
            return None
        if node.value == "":
            self.error(node, "empty key: write a field name before the colon")
            return None
        # Keys are names: YAML 1.1 would turn `on:` into True and `5000:` into
        # an integer, which is never what a spec means.
        return str(node.value)


class _TooBig(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


class _TooDeep(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def _position(node: Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _mark_position(mark: Any) -> Position:
    if mark is None:
        return Position(1, 1)
    return Position(mark.line + 1, mark.column + 1)


def _fail(file: str, position: Position, message: str) -> SpecError:
    return SpecError([Diagnostic(file, position, Severity.ERROR, message)])


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(
            file,
            Position(line, column),
            f"the spec is not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
            "save it as UTF-8",
        ) from None


def _compose(text: str, file: str) -> Node:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "expected a single document" in str(exc):
            problem = (
                "more than one YAML document: a spec is one document (remove '---')"
            )
        raise _fail(file, _mark_position(mark), f"YAML syntax: {problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(file, Position(1, 1), f"YAML syntax: {exc}") from None
    except RecursionError:
        raise _fail(
            file, Position(1, 1), f"nesting deeper than {MAX_DEPTH} levels"
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise _fail(
            file,
            Position(1, 1),
            "the spec is empty: write at least `registry: {server: HOST}`",
        )
    return node


def load_bytes(raw: bytes, file: str) -> Document:
    """Load a spec from its bytes; ``file`` is the name used in diagnostics."""
    if len(raw) > MAX_SPEC_BYTES:
        raise _fail(
            file,
            Position(1, 1),
            f"the spec is larger than {MAX_SPEC_BYTES} bytes, the most a spec "
            "may have: is this the right file?",
        )
    text = _decode(raw, file)
    root = _compose(text, file)

    if not isinstance(root, MappingNode):
        raise _fail(
            file,
            _position(root),
            "the top level of a spec must be a mapping, such as "
            "`registry: {server: HOST}`",
        )

    converter = _Converter(file)
    try:
        data = converter.convert(root, ())
    except _TooBig as exc:
        raise _fail(
            file,
            _position(exc.node),
            f"the spec expands to more than {MAX_NODES} values "
            "(aliases nested too deep?)",
        ) from None
    except _TooDeep as exc:
        raise _fail(
            file, _position(exc.node), f"nesting deeper than {MAX_DEPTH} levels"
        ) from None
    if converter.errors:
        raise SpecError(converter.errors)

    return Document(
        file=file,
        data=data,
        sha256=hashlib.sha256(raw).hexdigest(),
        values=converter.values,
        keys=converter.keys,
    )


def load(path: Path, file: str | None = None) -> Document:
    """Read and load the spec at ``path``; raises ``OSError`` if unreadable."""
    with path.open("rb") as stream:
        raw = stream.read(MAX_SPEC_BYTES + 1)
    return load_bytes(raw, file or str(path))
