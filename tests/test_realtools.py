"""Self-tests for tests/realtools.py against the real docker-registry and skopeo."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtools import (
    RunningRegistry,
    free_port,
    http_get,
    make_oci_layout,
    require_tool,
    run_registry,
    skopeo_push,
)

MINIMAL_CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""


def _write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return it."""
    path.write_text(text, encoding="utf-8")
    return path


def _catalog(registry: RunningRegistry) -> object:
    """Return the decoded /v2/_catalog body, asserting HTTP 200."""
    status, _, body = http_get(f"{registry.url}/v2/_catalog")
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    """A registry started from the minimal hand-written config."""
    config = _write(tmp_path / "config.yml", MINIMAL_CONFIG)
    with run_registry(config, tmp_path / "data") as running:
        yield running


def test_require_tool_finds_registry() -> None:
    """An installed tool resolves to an absolute path."""
    assert Path(require_tool("docker-registry")).is_absolute()


def test_require_tool_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing tool skips normally and fails when CI=true."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Debian package"):
        require_tool("regc-no-such-tool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install"):
        require_tool("regc-no-such-tool")


def test_free_port_is_bindable() -> None:
    """free_port returns a port that can be bound on loopback."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_make_oci_layout_is_valid_and_deterministic(tmp_path: Path) -> None:
    """Two builds are byte-identical and every blob matches its digest."""
    first = make_oci_layout(tmp_path / "a")
    second = make_oci_layout(tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(second) for p in second.rglob("*") if p.is_file()
    )
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    for blob in (first / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    index = json.loads((first / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((first / "blobs" / "sha256" / digest).read_text())
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert len(manifest["layers"]) == 1


def test_registry_push_and_catalog(registry: RunningRegistry, tmp_path: Path) -> None:
    """An empty registry accepts a skopeo push and then lists the repository."""
    status, headers, _ = http_get(f"{registry.url}/v2/")
    assert status == 200
    assert headers["docker-distribution-api-version"] == "registry/2.0"
    assert _catalog(registry) == {"repositories": []}

    layout = make_oci_layout(tmp_path / "layout")
    result = skopeo_push(layout, f"127.0.0.1:{registry.port}/regc/hello:latest")
    assert result.returncode == 0, result.stderr
    assert _catalog(registry) == {"repositories": ["regc/hello"]}
    assert (tmp_path / "data" / "docker" / "registry" / "v2" / "repositories").is_dir()

    status, _, _ = http_get(f"{registry.url}/v2/regc/missing/manifests/latest")
    assert status == 404


def test_push_with_tls_verify_fails_against_plain_http(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    """Verifying TLS against a plain-HTTP registry is refused by skopeo."""
    layout = make_oci_layout(tmp_path / "layout")
    result = skopeo_push(
        layout, f"127.0.0.1:{registry.port}/regc/hello:latest", tls_verify=True
    )
    assert result.returncode != 0
    assert "server gave HTTP response to HTTPS client" in result.stderr


def test_inherited_registry_env_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inherited REGISTRY_* variables do not reach the child process."""
    monkeypatch.setenv("REGISTRY_HTTP_ADDR", "not-an-address")
    monkeypatch.setenv("REGISTRY_STORAGE", "nosuchdriver")
    config = _write(tmp_path / "config.yml", MINIMAL_CONFIG)
    with run_registry(config, tmp_path / "data") as running:
        assert _catalog(running) == {"repositories": []}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\n", "panic:"),
        ("version: 0.2\n", "configuration error: error parsing"),
        ("version: 0.2\n", 'unsupported version: "0.2"'),
    ],
)
def test_broken_config_raises(tmp_path: Path, text: str, expected: str) -> None:
    """A config the registry rejects raises AssertionError naming the error."""
    config = _write(tmp_path / "config.yml", text)
    with (
        pytest.raises(AssertionError) as excinfo,
        run_registry(config, tmp_path / "data"),
    ):
        pytest.fail("registry unexpectedly started")
    message = str(excinfo.value)
    assert "docker-registry exited with code" in message
    assert expected in message
    assert "--- log tail ---" in message


def test_stop_refuses_connections(registry: RunningRegistry) -> None:
    """After stop() the port refuses connections and the process is gone."""
    assert _catalog(registry) == {"repositories": []}
    registry.stop()
    assert registry.process.returncode is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", registry.port), timeout=2).close()
    registry.stop()


def test_env_extras_override_addr(tmp_path: Path) -> None:
    """An explicit REGISTRY_HTTP_ADDR in env decides the port and url."""
    port = free_port()
    config = _write(tmp_path / "config.yml", MINIMAL_CONFIG)
    extras = {"REGISTRY_HTTP_ADDR": f"127.0.0.1:{port}", "REGISTRY_HTTP_SECRET": "s"}
    with run_registry(config, tmp_path / "data", env=extras) as running:
        assert running.url == f"http://127.0.0.1:{port}"
        assert _catalog(running) == {"repositories": []}
        assert "No HTTP secret provided" not in running.log()


def test_busy_port_raises_with_fatal_line(tmp_path: Path) -> None:
    """A bind failure surfaces the registry's level=fatal line."""
    config = _write(tmp_path / "config.yml", MINIMAL_CONFIG)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        addr = f"127.0.0.1:{busy.getsockname()[1]}"
        with (
            pytest.raises(AssertionError, match="address already in use"),
            run_registry(config, tmp_path / "data", env={"REGISTRY_HTTP_ADDR": addr}),
        ):
            pytest.fail("registry unexpectedly started")


def test_pushed_oci_manifest_needs_oci_accept(
    registry: RunningRegistry, tmp_path: Path
) -> None:
    """The OCI manifest keeps its digest and is served only to OCI-aware clients."""
    layout = make_oci_layout(tmp_path / "layout")
    result = skopeo_push(layout, f"127.0.0.1:{registry.port}/regc/hello:latest")
    assert result.returncode == 0, result.stderr
    index = json.loads((layout / "index.json").read_text())
    url = f"{registry.url}/v2/regc/hello/manifests/latest"

    oci = "application/vnd.oci.image.manifest.v1+json"
    status, headers, _ = http_get(url, {"Accept": oci})
    assert status == 200
    assert headers["content-type"] == oci
    assert headers["docker-content-digest"] == index["manifests"][0]["digest"]

    status, _, body = http_get(url)
    assert status == 404
    assert b"MANIFEST_UNKNOWN" in body
