"""The loader: plain data with positions, and refusal of what could surprise."""

from __future__ import annotations

import time

import pytest

from regc.diagnostics import Position, SpecError
from regc.load import MAX_SPEC_BYTES, load_bytes


def _error(text: str | bytes) -> tuple[int, int, str]:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(SpecError) as caught:
        load_bytes(raw, "spec.yaml")
    first = caught.value.diagnostics[0]
    return first.position.line, first.position.column, first.message


def test_values_and_keys_are_recorded_with_their_positions() -> None:
    document = load_bytes(b"registry:\n  server: host\n  port: 5000\n", "s.yaml")
    assert document.data == {"registry": {"server": "host", "port": 5000}}
    assert document.values[("registry", "port")] == Position(3, 9)
    assert document.keys[("registry", "port")] == Position(3, 3)


def test_keys_are_names_as_written_not_yaml_11_booleans() -> None:
    document = load_bytes(b"on: 1\n5000: x\n", "s.yaml")
    assert document.data == {"on": 1, "5000": "x"}


def test_a_date_like_value_stays_text() -> None:
    assert load_bytes(b"a: 2024-01-01\n", "s.yaml").data == {"a": "2024-01-01"}


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first written on line 1)"),
        ("r:\n  s: 1\n  t:\n    u: 1\n    u: 2\n", 5, 5, "duplicate key 'u'"),
        ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"),
        ("- a\n- b\n", 1, 1, "top level of a spec must be a mapping"),
        ("just text\n", 1, 1, "top level of a spec must be a mapping"),
        ("", 1, 1, "the spec is empty"),
        ("a: !!python/object:os.system x\n", 1, 4, "tag"),
        ("a: !!binary aGk=\n", 1, 4, "tag"),
        ("a: !custom x\n", 1, 4, "tag"),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", 3, 3, "merge keys (<<) are not supported"),
        ("a: [1, 2\n", 2, 1, "YAML syntax"),
        ("a:\n\tb: 1\n", 2, 1, "YAML syntax"),
        ("a: 'unterminated\n", 2, 1, "YAML syntax"),
        ("? [a, b]\n: 1\n", 1, 3, "a key must be a plain name"),
        ("? \n: 1\n", 1, 2, "empty key"),
    ],
)
def test_refused_input_is_reported_at_its_position(
    text: str, line: int, column: int, fragment: str
) -> None:
    found = _error(text)
    assert fragment in found[2]
    assert found[:2] == (line, column)


def test_a_file_that_is_not_utf8_points_at_the_bad_byte() -> None:
    assert _error(b"a: 1\nb: caf\xe9\n")[:2] == (2, 7)


def test_a_file_larger_than_the_limit_is_refused_before_parsing() -> None:
    line, column, message = _error(b"#" * (MAX_SPEC_BYTES + 1))
    assert (line, column) == (1, 1)
    assert "larger than" in message


def test_billion_laughs_fails_fast() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.monotonic()
    message = _error("\n".join(lines) + "\n")[2]
    assert "expands to more than" in message
    assert time.monotonic() - start < 2


def test_deep_nesting_is_refused_without_exhausting_the_stack() -> None:
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    assert "nesting deeper than" in _error(deep)[2]
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n"
    assert "nesting deeper than" in _error(block)[2]


def test_all_duplicate_keys_are_reported_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        load_bytes(b"a: 1\na: 2\nb:\n  c: 1\n  c: 2\n", "s.yaml")
    assert [d.position.line for d in caught.value.diagnostics] == [2, 5]


def test_aliases_within_bounds_are_expanded() -> None:
    document = load_bytes(b"a: &x [1, 2]\nb: *x\n", "s.yaml")
    assert document.data == {"a": [1, 2], "b": [1, 2]}
