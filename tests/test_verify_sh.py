"""The generated verify.sh against real HTTP servers on loopback.

Stub servers (Python's http.server in a thread) give each answer verify.sh must
recognise; the real ``docker-registry`` with TLS gives the answer a user meets
when the registry speaks HTTPS. Every failing case checks both the exit status
and the phrase of the message that tells the user what to do.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import BuildSpec
from realtools import free_port, require_tool, run_registry

SPEC = "registry:\n  server: 127.0.0.1\n  port: 5000\n"
# verify.sh gives curl 10 s; the rest is slack for a loaded CI host.
SCRIPT_TIMEOUT = 30.0
OPENSSL_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 5.0
# Seconds between shutdown checks of a stub server (the default 0.5 s slows teardown).
SERVER_POLL_INTERVAL = 0.05
# Variables that would send curl through a proxy or read the user's .curlrc.
CURL_SCRUB = frozenset(
    {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "curl_home"}
)
# What verify.sh runs besides curl and the shell's builtins.
BASIC_TOOLS = ("sh", "mktemp", "rm", "head", "tr", "grep")

CATALOG = b'{"repositories":["a","b"]}'


@dataclass(frozen=True)
class Reply:
    """What a stub server answers to every GET."""

    status: int
    body: bytes
    content_type: str = "application/json"


class StubServer(ThreadingHTTPServer):
    """A loopback HTTP server giving one fixed reply and recording each request."""

    daemon_threads = True

    def __init__(self, reply: Reply) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.reply = reply
        self.paths: list[str] = []
        self.accepts: list[str | None] = []
        self.errors: list[ssl.SSLError] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A TLS stub fails every plain-HTTP request by design: record, not print.
        error = sys.exc_info()[1]
        if isinstance(error, ssl.SSLError):
            self.errors.append(error)
        else:
            super().handle_error(request, client_address)


class _StubHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server = self.server
        assert isinstance(server, StubServer)
        server.paths.append(self.path)
        server.accepts.append(self.headers.get("Accept"))
        reply = server.reply
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep request lines out of the test output."""


Serve = Callable[..., StubServer]
RunVerify = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start stub servers, optionally wrapped in TLS; stop them all afterwards."""
    started: list[tuple[StubServer, threading.Thread]] = []

    def start(reply: Reply, *, tls: ssl.SSLContext | None = None) -> StubServer:
        server = StubServer(reply)
        if tls is not None:
            # Handshake in the handler thread, so a failed one never blocks accept.
            server.socket = tls.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        thread = threading.Thread(
            target=server.serve_forever, args=(SERVER_POLL_INTERVAL,), daemon=True
        )
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=SERVER_STOP_TIMEOUT)


@pytest.fixture
def run_verify(tmp_path: Path) -> RunVerify:
    """Run ``sh verify.sh [ARGS]`` with no proxy and no user .curlrc."""
    shell = require_tool("sh")
    require_tool("curl")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k.lower() not in CURL_SCRUB}
    env.pop("XDG_CONFIG_HOME", None)
    env["HOME"] = str(home)

    def run(
        script: Path, *args: str, path: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        child_env = env if path is None else {**env, "PATH": path}
        return subprocess.run(
            [shell, str(script), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=child_env,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def verify_sh(build_spec: BuildSpec) -> Path:
    """verify.sh of a spec whose default URL nothing in these tests serves."""
    return build_spec(SPEC) / "verify.sh"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and its key, made by openssl."""
    openssl = require_tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=OPENSSL_TIMEOUT,
        check=True,
    )
    return cert, key


def _tool_dir(tmp_path: Path, tools: tuple[str, ...]) -> Path:
    """A directory of symlinks to ``tools``, to serve as the whole PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        (bin_dir / tool).symlink_to(require_tool(tool))
    return bin_dir


def test_catalog_with_repositories_passes(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A JSON catalog listing repositories exits 0 and says OK on stdout."""
    server = serve(Reply(200, CATALOG))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert result.stderr == ""


def test_empty_catalog_passes(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A fresh registry's empty repositories list exits 0."""
    server = serve(Reply(200, b'{"repositories":[]}'))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_asks_for_the_catalog_as_json(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """verify.sh requests GET /v2/_catalog once, accepting JSON."""
    server = serve(Reply(200, CATALOG))
    run_verify(verify_sh, server.url)
    assert server.paths == ["/v2/_catalog"]
    assert server.accepts == ["application/json"]


def test_trailing_slash_of_base_url_is_dropped(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A base URL ending in '/' still requests /v2/_catalog, not //v2/_catalog."""
    server = serve(Reply(200, CATALOG))
    result = run_verify(verify_sh, server.url + "/")
    assert result.returncode == 0, result.stderr
    assert server.paths == ["/v2/_catalog"]
    assert "//v2" not in result.stdout


def test_base_url_without_scheme_is_plain_http(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """HOST:PORT, the form every Docker host is configured with, works as is."""
    server = serve(Reply(200, CATALOG))
    result = run_verify(verify_sh, f"127.0.0.1:{server.server_port}")
    assert result.returncode == 0, result.stderr
    assert server.paths == ["/v2/_catalog"]


def test_default_url_comes_from_the_spec(
    serve: Serve, run_verify: RunVerify, build_spec: BuildSpec
) -> None:
    """Without an argument verify.sh checks http://SERVER:PORT of the spec."""
    server = serve(Reply(200, CATALOG))
    out = build_spec(f"registry:\n  server: 127.0.0.1\n  port: {server.server_port}\n")
    result = run_verify(out / "verify.sh")
    assert result.returncode == 0, result.stderr
    assert f"{server.url}/v2/_catalog" in result.stdout
    assert server.paths == ["/v2/_catalog"]


def test_connection_refused_says_so(run_verify: RunVerify, verify_sh: Path) -> None:
    """A port with nothing listening exits 1 and says the connection was refused."""
    result = run_verify(verify_sh, f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "connection refused" in result.stderr
    assert result.stdout == ""


def test_server_error_names_the_status(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """HTTP 500 exits 1 and names the status."""
    server = serve(Reply(500, b"internal error", "text/plain"))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "HTTP 500" in result.stderr


def test_an_error_page_is_shown_on_one_line(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A multi-line error body is flattened into the one-line message."""
    server = serve(
        Reply(502, b"<html>\n<body>bad gateway</body>\n</html>\n", "text/html")
    )
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "HTTP 502" in result.stderr


def test_a_proxy_in_front_that_wants_https_says_so(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """nginx's answer to plain HTTP on its TLS port is recognised."""
    page = b"<html><body>The plain HTTP request was sent to HTTPS port</body></html>"
    server = serve(Reply(400, page, "text/html"))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "speaks HTTPS only" in result.stderr


def test_unauthorized_mentions_credentials(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """HTTP 401 exits 1 and says the registry asks for credentials."""
    body = b'{"errors":[{"code":"UNAUTHORIZED"}]}'
    server = serve(Reply(401, body))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "credentials" in result.stderr


def test_not_found_says_not_a_registry(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """HTTP 404 exits 1 and says this is not a Docker registry."""
    server = serve(Reply(404, b"404 page not found\n", "text/plain"))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "not a Docker registry" in result.stderr


def test_html_page_is_refused(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A 200 HTML page (another web server on the port) exits 1 naming HTML."""
    page = b"\n  <html><head><title>Welcome</title></head><body>hi</body></html>\n"
    server = serve(Reply(200, page, "text/html"))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "HTML" in result.stderr


def test_json_without_repositories_is_refused(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """A 200 JSON object lacking "repositories" exits 1 and says what is missing."""
    server = serve(Reply(200, b'{"errors":[]}'))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "repositories list" in result.stderr


@pytest.mark.parametrize(
    "body",
    [b'{"repositories":["demo/hello"', b'{"x":{"repositories":[]}}'],
    ids=["truncated", "nested"],
)
def test_json_that_only_contains_a_repositories_list_is_refused(
    serve: Serve, run_verify: RunVerify, verify_sh: Path, body: bytes
) -> None:
    server = serve(Reply(200, body))
    result = run_verify(verify_sh, server.url)
    assert result.returncode == 1
    assert "repositories list" in result.stderr


def test_real_tls_registry_over_http_says_use_https(
    tmp_path: Path,
    run_verify: RunVerify,
    verify_sh: Path,
    certificate: tuple[Path, Path],
) -> None:
    """The real registry with TLS, asked over http://, exits 1 saying use https://."""
    cert, key = certificate
    addr = f"127.0.0.1:{free_port()}"
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": "0.1",
                "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
                "http": {
                    "addr": addr,
                    "tls": {"certificate": str(cert), "key": str(key)},
                },
            }
        ),
        encoding="utf-8",
    )
    # run_registry also sets the address by environment: give it the same one.
    env = {"REGISTRY_HTTP_ADDR": addr}
    with run_registry(config, tmp_path / "data", env=env) as registry:
        assert ", tls" in registry.log()
        result = run_verify(verify_sh, registry.url)
    assert result.returncode == 1
    assert "speaks HTTPS only: use https://" in result.stderr


def test_untrusted_certificate_says_so(
    serve: Serve, run_verify: RunVerify, verify_sh: Path, certificate: tuple[Path, Path]
) -> None:
    """https:// to a self-signed server exits 1: the certificate is not trusted."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = serve(Reply(200, CATALOG), tls=context)
    https_url = server.url.replace("http://", "https://", 1)
    result = run_verify(verify_sh, https_url)
    assert result.returncode == 1
    assert "certificate is not trusted" in result.stderr


def test_https_to_plain_http_server_says_use_http(
    serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """https:// to a plain-HTTP registry exits 1 suggesting http://."""
    server = serve(Reply(200, CATALOG))
    https_url = server.url.replace("http://", "https://", 1)
    result = run_verify(verify_sh, https_url)
    assert result.returncode == 1
    assert "TLS handshake failed" in result.stderr
    assert "use http://" in result.stderr


def test_tls_server_that_drops_plain_http_says_use_https(
    serve: Serve, run_verify: RunVerify, verify_sh: Path, certificate: tuple[Path, Path]
) -> None:
    """A TLS-only server that drops a plain-HTTP request still suggests https://."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = serve(Reply(200, CATALOG), tls=context)
    result = run_verify(verify_sh, server.url)
    assert [e.reason for e in server.errors] == ["HTTP_REQUEST"]
    assert result.returncode == 1
    assert "HTTPS" in result.stderr


def test_missing_curl_exits_2(
    tmp_path: Path, run_verify: RunVerify, verify_sh: Path
) -> None:
    """Without curl on PATH verify.sh exits 2 and says curl is not installed."""
    bin_dir = _tool_dir(tmp_path, BASIC_TOOLS)
    result = run_verify(verify_sh, "http://127.0.0.1:1", path=str(bin_dir))
    assert result.returncode == 2
    assert "curl is not installed" in result.stderr


def test_needs_only_basic_tools_besides_curl(
    tmp_path: Path, serve: Serve, run_verify: RunVerify, verify_sh: Path
) -> None:
    """The PATH of the missing-curl case plus curl is enough to pass."""
    server = serve(Reply(200, CATALOG))
    bin_dir = _tool_dir(tmp_path, (*BASIC_TOOLS, "curl"))
    result = run_verify(verify_sh, server.url, path=str(bin_dir))
    assert result.returncode == 0, result.stderr
