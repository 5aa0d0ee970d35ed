"""Validation as users type: the committed schema in real editor tooling.

yaml-language-server is the back end of VS Code's YAML extension and of
Neovim's yamlls; it is driven here over stdio, as an editor does, with the
two ways README.md gives to attach the schema (the modeline and the
`yaml.schemas` setting).  check-jsonschema is the pre-commit hook README.md
suggests for specs.  The server is pinned in tests/editor/package-lock.json
and installed by scripts/test (`npm ci --prefix tests/editor`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from languageserver import LanguageServer
from realtools import require_tool

SCHEMA = ROOT / "schemas" / "registry.schema.json"
SERVER = ROOT / "tests" / "editor" / "node_modules" / ".bin" / "yaml-language-server"
MODELINE = "# yaml-language-server: $schema=../schemas/registry.schema.json\n"
# A spec with a typo on line 4 and a port out of range on line 5.
TYPO_AND_PORT = (
    "registry:\n"
    "  server: 192.168.1.10\n"
    "  image: registry:2.8.3\n"
    "  prot: 5000\n"
    "  port: 70000\n"
)
SETTINGS = {"yaml": {"validate": True, "hover": True, "completion": True}}


def _server_command() -> list[str]:
    node = require_tool("node")
    if not SERVER.exists():
        message = (
            "yaml-language-server is not installed: run "
            "`npm ci --prefix tests/editor` (scripts/test does)"
        )
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return [node, str(SERVER.resolve()), "--stdio"]


@pytest.fixture
def editor(tmp_path: Path) -> Iterator[LanguageServer]:
    """A started yaml-language-server, its workspace the repository."""
    with LanguageServer(_server_command(), SETTINGS, cwd=tmp_path) as server:
        _start(server, ROOT, SETTINGS)
        yield server


def _start(server: LanguageServer, root: Path, settings: dict[str, Any]) -> None:
    server.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {
                "textDocument": {
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {},
                },
                "workspace": {"configuration": True, "workspaceFolders": True},
            },
        },
    )
    server.notify("initialized", {})
    server.notify("workspace/didChangeConfiguration", {"settings": settings})


def _open(server: LanguageServer, path: Path, text: str) -> str:
    uri = path.as_uri()
    document = {"uri": uri, "languageId": "yaml", "version": 1, "text": text}
    server.notify("textDocument/didOpen", {"textDocument": document})
    return uri


def _diagnostics(
    server: LanguageServer, uri: str, nonempty: bool = True
) -> list[tuple[int, str]]:
    """(1-based line, message) of what the editor underlines in ``uri``."""
    params = server.wait_for(
        "textDocument/publishDiagnostics",
        lambda p: p["uri"] == uri and (bool(p["diagnostics"]) or not nonempty),
    )
    return sorted(
        (d["range"]["start"]["line"] + 1, d["message"]) for d in params["diagnostics"]
    )


def _description(*path: str) -> str:
    """A field's description in the committed schema, following references."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    node: dict[str, Any] = schema
    for name in path:
        while "properties" not in node:
            ref = node.get("$ref") or node["allOf"][0]["$ref"]
            node = schema["definitions"][ref.rsplit("/", 1)[1]]
        node = node["properties"][name]
    description: str = node["description"]
    return description


def test_a_typo_and_a_port_out_of_range_are_marked_on_their_lines(
    editor: LanguageServer,
) -> None:
    # An unsaved buffer beside the examples: its modeline finds the schema.
    uri = _open(editor, ROOT / "examples" / "unsaved.yaml", MODELINE + TYPO_AND_PORT)
    assert _diagnostics(editor, uri) == [
        (5, "Property prot is not allowed."),
        (6, "Value is above the maximum of 65535."),
    ]


def test_the_examples_have_no_diagnostics(editor: LanguageServer) -> None:
    # The schema is loaded by the first document, so the second's empty
    # result is a real verdict, not a result from before the schema came.
    _diagnostics(editor, _open(editor, ROOT / "examples/x.yaml", MODELINE + "x: 1\n"))
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        uri = _open(editor, example, example.read_text("utf-8"))
        assert _diagnostics(editor, uri, nonempty=False) == []


def test_hover_on_a_key_shows_its_description_from_the_models(
    editor: LanguageServer,
) -> None:
    uri = _open(editor, ROOT / "examples" / "unsaved.yaml", MODELINE + TYPO_AND_PORT)
    for line, name in ((2, "server"), (5, "port")):
        hover = editor.request(
            "textDocument/hover",
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": 3}},
        )
        assert _description("registry", name) in hover["contents"]["value"]


def test_the_yaml_schemas_setting_applies_without_a_modeline(tmp_path: Path) -> None:
    # As README.md tells VS Code and Neovim users: a workspace-relative path.
    shutil.copy(SCHEMA, tmp_path / "registry.schema.json")
    settings = {
        "yaml": {
            **SETTINGS["yaml"],
            "schemas": {"./registry.schema.json": ["registry.yaml", "specs/*.yaml"]},
        }
    }
    with LanguageServer(_server_command(), settings, cwd=tmp_path) as server:
        _start(server, tmp_path, settings)
        uri = _open(server, tmp_path / "specs" / "edge.yaml", TYPO_AND_PORT)
        assert _diagnostics(server, uri) == [
            (4, "Property prot is not allowed."),
            (5, "Value is above the maximum of 65535."),
        ]


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_pattern_of_the_schema_is_a_regex_editors_accept() -> None:
    # yaml-language-server compiles patterns as JavaScript regexes in unicode
    # mode, where an escape Python allows, such as \", is a syntax error.
    patterns = sorted(set(_patterns(json.loads(SCHEMA.read_text("utf-8")))))
    script = (
        "for (const p of JSON.parse(require('fs').readFileSync(0, 'utf8'))) {"
        " try { new RegExp(p, 'u') } catch (e) { console.log(e.message) } }"
    )
    result = subprocess.run(
        [require_tool("node"), "-e", script],
        input=json.dumps(patterns),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).with_name("check-jsonschema")
    if not command.exists():
        command = Path(require_tool("check-jsonschema"))
    return subprocess.run(
        [str(command), "--schemafile", str(SCHEMA), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_jsonschema_passes_the_examples_and_names_the_errors(
    tmp_path: Path,
) -> None:
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    passed = _check_jsonschema(*examples)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    spec = tmp_path / "registry.yaml"
    spec.write_text(TYPO_AND_PORT)
    failed = _check_jsonschema(spec)
    assert failed.returncode == 1
    assert "'prot' was unexpected" in failed.stdout
    assert "70000 is greater than the maximum of 65535" in failed.stdout
