"""The committed out/ is the golden copy of every artifact of the examples.

After a deliberate change, regenerate it and review the diff:

    .venv/bin/regc build examples/*.yaml --out out && git diff out/
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT, artifacts_of
from regc.check import compare
from regc.pipeline import compile_spec

REGENERATE = (
    "regenerate with `regc build examples/*.yaml --out out` and review git diff"
)


def test_out_holds_every_artifact_of_each_example_byte_for_byte(example: Path) -> None:
    compiled = compile_spec(example)
    differences = compare(ROOT / "out" / compiled.name, compiled.artifacts)
    report = "\n".join(f"{d.kind}: {d.path}\n{d.diff}" for d in differences)
    assert not differences, f"{report}\n{REGENERATE}"


def test_out_has_no_folder_without_an_example() -> None:
    names = {compile_spec(path).name for path in (ROOT / "examples").glob("*.yaml")}
    folders = {path.name for path in (ROOT / "out").iterdir() if path.is_dir()}
    assert folders == names


def test_minimal_spec_compiles_to_every_artifact_of_the_contract() -> None:
    paths = set(artifacts_of(ROOT / "examples" / "minimal.yaml"))
    assert paths == {
        "registry/config.yml",
        "registry/run.sh",
        "hosts/centos6/etc/sysconfig/docker",
        "hosts/centos7/etc/sysconfig/docker",
        "hosts/centos7/etc/systemd/system/docker.service.d/10-insecure-registry.conf",
        "hosts/ubuntu/etc/default/docker",
        "hosts/daemon-json/etc/docker/daemon.json",
        "verify.sh",
        "humpback/system-config.json",
        "manifest.json",
        # Beyond the contract's table: the runbook and the two apply scripts.
        "APPLY.md",
        "apply/merge-daemon-json.py",
        "humpback/apply.py",
    }


def test_manifest_lists_every_other_artifact_with_its_hash_and_mode(
    example: Path,
) -> None:
    artifacts = artifacts_of(example)
    manifest = json.loads(artifacts.pop("manifest.json").content)
    listed = {entry["path"]: entry for entry in manifest["artifacts"]}
    assert set(listed) == set(artifacts)
    for path, artifact in artifacts.items():
        assert listed[path]["sha256"] == artifact.sha256
        script = path.endswith((".sh", ".py"))
        assert listed[path]["mode"] == ("0755" if script else "0644")
    assert manifest["spec"]["file"] == example.name
    assert manifest["generator"].startswith("regc ")


def test_compiling_twice_gives_the_same_bytes(example: Path) -> None:
    first = artifacts_of(example)
    second = artifacts_of(example)
    assert first == second
