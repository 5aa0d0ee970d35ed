"""Properties of the compiler for any input: hostile input changes nothing.

Whatever bytes a spec file holds, regc either compiles it or reports
positioned diagnostics (exit 0 or 1): never an internal error (exit 3), never
a traceback, and the same input always gives the same output.  When a spec
compiles, no string of it is live in a shell artifact (tests/artifact_scan.py).

The examples are derandomized (the same ones on every run, so CI is
deterministic) and kept few enough for the file to run in seconds; raise
REGC_HYPOTHESIS_EXAMPLES locally to search longer.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from artifact_scan import problems, strings_in, template_lines
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from regc.diagnostics import SpecError
from regc.pipeline import compile_spec

# Examples per property; the command line property, at half a second per
# example, runs a thirtieth as many.
EXAMPLES_PER_PROPERTY = int(os.environ.get("REGC_HYPOTHESIS_EXAMPLES", "150"))
PROFILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES_PER_PROPERTY,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DIAGNOSTIC = re.compile(
    r"(?P<file>[^:]+):(?P<line>[0-9]+):(?P<column>[0-9]+): "
    r"(?:error|warning)(?:\[RG[0-9]+\])?: \S.*"
)
# Words of pydantic or Python, never of the spec: a message holding one
# was not translated into the spec's terms.
FOREIGN_WORDS = ("Input should", "[type=", "pydantic", "Traceback", "sys.set_int")

# The words and punctuation specs are made of, and shell syntax.
SPEC_WORDS = [
    "name", "registry", "server", "port", "image", "container_name", "restart",
    "data_dir", "config_path", "log_level", "cors", "enabled", "allow_origins",
    "humpback", "url", "cluster_mode", "center_api", "top_news", "hosts", "os",
    "docker", "package", "method", "machines",
]  # fmt: skip
YAML_PIECES = [
    ": ", ":", "\n", "  ", "    ", "- ", "[", "]", "{", "}", ", ", "&a ", "*a",
    "&b ", "*b", "!!str ", "!!binary ", "!!python/object:os.system ", "!x ",
    "<<: ", "---\n", "...\n", "'", '"', "# c", "? ", "|\n", ">\n", "\t", "~",
    "null", "yes", "no", "on", "5000", "70000", "010", "1:30", "0x1f", "1e9",
    ".nan", "192.168.1.10", "2001:db8::1", "registry:2.5.1", "/var/lib/x",
    "http://h:8012", "*", "\\u0000", "\\ud800", "%", "@", "`",
]  # fmt: skip
SHELL_LOOKING = [
    "$(reboot)", "`reboot`", "; reboot", "a b", "a\nb", "'quoted'", '"quoted"',
    "${HOME}", "$HOME", "x && y", "x | y", "x > /etc/passwd", "\\", "#comment",
    "*", "?", "[a]", "~root", "-rf", "--privileged", "%n", "\x00", "\u2028",
    "\x1b[31m", "",
]  # fmt: skip
# Values each field accepts, the unusual ones too, so that mutated specs
# compile often enough for the artifact properties to be exercised.
ORIGINS = ["http://humpback.example.com:8012", "http://[2001:db8::2]:80", "*"]
PLAUSIBLE: dict[str, list[Any]] = {
    "name": ["reg-1", "x", "a" * 63],
    "server": ["192.168.1.10", "registry.example.com", "2001:db8::1", "localhost"],
    "port": [1, 443, 5000, 65535],
    "image": ["registry:2.8.3", "registry:3.0.0", "mirror.example.com:5443/lib/r:2"],
    "container_name": ["re.g_1-x", "registry"],
    "restart": ["always", "no", "on-failure", "unless-stopped"],
    "data_dir": ["/srv/reg+istry@2", "/data"],
    "config_path": ["/etc/r/conf@x.yml", "/c.yml"],
    "log_level": ["error", "debug"],
    "enabled": [True, False],
    "cluster_mode": [True, False],
    "allow_origins": [ORIGINS, ORIGINS[:1]],
    "url": ORIGINS[:2],
    "center_api": ORIGINS[:2],
    "top_news": SHELL_LOOKING,
    "os": ["centos6", "centos7", "ubuntu-upstart", "ubuntu-systemd", "debian", "any"],
    "docker": ["1.7.1", "1.10.3", "1.13.1", "17.03.2-ce", "18.09.3", "24.0.7"],
    "package": ["distribution", "docker-engine", "docker-ce"],
    "method": ["flags", "daemon-json"],
    "machines": [["web1.example.com", "10.0.0.2"], ["2001:db8::3"]],
}

EXAMPLE_DATA = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in EXAMPLES]
TEMPLATE = template_lines(
    artifact.content for path in EXAMPLES for artifact in compile_spec(path).artifacts
)


@dataclass(frozen=True)
class Outcome:
    """What compiling one spec gave: artifacts, or the diagnostics."""

    artifacts: tuple[tuple[str, int, bytes], ...] = ()
    diagnostics: tuple[str, ...] = ()

    @property
    def compiled(self) -> bool:
        return not self.diagnostics


def _compile(raw: bytes) -> Outcome:
    """Compile ``raw`` as registry.yaml in a fresh folder, in this process.

    Only a ``SpecError`` may come out; any other exception fails the
    property, as it would make the command line exit 3.
    """
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "registry.yaml"
        spec.write_bytes(raw)
        try:
            compiled = compile_spec(spec)
        except SpecError as exc:
            lines = [d.format().replace(folder + "/", "") for d in exc.diagnostics]
            return Outcome(diagnostics=tuple(lines))
        return Outcome(
            artifacts=tuple((a.path, a.mode, a.content) for a in compiled.artifacts)
        )


def _check_diagnostics(raw: bytes, outcome: Outcome) -> None:
    """Each diagnostic is one positioned line, inside the file, in file order."""
    # Lines as editors count them; PyYAML alone also breaks at U+2028.
    lines = re.split(r"\r\n|\r|\n", raw.decode("utf-8-sig", "replace"))
    positions = []
    for line in outcome.diagnostics:
        match = DIAGNOSTIC.fullmatch(line)
        assert match, f"not a diagnostic line: {line!r}"
        assert line.isprintable(), f"unprintable diagnostic: {line!r}"
        assert not any(word in line for word in FOREIGN_WORDS), line
        assert match["file"] == "registry.yaml"
        position = (int(match["line"]), int(match["column"]))
        assert 1 <= position[0] <= len(lines), line
        assert 1 <= position[1] <= len(lines[position[0] - 1]) + 1, line
        positions.append(position)
    assert positions == sorted(positions), outcome.diagnostics


def _check(raw: bytes) -> Outcome:
    """The properties every input must have; returns the outcome for more."""
    outcome = _compile(raw)
    assert _compile(raw) == outcome, "the same input gave different output"
    if outcome.compiled:
        assert outcome.artifacts
    else:
        _check_diagnostics(raw, outcome)
    return outcome


# --- arbitrary input --------------------------------------------------------

yaml_ish = st.lists(
    st.sampled_from([*SPEC_WORDS, *YAML_PIECES, *SHELL_LOOKING]), max_size=40
).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(SHELL_LOOKING + [v for vs in PLAUSIBLE.values() for v in vs]),
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(SPEC_WORDS) | st.text(max_size=8), children, max_size=5
        )
    ),
    max_leaves=25,
)


@PROFILE
@given(st.text(max_size=300))
def test_any_text_compiles_or_gives_positioned_diagnostics(text: str) -> None:
    _check(text.encode("utf-8", "surrogatepass"))


@PROFILE
@given(st.binary(max_size=300))
def test_any_bytes_compile_or_give_positioned_diagnostics(raw: bytes) -> None:
    _check(raw)


@PROFILE
@given(yaml_ish)
def test_yaml_like_text_compiles_or_gives_positioned_diagnostics(text: str) -> None:
    _check(text.encode("utf-8", "surrogatepass"))


@PROFILE
@given(documents)
def test_any_yaml_document_compiles_or_gives_positioned_diagnostics(
    data: Any,
) -> None:
    _check(yaml.safe_dump(data, allow_unicode=True).encode("utf-8", "surrogatepass"))


# --- mutated valid specs ----------------------------------------------------


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a mapping entry or list item of ``data``."""
    found: list[tuple[Any, ...]] = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


# The fields each mapping of a spec may hold, by the key of that mapping
# ("" for the top level, "hosts" for a host group), for mutations that keep
# a spec valid often enough to compile.
FIELDS_OF = {
    "": ["name"],
    "registry": ["server", "port", "image", "container_name", "restart",
                 "data_dir", "config_path", "log_level"],
    "cors": ["enabled", "allow_origins"],
    "humpback": ["enabled", "url", "cluster_mode", "center_api", "top_news"],
    "hosts": ["os", "docker", "package", "method", "machines"],
}  # fmt: skip
Mutation = Callable[[Any, tuple[Any, ...], Callable[..., Any]], None]


def _owner(path: tuple[Any, ...]) -> str:
    """The key naming the mapping that holds ``path``'s last part."""
    names = [part for part in path[:-1] if isinstance(part, str)]
    return names[-1] if names else ""


def _delete(data: Any, path: tuple[Any, ...], draw: Callable[..., Any]) -> None:
    del _parent(data, path)[path[-1]]


def _replace(data: Any, path: tuple[Any, ...], draw: Callable[..., Any]) -> None:
    _parent(data, path)[path[-1]] = draw(documents)


def _rename(data: Any, path: tuple[Any, ...], draw: Callable[..., Any]) -> None:
    parent = _parent(data, path)
    if isinstance(parent, dict):
        new = draw(st.sampled_from(SPEC_WORDS) | st.text(max_size=12))
        parent[new] = parent.pop(path[-1])


def _set_plausible(data: Any, path: tuple[Any, ...], draw: Callable[..., Any]) -> None:
    """Give a field another value of its kind, or now and then a shell-looking one."""
    choices = PLAUSIBLE.get(str(path[-1]))
    if choices is not None:
        choices = choices + SHELL_LOOKING[:2]
        _parent(data, path)[path[-1]] = draw(st.sampled_from(choices))


def _add_plausible(data: Any, path: tuple[Any, ...], draw: Callable[..., Any]) -> None:
    """Set a field of the mapping holding ``path``, one the example may omit."""
    parent = _parent(data, path)
    fields = FIELDS_OF.get(_owner(path))
    if isinstance(parent, dict) and fields:
        key = draw(st.sampled_from(fields))
        parent[key] = draw(st.sampled_from(PLAUSIBLE[key]))


MUTATIONS: list[Mutation] = [_delete, _replace, _rename]
KEEPING: list[Mutation] = [_set_plausible, _add_plausible]


@st.composite
def mutated_specs(draw: Callable[..., Any]) -> tuple[Any, str]:
    """An example spec with a few mutations, and its YAML text.

    Most mutations give fields other values of their kind, so that enough of
    the specs compile; the others delete, rename or replace anything.
    """
    data = json.loads(json.dumps(draw(st.sampled_from(EXAMPLE_DATA))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        kinds = draw(st.sampled_from([KEEPING, KEEPING, KEEPING, MUTATIONS]))
        draw(st.sampled_from(kinds))(data, path, draw)
    flow = draw(st.booleans())
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow)
    return data, text


@PROFILE
@given(mutated_specs())
def test_a_mutated_example_compiles_or_gives_positioned_diagnostics(
    spec: tuple[Any, str],
) -> None:
    data, text = spec
    outcome = _check(text.encode("utf-8", "surrogatepass"))
    event("compiled" if outcome.compiled else "refused")
    if outcome.compiled:
        artifacts = {path: content for path, _, content in outcome.artifacts}
        assert problems(artifacts, strings_in(data), TEMPLATE) == []


@settings(PROFILE, max_examples=max(EXAMPLES_PER_PROPERTY // 30, 3))
@given(st.one_of(mutated_specs().map(lambda spec: spec[1]), yaml_ish))
def test_the_command_line_agrees_with_the_compiler_and_never_exits_3(
    text: str,
) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    expected = _compile(raw)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "registry.yaml").write_bytes(raw)
        result = subprocess.run(
            [sys.executable, "-m", "regc", "build", "registry.yaml", "--out", "out"],
            cwd=folder,
            capture_output=True,
            timeout=60,
            check=False,
        )
        stderr = result.stderr.decode("utf-8")
        assert "Traceback" not in stderr
        if expected.compiled:
            assert result.returncode == 0, stderr
            assert Path(folder, "out").is_dir()
        else:
            assert result.returncode == 1, stderr
            assert stderr.splitlines()[:50] == list(expected.diagnostics)[:50]
            assert not Path(folder, "out").exists()
