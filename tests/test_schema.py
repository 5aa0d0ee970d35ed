"""The committed JSON Schema: current, draft-07, strict, and true to the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from conftest import ROOT
from regc.cli import app
from regc.schema import schema_text

SCHEMA_FILE = ROOT / "schemas" / "registry.schema.json"


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text("utf-8"))
    return loaded


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_committed_schema_equals_regc_schema_output() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.output == SCHEMA_FILE.read_text("utf-8") == schema_text(), (
        "regenerate with `regc schema > schemas/registry.schema.json`"
    )


def test_schema_is_valid_draft_07_without_newer_keywords() -> None:
    schema = _schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    keywords = {key for node in _walk(schema) for key in node}
    assert not keywords & {"prefixItems", "$defs", "unevaluatedProperties"}


def test_every_object_forbids_unknown_keys_and_every_property_is_described() -> None:
    for node in _walk(_schema()):
        # Maps (htpasswd users, the config escape hatch) have no properties.
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, node.get("title")
            for name, prop in node["properties"].items():
                assert prop.get("description"), f"{node['title']}.{name}"


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")))
def test_examples_validate_against_the_schema(path: Path) -> None:
    jsonschema.Draft7Validator(_schema()).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(
    "document",
    [
        {"registy": {"server": "a"}},
        {"registry": {"server": "a", "prot": 5000}},
        {"registry": {"server": "a", "port": 70000}},
        {"registry": {"server": "a", "port": "5000"}},
        {"registry": {"server": "a", "restart": "sometimes"}},
        {"registry": {"server": "a", "container_name": "bad name"}},
        {"registry": {"port": 5000}},
    ],
)
def test_schema_rejects_what_the_models_reject(document: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(_schema()).validate(document)


def test_examples_start_with_the_yaml_language_server_modeline() -> None:
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        first = path.read_text("utf-8").splitlines()[0]
        assert (
            first == "# yaml-language-server: $schema=../schemas/registry.schema.json"
        )
