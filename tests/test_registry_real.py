"""The generated config.yml runs the real registry, as the guide's setup does.

`docker-registry serve` (Debian's package, the same code as the registry
image) runs as a plain process. The container's port and data mount, which
docker's -p and -v would provide, are given by the registry's documented
REGISTRY_HTTP_ADDR and REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY overrides.
skopeo pushes like a Docker host that trusts the insecure registry.

These are the examples of the guide's kind: plain HTTP, images on the host's
disk. The examples with TLS, logins, S3 or a Docker Hub upstream need files
and servers this machine does not have under those names; each of their
features is proven on the real registry in test_features_real.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, BuildSpec
from realtools import (
    RunningRegistry,
    http_get,
    make_oci_layout,
    require_tool,
    run_registry,
    skopeo_push,
)


def _plain_http(path: Path) -> bool:
    from regc.pipeline import check_spec

    registry = check_spec(path).spec.registry
    return (
        registry.tls is None
        and registry.proxy is None
        and registry.auth is None
        and registry.storage.driver == "filesystem"
    )


PLAIN = [path for path in EXAMPLES if _plain_http(path)]


@pytest.fixture(params=PLAIN, ids=[path.stem for path in PLAIN])
def example(request: pytest.FixtureRequest) -> Path:
    """Each example of the guide's kind."""
    path: Path = request.param
    return path


def test_the_guide_examples_are_run(tmp_path: Path) -> None:
    assert {path.stem for path in PLAIN} >= {"minimal", "full", "fleet"}


@pytest.fixture
def built(example: Path, tmp_path: Path) -> Path:
    """The example built into tmp_path/out/NAME."""
    from regc.pipeline import compile_spec
    from regc.write import write_artifacts

    compiled = compile_spec(example)
    write_artifacts(tmp_path / "out", compiled.name, compiled.artifacts)
    return tmp_path / "out" / compiled.name


@pytest.fixture
def registry(built: Path, tmp_path: Path) -> Iterator[RunningRegistry]:
    require_tool("docker-registry")
    with run_registry(built / "registry" / "config.yml", tmp_path / "data") as running:
        yield running


def _verify(built: Path, url: str) -> subprocess.CompletedProcess[str]:
    require_tool("curl")
    return subprocess.run(
        ["sh", str(built / "verify.sh"), url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_generated_config_starts_the_real_registry(registry: RunningRegistry) -> None:
    status, _, body = http_get(f"{registry.url}/v2/_catalog")
    assert status == 200
    assert json.loads(body) == {"repositories": []}


def test_verify_sh_passes_against_the_running_registry(
    built: Path, registry: RunningRegistry
) -> None:
    result = _verify(built, registry.url)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_verify_sh_fails_clearly_once_the_registry_is_stopped(
    built: Path, registry: RunningRegistry
) -> None:
    registry.stop()
    result = _verify(built, registry.url)
    assert result.returncode == 1
    assert "connection refused" in result.stderr


def test_a_client_trusting_the_insecure_registry_pushes_and_catalog_lists_it(
    built: Path, registry: RunningRegistry, tmp_path: Path
) -> None:
    require_tool("skopeo")
    layout = make_oci_layout(tmp_path / "image")
    address = registry.url.removeprefix("http://")

    pushed = skopeo_push(layout, f"{address}/humpback/hello:1.0")

    assert pushed.returncode == 0, pushed.stderr
    _, _, body = http_get(f"{registry.url}/v2/_catalog")
    assert json.loads(body) == {"repositories": ["humpback/hello"]}
    _, _, tags = http_get(f"{registry.url}/v2/humpback/hello/tags/list")
    assert json.loads(tags)["tags"] == ["1.0"]
    assert "repositories" in _verify(built, registry.url).stdout


def test_a_client_that_does_not_trust_it_fails_as_docker_does(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    require_tool("skopeo")
    layout = make_oci_layout(tmp_path / "image")
    address = registry.url.removeprefix("http://")

    pushed = skopeo_push(layout, f"{address}/hello:1.0", tls_verify=True)

    assert pushed.returncode != 0
    assert "server gave HTTP response to HTTPS client" in pushed.stderr


def test_browser_requests_from_humpback_get_cors_headers(
    built: Path, registry: RunningRegistry
) -> None:
    config = yaml.safe_load((built / "registry" / "config.yml").read_text())
    origins = config["http"]["headers"]["Access-Control-Allow-Origin"]
    origin = "http://humpback.example.com:8012"

    status, headers, _ = http_get(
        f"{registry.url}/v2/_catalog?n=1000", headers={"Origin": origin}
    )

    assert status == 200
    assert headers["access-control-allow-origin"] in origins
    assert origins in (["*"], [origin])
    assert "GET" in headers["access-control-allow-methods"]


def test_storage_root_is_where_the_data_directory_is_mounted(built: Path) -> None:
    config = yaml.safe_load((built / "registry" / "config.yml").read_text())
    run_sh = (built / "registry" / "run.sh").read_text()
    root = config["storage"]["filesystem"]["rootdirectory"]
    assert f":{root} " in run_sh.replace(" \\\n", " ")
    port = config["http"]["addr"].rsplit(":", 1)[1]
    assert f":{port} " in run_sh.replace(" \\\n", " ")


def test_config_for_a_v6_server_and_custom_paths_also_starts(
    build_spec: BuildSpec, tmp_path: Path
) -> None:
    require_tool("docker-registry")
    out = build_spec(
        "registry:\n  server: 2001:db8::10\n  data_dir: /srv/r\n  log_level: debug\n"
    )
    with run_registry(out / "registry" / "config.yml", tmp_path / "data") as running:
        status, _, _ = http_get(f"{running.url}/v2/")
    assert status == 200
