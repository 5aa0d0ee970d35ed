"""The spec's JSON Schema, exported from the models for editors.

yaml-language-server reads draft-07, so pydantic's output is adjusted:
``$defs`` become ``definitions``, and a ``$ref`` with sibling keywords (which
draft-07 ignores, losing the hover text) is wrapped in ``allOf``.
"""

from __future__ import annotations

import json
from typing import Any

from .spec import Spec

DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def _to_draft_07(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_draft_07(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _to_draft_07(value) for key, value in node.items()}
    ref = converted.get("$ref")
    if isinstance(ref, str):
        converted["$ref"] = ref.replace("#/$defs/", "#/definitions/")
        if len(converted) > 1:
            converted["allOf"] = [{"$ref": converted.pop("$ref")}]
    return converted


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of ``registry.yaml``, draft-07."""
    raw = Spec.model_json_schema(ref_template="#/$defs/{model}")
    definitions = raw.pop("$defs", {})
    schema: dict[str, Any] = {"$schema": DRAFT_07}
    schema.update(_to_draft_07(raw))
    if definitions:
        schema["definitions"] = {
            name: _to_draft_07(body) for name, body in sorted(definitions.items())
        }
    return schema


def schema_text() -> str:
    """The schema as committed in ``schemas/registry.schema.json``."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
