"""Where a spec's strings land in the artifacts, and whether they are inert there.

A value may appear in a shell script, an environment file (sourced by sh and
read by systemd), a Python script or the commands of APPLY.md only where its
destination reads it literally:

- inside single quotes;
- inside double quotes, when it holds none of the characters that keep their
  meaning there (``$``, a backtick, ``\\``, ``"``);
- in a comment, when it holds no line break;
- anywhere, when it is made only of characters no shell treats specially
  (``[A-Za-z0-9_./:@%+=,-]``, the set of ``regc.quoting.sh``).

In a systemd unit, outside comments, a value must be made of those characters
without ``%`` (a specifier).  JSON and YAML artifacts must parse, and an
htpasswd file must be lines of ``USER:HASH``.

The lexers here are small and approximate: they follow the quoting of the
templates regc ships, and a test that fails on them shows the line concerned.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import yaml

SAFE = re.compile(r"[A-Za-z0-9_./:@%+=,-]+")
UNIT_SAFE = re.compile(r"[A-Za-z0-9_./:@+=,-]+")
HTPASSWD_LINE = re.compile(r"[^:\s]+:\S+")
# Characters that keep their meaning inside double quotes.
_DOUBLE_ACTIVE = frozenset('$`\\"')
# Where a word may start, so that '#' begins a comment.
_WORD_BREAK = frozenset(" \t\n;&|()")

# Lexical regions of one character.
CODE, SINGLE, DOUBLE, COMMENT, ESCAPED = "c", "s", "d", "#", "e"


def sh_regions(text: str) -> str:
    """The region of each character of a POSIX shell text, one letter each."""
    regions: list[str] = []
    state = CODE
    i = 0
    while i < len(text):
        char = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if state == CODE:
            if char == "\\" and nxt:
                regions += [CODE, ESCAPED]
                i += 2
                continue
            if char == "'":
                state = SINGLE
            elif char == '"':
                state = DOUBLE
            elif char == "#" and (i == 0 or text[i - 1] in _WORD_BREAK):
                state = COMMENT
                regions.append(COMMENT)
                i += 1
                continue
            regions.append(CODE)
        elif state == SINGLE:
            if char == "'":
                state = CODE
                regions.append(CODE)
            else:
                regions.append(SINGLE)
        elif state == DOUBLE:
            if char == "\\" and nxt in ("$", "`", '"', "\\", "\n"):
                regions += [DOUBLE, DOUBLE]
                i += 2
                continue
            if char == '"':
                state = CODE
                regions.append(CODE)
            else:
                regions.append(DOUBLE)
        else:
            if char == "\n":
                state = CODE
                regions.append(CODE)
            else:
                regions.append(COMMENT)
        i += 1
    return "".join(regions)


def python_regions(text: str) -> str:
    """String literals and comments of a Python text as inert, the rest code."""
    regions = [CODE] * len(text)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    readline = io.StringIO(text).readline
    for token in tokenize.generate_tokens(readline):
        if token.type in (tokenize.STRING, tokenize.COMMENT):
            begin = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            for index in range(begin, end):
                regions[index] = SINGLE
    return "".join(regions)


def _occurrences(text: str, value: str) -> Iterable[int]:
    start = text.find(value)
    while start != -1:
        yield start
        start = text.find(value, start + 1)


def _inert(value: str, span: str) -> bool:
    if all(region in (SINGLE, ESCAPED) for region in span):
        return True
    if all(region == DOUBLE for region in span):
        return not _DOUBLE_ACTIVE & set(value)
    return all(region == COMMENT for region in span) and "\n" not in value


def _line_of(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end != -1 else len(text)]


def exposed_in_shell(text: str, value: str, regions: str) -> list[str]:
    """The lines where ``value`` appears in ``text`` and is not inert."""
    if SAFE.fullmatch(value):
        return []
    return [
        _line_of(text, start)
        for start in _occurrences(text, value)
        if not _inert(value, regions[start : start + len(value)])
    ]


def _markdown_commands(text: str) -> str:
    """The indented code blocks of a Markdown text; other lines blanked."""
    return "".join(
        line if line.startswith("    ") else "\n"
        for line in text.splitlines(keepends=True)
    )


def kind_of(path: str, content: bytes) -> str:
    """How an artifact is read: sh, unit, python, markdown, json, yaml, htpasswd."""
    if path.endswith("htpasswd"):
        return "htpasswd"
    if path.endswith(".json"):
        return "json"
    if path.endswith((".yml", ".yaml")):
        return "yaml"
    if path.endswith(".py") or content.startswith(b"#!/usr/bin/env python"):
        return "python"
    if path.endswith(".md"):
        return "markdown"
    if path.endswith(".conf") and "/systemd/" in path:
        return "unit"
    if path.endswith(".sh") or content.startswith(b"#!/bin/sh"):
        return "sh"
    if path.startswith("hosts/") and ("/sysconfig/" in path or "/default/" in path):
        return "sh"
    raise AssertionError(f"{path}: unknown kind of artifact; teach artifact_scan")


def template_lines(artifacts: Iterable[bytes]) -> set[str]:
    """The lines of some artifacts: text the templates write for any spec."""
    return {line for content in artifacts for line in content.decode().split("\n")}


def problems(
    artifacts: Mapping[str, bytes],
    values: Iterable[str],
    template: AbstractSet[str] = frozenset(),
) -> list[str]:
    """Every place a value is not inert, and every artifact that does not parse.

    A line found verbatim in ``template`` (the lines of another spec's
    artifacts) is the templates' own text, such as the ``*)`` of a ``case``
    that a value ``*`` would match, and is not reported.
    """
    found: list[str] = []
    values = {value for value in values if value}
    for path, content in sorted(artifacts.items()):
        text = content.decode("utf-8")
        kind = kind_of(path, content)
        if kind == "json":
            json.loads(text)
            continue
        if kind == "yaml":
            yaml.safe_load(text)
            continue
        if kind == "htpasswd":
            # Read by the registry, one USER:HASH a line; a value can only
            # harm it by adding lines or fields.
            found += [
                f"{path}: not USER:HASH: {line!r}"
                for line in text.split("\n")
                if line
                and not line.startswith("#")
                and not HTPASSWD_LINE.fullmatch(line)
            ]
            continue
        if kind == "python":
            compile(text, path, "exec")
        elif kind == "markdown":
            text = _markdown_commands(text)

        safe = UNIT_SAFE if kind == "unit" else SAFE
        present = sorted(v for v in values if v in text and not safe.fullmatch(v))
        if not present:
            continue
        if kind == "unit":
            exposed = {
                value: [
                    line
                    for line in text.split("\n")
                    if value in line and not line.startswith(("#", ";"))
                ]
                for value in present
            }
        else:
            regions = python_regions(text) if kind == "python" else sh_regions(text)
            exposed = {
                value: exposed_in_shell(text, value, regions) for value in present
            }
        found += [
            f"{path}: {value!r} in {line!r}"
            for value, lines in exposed.items()
            for line in lines
            if line not in template
        ]
    return found


def strings_in(data: Any) -> list[str]:
    """Every string in a spec's data, keys included."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [str(k), *strings_in(v)]]
    if isinstance(data, list):
        return [s for item in data for s in strings_in(item)]
    return []
