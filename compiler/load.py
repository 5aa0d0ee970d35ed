"""Load a spec file: YAML into plain data, with the position of every node.

Only what a spec needs is accepted: one document whose top level is a
mapping, of strings, numbers, booleans, null, lists and mappings.  Anything
that could surprise (duplicate keys, tags that construct objects, merge keys,
alias bombs, pathological nesting, huge files, control characters) is refused
with a positioned error instead of being interpreted.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from .diagnostics import Diagnostic, Position, Severity, SpecError, UsageError

# A spec is a page of YAML; anything far larger is a mistake or an attack.
# README.md ("Limits") documents these three bounds.
MAX_SPEC_BYTES = 1024 * 1024
# Bounds the nodes written in the file and the values aliases expand to: a
# "billion laughs" file stops here, in little time and memory.
MAX_NODES = 20_000
# Deeper than any spec needs, far below what exhausts the Python stack.
MAX_DEPTH = 64

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_YAML}{name}" for name in ("str", "int", "float", "bool", "null")}
# YAML 1.1 reads 2024-01-01 as a date; in a spec it can only mean the text.
_TEXT_TAGS = {f"{_YAML}timestamp", f"{_YAML}value"}
# YAML 1.1 reads 010 as 8 and 1:30 as 90; nobody writing a spec means that.
_SURPRISING_NUMBER = re.compile(
    r"[-+]?0[0-7_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
)
# Plain words and numbers YAML 1.1 (PyYAML) and YAML 1.2 (editors) read
# differently: `yes` is true to one and text to the other, `1_000` a number
# to one and text to the other.  A spec means one thing in both.
_YAML11_BOOLEANS = {
    word: meaning
    for words, meaning in ((("yes", "on"), "true"), (("no", "off"), "false"))
    for base in words
    for word in (base, base.capitalize(), base.upper())
}
_UNDERSCORED_NUMBER = re.compile(r"[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?")
# Characters that end a line for sh or YAML, or that YAML refuses in a file:
# a file name with one would break the header comment of every artifact.
_BAD_NAME_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# PyYAML's words for common mistakes, and what to write instead.
_SYNTAX_HINTS = (
    ("found character '\\t'", "indent with spaces, not tabs"),
    (
        "that cannot start any token",
        "quote a value that starts with '@', '`' or '%'",
    ),
    (
        "mapping values are not allowed here",
        "quote a value that holds ': ', and start each key on its own line",
    ),
    (
        "found undefined alias",
        "write the anchor (&NAME) before its alias (*NAME), or quote a value "
        "that starts with '*'",
    ),
    ("found unexpected end of stream", "close the quote opened {where}"),
    ("expected ',' or ']'", "close the '[' opened {where}"),
    ("expected ',' or '}'", "close the '{{' opened {where}"),
    (
        "expected <block end>",
        "indent the entries of one mapping or list alike (it starts {where})",
    ),
    (
        "could not find expected ':'",
        "write ': ' after the key {where}, or quote text that spans lines",
    ),
    (
        "found unknown escape character",
        "write '\\\\' for a backslash in double quotes, or use single quotes",
    ),
    (
        "expected '<document start>'",
        "remove what follows the end of the spec (a stray ']', '}}' or '...')",
    ),
    ("found undefined tag handle", "remove the tag"),
)

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A loaded spec: its data and where each part of it was written."""

    file: str
    data: Any
    sha256: str
    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)
    # Refusals the loader could step over (a duplicate key, a refused tag):
    # validation goes on, so that one run reports them with the rest.
    problems: list[Diagnostic] = field(default_factory=list)

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


class _Lines:
    """Line and column of a place in the text, counted as editors count them.

    PyYAML also ends lines at U+0085, U+2028 and U+2029, which editors show
    inside a line; positions are therefore taken from a mark's character
    index, not from its line and column.
    """

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def at(self, index: int) -> Position:
        line = bisect.bisect_right(self._starts, index)
        return Position(line, index - self._starts[line - 1] + 1)

    def of_mark(self, mark: Any) -> Position:
        return Position(1, 1) if mark is None else self.at(mark.index)

    def of_node(self, node: Node) -> Position:
        return self.of_mark(node.start_mark)


class _Refused(Exception):
    """The whole file is refused; carries the one diagnostic to report."""

    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


def _too_many(position: Position) -> _Refused:
    return _Refused(
        position,
        f"the spec has more than {MAX_NODES} values, far more than a spec "
        "needs: is this the right file?",
    )


def _too_expanded(position: Position) -> _Refused:
    return _Refused(
        position,
        f"the spec expands to more than {MAX_NODES} values through its "
        "aliases: write the values out, with fewer aliases",
    )


def _too_deep(position: Position) -> _Refused:
    return _Refused(
        position,
        f"nesting deeper than {MAX_DEPTH} levels: a spec needs only a few",
    )


class _SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader, bounded in nesting and size while it composes.

    PyYAML's composer recurses once per nesting level and builds every node
    before anything is checked, so the bounds must apply here, not after.
    """

    def __init__(self, text: str, lines: _Lines) -> None:
        super().__init__(text)
        self._lines = lines
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # The stubs leave peek_event untyped; it returns the next event.
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _too_many(self._lines.of_mark(event.start_mark))
        if self._depth > MAX_DEPTH:
            raise _too_deep(self._lines.of_mark(event.start_mark))

        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1

        if isinstance(event, AliasEvent) and node is not None:
            # An alias shares its anchor's node; a copy placed at the alias
            # makes a diagnostic about this use point here, not at the anchor.
            node = copy.copy(node)
            node.start_mark = event.start_mark
            node.end_mark = event.end_mark
        return node


class _Converter:
    """Turns a composed YAML node graph into plain data, recording positions."""

    def __init__(self, file: str, lines: _Lines) -> None:
        self.file = file
        self.lines = lines
        self.values: dict[Path_, Position] = {}
        self.keys: dict[Path_, Position] = {}
        self.errors: list[Diagnostic] = []
        self.nodes = 0
        self._constructor = SafeConstructor()
        # The collections being converted, by the identity of their item
        # lists: an alias to one of them would repeat forever.
        self._open: set[int] = set()

    def error(self, node: Node, message: str) -> None:
        self.errors.append(
            Diagnostic(self.file, self.lines.of_node(node), Severity.ERROR, message)
        )

    def diagnostics(self) -> list[Diagnostic]:
        """The errors found, once each (aliases repeat them), in file order."""
        return sorted(set(self.errors), key=Diagnostic.sort_key)

    def convert(self, node: Node, path: Path_) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _too_expanded(self.lines.of_node(node))
        if len(path) > MAX_DEPTH:
            raise _too_deep(self.lines.of_node(node))
        self.values[path] = self.lines.of_node(node)

        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node.value) in self._open:
            self.error(
                node,
                "this alias refers to a list or mapping that contains it, "
                "which never ends: write the values out instead",
            )
            return None
        self._open.add(id(node.value))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return self._sequence(node, path)
        finally:
            self._open.discard(id(node.value))

    def _sequence(self, node: Node, path: Path_) -> list[Any] | None:
        if node.tag != f"{_YAML}seq":
            self.error(
                node,
                f"the tag {_tag_name(node.tag)} is not allowed in a spec: remove it",
            )
            return None
        return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: ScalarNode) -> Any:
        if not _is_text(node.value):
            self.error(node, _not_text(node.value))
            return None
        if node.tag in _TEXT_TAGS:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            tag = _tag_name(node.tag)
            self.error(
                node, f"the tag {tag} is not allowed in a spec: write a plain value"
            )
            return None
        if node.style is None and node.tag != f"{_YAML}str":
            surprise = _surprising_number(node.value)
            if surprise:
                self.error(node, surprise)
                return None
        try:
            return self._constructor.construct_object(node, deep=True)
        # PyYAML's constructors fail on explicitly tagged junk (`!!bool maybe`,
        # `!!int ''`) with whatever their parsing raises, and Python refuses
        # integers of more than 4300 digits.
        except (yaml.YAMLError, ValueError, KeyError, IndexError, TypeError):
            self.error(node, self._unreadable(node))
            return None

    def _unreadable(self, node: ScalarNode) -> str:
        value = _short(node.value)
        if node.tag == f"{_YAML}int" and re.fullmatch(r"[-+]?[0-9_]+", node.value):
            return f"'{value}' is too large a number: write a smaller one"
        tag = _tag_name(node.tag)
        return f"'{value}' cannot be read as {tag}: remove the tag, or fix the value"

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        if node.tag != f"{_YAML}map":
            self.error(
                node,
                f"the tag {_tag_name(node.tag)} is not allowed in a spec: remove it",
            )
            return {}
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            if key is None:
                continue
            if key in first_seen:
                line = self.lines.of_node(first_seen[key]).line
                self.error(
                    key_node,
                    f"duplicate key '{key}' (first written on line {line}): "
                    "keep only one",
                )
                continue
            first_seen[key] = key_node
            self.keys[(*path, key)] = self.lines.of_node(key_node)
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
            self.error(
                node,
                f"the tag {_tag_name(node.tag)} is not allowed on a key: remove it",
            )
            return None
        if node.value == "":
            self.error(node, "empty key: write a field name before the colon")
            return None
        if not _is_text(node.value):
            self.error(node, _not_text(node.value))
            return None
        # Keys are names: YAML 1.1 would turn `on:` into True and `5000:` into
        # an integer, which is never what a spec means.
        return str(node.value)


def _is_text(value: str) -> bool:
    # A double-quoted "\ud800" escape yields half of a UTF-16 pair, which no
    # file can hold: writing it would fail long after validation.
    return not any("\ud800" <= char <= "\udfff" for char in value)


def _not_text(value: str) -> str:
    bad = next(char for char in value if "\ud800" <= char <= "\udfff")
    return (
        f"\\u{ord(bad):04x} is half of a UTF-16 surrogate pair, not a character: "
        "write the character itself, or its \\U escape"
    )


def _surprising_number(value: str) -> str | None:
    if value in _YAML11_BOOLEANS:
        meaning = _YAML11_BOOLEANS[value]
        return (
            f"YAML 1.1 reads {value} as {meaning}, editors (YAML 1.2) as text: "
            f"write {meaning}, or quote '{value}' if it is text"
        )
    if _UNDERSCORED_NUMBER.fullmatch(value):
        digits = value.replace("_", "")
        return (
            f"YAML 1.1 reads {value} as {digits}, editors (YAML 1.2) as text: "
            f"write {digits}, or quote '{value}' if it is text"
        )
    if not _SURPRISING_NUMBER.fullmatch(value):
        return None
    if ":" in value:
        return (
            f"YAML 1.1 reads {value} as a base-60 number: write the number "
            f"you mean, or quote '{value}' if it is text"
        )
    return (
        f"YAML 1.1 reads {value} as an octal number: write it without "
        f"leading zeros, or quote '{value}' if it is text"
    )


def _tag_name(tag: str) -> str:
    """A tag as it is written in YAML: ``!!binary``, ``!custom``."""
    if tag.startswith(_YAML):
        return "!!" + tag.removeprefix(_YAML)
    return tag


def _short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _fail(file: str, position: Position, message: str) -> SpecError:
    return SpecError([Diagnostic(file, position, Severity.ERROR, message)])


def _decode(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Everything before the bad byte is valid: count in its characters.
        before = raw[: exc.start].decode("utf-8-sig")
        raise _fail(
            file,
            _Lines(before).at(len(before)),
            f"the spec is not UTF-8 text (byte 0x{raw[exc.start]:02x}): "
            "save it as UTF-8",
        ) from None


def _syntax_message(exc: yaml.MarkedYAMLError, lines: _Lines) -> str:
    problem = exc.problem or "invalid YAML"
    context = exc.context or ""
    if "expected a single document" in context:
        return "more than one YAML document: a spec is one document (remove '---')"
    if "duplicate anchor" in context:
        line = lines.of_mark(exc.context_mark).line
        anchor = context.split("'")[1] if "'" in context else ""
        return (
            f"YAML syntax: the anchor &{anchor} is defined twice (first on "
            f"line {line}): rename one"
        )
    if "duplicate" in problem and "directive" in problem:
        return f"YAML syntax: {problem}: keep only one"

    where = ""
    if exc.context_mark is not None:
        start = lines.of_mark(exc.context_mark)
        where = f"on line {start.line}, column {start.column}"
    for fragment, hint in _SYNTAX_HINTS:
        if fragment in problem:
            return f"YAML syntax: {problem}: {hint.format(where=where).strip()}"
    return f"YAML syntax: {problem}"


def _unreadable_character(
    exc: yaml.reader.ReaderError, file: str, lines: _Lines
) -> SpecError:
    # Raised while reading, before any mark exists: only an index.
    return _fail(
        file,
        lines.at(exc.position),
        f"the spec holds the control character U+{exc.character:04X}, "
        "which YAML does not allow: remove it",
    )


def _compose(text: str, file: str, lines: _Lines) -> Node:
    try:
        loader = _SpecLoader(text, lines)
    except yaml.reader.ReaderError as exc:
        raise _unreadable_character(exc, file, lines) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise _fail(file, lines.of_mark(mark), _syntax_message(exc, lines)) from None
    except yaml.reader.ReaderError as exc:
        raise _unreadable_character(exc, file, lines) from None
    except _Refused as exc:
        raise _fail(file, exc.position, exc.message) from None
    finally:
        loader.dispose()
    if node is None:
        raise _fail(
            file,
            Position(1, 1),
            "the spec is empty: write at least `registry: {server: HOST}`",
        )
    return node


def load_bytes(raw: bytes, file: str, *, keep_going: bool = False) -> Document:
    """Load a spec from its bytes; ``file`` is the name used in diagnostics.

    Refusals that leave the rest readable raise ``SpecError`` too, unless
    ``keep_going``: then they are left in ``Document.problems`` and the
    refused node reads as empty.
    """
    if len(raw) > MAX_SPEC_BYTES:
        raise _fail(
            file,
            Position(1, 1),
            f"the spec is larger than {MAX_SPEC_BYTES} bytes, the most a spec "
            "may have: is this the right file?",
        )
    text = _decode(raw, file)
    lines = _Lines(text)
    root = _compose(text, file, lines)

    if not isinstance(root, MappingNode):
        raise _fail(
            file,
            lines.of_node(root),
            "the top level of a spec must be a mapping, such as "
            "`registry: {server: HOST}`",
        )

    converter = _Converter(file, lines)
    try:
        data = converter.convert(root, ())
    except _Refused as exc:
        raise _fail(file, exc.position, exc.message) from None
    if converter.errors and not keep_going:
        raise SpecError(converter.diagnostics())

    return Document(
        file=file,
        data=data,
        sha256=hashlib.sha256(raw).hexdigest(),
        values=converter.values,
        keys=converter.keys,
        problems=converter.diagnostics(),
    )


def check_file_name(path: Path) -> None:
    """Refuse a spec file name that cannot be copied into artifacts safely.

    Every artifact's header names the spec file, in a shell, YAML or unit
    file comment; a line break in the name would end that comment.
    """
    if any(unicodedata.category(char) in _BAD_NAME_CATEGORIES for char in path.name):
        raise UsageError(
            f"{path}: the file name holds a line break or control character, "
            "which would be copied into the generated files: rename the file"
        )


def load(path: Path, file: str | None = None, *, keep_going: bool = False) -> Document:
    """Read and load the spec at ``path``; raises ``OSError`` if unreadable."""
    check_file_name(path)
    with path.open("rb") as stream:
        raw = stream.read(MAX_SPEC_BYTES + 1)
    return load_bytes(raw, file or str(path), keep_going=keep_going)
