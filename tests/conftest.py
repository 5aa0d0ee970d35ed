"""Shared fixtures: the repository's examples and a way to build a spec."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from regc.pipeline import compile_spec
from regc.render import Artifact
from regc.write import write_artifacts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

# realtools.py sits beside this file; make it importable as a plain module.
sys.path.insert(0, str(Path(__file__).parent))

BuildSpec = Callable[..., Path]


def artifacts_of(spec: Path) -> dict[str, Artifact]:
    """The artifacts of a spec by path, compiled in memory."""
    return {a.path: a for a in compile_spec(spec).artifacts}


@pytest.fixture
def build_spec(tmp_path: Path) -> BuildSpec:
    """Write YAML text as a spec, build it, and return its OUT/NAME folder."""

    def build(text: str, *, stem: str = "registry") -> Path:
        spec = tmp_path / f"{stem}.yaml"
        spec.write_text(text, encoding="utf-8")
        compiled = compile_spec(spec)
        out = tmp_path / "out"
        write_artifacts(out, compiled.name, compiled.artifacts)
        return out / compiled.name

    return build


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request: pytest.FixtureRequest) -> Path:
    """Each spec under examples/."""
    path: Path = request.param
    return path
