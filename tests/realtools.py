"""Test helpers that drive real programs: docker-registry, skopeo and urllib.

Nothing here is mocked. Tests that need a tool call :func:`require_tool`, which
skips the test when the tool is missing, or fails it when ``CI=true`` (in CI a
missing tool is a broken environment, never a reason to skip).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "RunningRegistry",
    "free_port",
    "http_get",
    "make_oci_layout",
    "require_tool",
    "run_registry",
    "skopeo_push",
]

# Debian package that provides each tool (the tool name is used when unlisted).
DEBIAN_PACKAGES: dict[str, str] = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "curl": "curl",
}

# Seconds: registry start-up (it is ready in ~25 ms; slack for loaded CI hosts),
# graceful stop before SIGKILL, one skopeo push, one HTTP request.
READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
SKOPEO_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0

# The registry logs this once its listener is bound, so connects succeed.
_READY_MARKER = "listening on"
# Lines that say why a registry refused to start.
_ERROR_LINE = re.compile(r"configuration error|panic:|level=fatal")
# Another process took the port between free_port() and the bind: retry.
_ADDR_IN_USE = "address already in use"
_PORT_ATTEMPTS = 3
# Enough of the log to show a Go panic's first frames.
_LOG_TAIL_LINES = 30

# Media types of a single-platform OCI image.
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def require_tool(name: str) -> str:
    """Return the absolute path of ``name``; skip (or fail under CI=true) if absent."""
    path = shutil.which(name)
    if path is not None:
        return os.path.abspath(path)
    package = DEBIAN_PACKAGES.get(name, name)
    message = (
        f"required tool {name!r} not found on PATH; "
        f"install the Debian package {package!r} (apt-get install {package})"
    )
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningRegistry:
    """A ``docker-registry serve`` child process listening on loopback."""

    port: int
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Send SIGTERM, wait up to 5 s, then SIGKILL. Safe to call twice."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        """Return the registry log captured so far."""
        return _read_text(self.log_path)


def _read_text(path: Path) -> str:
    """Read a log file leniently; a missing file reads as empty."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _registry_env(
    data_dir: Path, addr: str, extra: dict[str, str] | None
) -> dict[str, str]:
    """Build the child environment: no inherited REGISTRY_*, then overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    env["REGISTRY_HTTP_ADDR"] = addr
    env["REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY"] = str(data_dir)
    # Readiness is read from the info-level "listening on" line, which a
    # config with a quieter log level would not write.
    env["REGISTRY_LOG_LEVEL"] = "info"
    if extra:
        env.update(extra)
    return env


def _failure_message(reason: str, log_text: str) -> str:
    """Describe a failed start: first error-looking line plus the log tail."""
    lines = log_text.splitlines()
    first_error = next((line for line in lines if _ERROR_LINE.search(line)), None)
    tail = "\n".join(lines[-_LOG_TAIL_LINES:]) or "<empty log>"
    headline = first_error.strip() if first_error else "no error line found in log"
    return f"docker-registry {reason}: {headline}\n--- log tail ---\n{tail}"


def _wait_ready(registry: RunningRegistry, deadline: float) -> str | None:
    """Poll the log for readiness; return None when ready, else a failure reason."""
    while True:
        # Poll before reading the log: a registry that logged the marker and
        # then died (e.g. a failing TLS listener) is not ready.
        code = registry.process.poll()
        if code is not None:
            return f"exited with code {code}"
        if _READY_MARKER in registry.log():
            return None
        if time.monotonic() >= deadline:
            return f"not ready after {READY_TIMEOUT:g} s"
        time.sleep(0.01)


def _start(
    binary: str, config_path: Path, env: dict[str, str], port: int, log_path: Path
) -> RunningRegistry:
    """Spawn the registry with stdout and stderr both written to ``log_path``."""
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return RunningRegistry(
        port=port, url=f"http://127.0.0.1:{port}", process=process, log_path=log_path
    )


@contextlib.contextmanager
def run_registry(
    config_path: Path, data_dir: Path, *, env: dict[str, str] | None = None
) -> Iterator[RunningRegistry]:
    """Run ``docker-registry serve config_path`` on a free loopback port.

    ``REGISTRY_HTTP_ADDR`` and ``REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`` are
    set (standing in for ``docker run -p`` and ``-v``); ``env`` is applied last.
    If ``env`` sets ``REGISTRY_HTTP_ADDR`` its port is used for ``url``. The log
    lives in a temporary directory removed on exit. A start failure raises
    AssertionError carrying the first error line and the log tail.
    """
    binary = require_tool("docker-registry")
    fixed_addr = (env or {}).get("REGISTRY_HTTP_ADDR")
    with tempfile.TemporaryDirectory(prefix="regc-registry-") as tmp:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            if fixed_addr is None:
                port = free_port()
                addr = f"127.0.0.1:{port}"
            else:
                port = int(fixed_addr.rpartition(":")[2])
                addr = fixed_addr
            child_env = _registry_env(data_dir, addr, env)
            log_path = Path(tmp) / f"registry-{attempt}.log"
            registry = _start(binary, config_path, child_env, port, log_path)
            try:
                reason = _wait_ready(registry, time.monotonic() + READY_TIMEOUT)
            except BaseException:
                registry.stop()
                raise
            if reason is None:
                break
            registry.stop()
            log_text = registry.log()
            port_race = _ADDR_IN_USE in log_text and fixed_addr is None
            if not port_race or attempt == _PORT_ATTEMPTS:
                raise AssertionError(_failure_message(reason, log_text))
        try:
            yield registry
        finally:
            registry.stop()


def _sha256(data: bytes) -> str:
    """Return the OCI digest string of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical_json(value: object) -> bytes:
    """Serialise JSON deterministically."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _write_blob(blobs: Path, data: bytes) -> dict[str, object]:
    """Store ``data`` under blobs/sha256 and return its digest and size."""
    digest = _sha256(data)
    (blobs / digest.split(":", 1)[1]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _layer_tar(content: bytes) -> bytes:
    """Build a reproducible tar holding ``hello.txt``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def make_oci_layout(dest: Path, *, content: bytes = b"hello from regc\n") -> Path:
    """Write a minimal deterministic linux/amd64 OCI image layout to ``dest``.

    The image has one gzipped layer holding ``/hello.txt`` with ``content``;
    index.json names it ``latest``. Returns ``dest``.
    """
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    layer_tar = _layer_tar(content)
    layer = _write_blob(blobs, gzip.compress(layer_tar, compresslevel=9, mtime=0))
    config = _write_blob(
        blobs,
        _canonical_json(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [_sha256(layer_tar)]},
            }
        ),
    )
    manifest = _write_blob(
        blobs,
        _canonical_json(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, **config},
                "layers": [{"mediaType": OCI_LAYER_GZIP, **layer}],
            }
        ),
    )
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                **manifest,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            }
        ],
    }
    (dest / "oci-layout").write_bytes(_canonical_json({"imageLayoutVersion": "1.0.0"}))
    (dest / "index.json").write_bytes(_canonical_json(index))
    return dest


# Variables that could point skopeo at the real user's credentials or config.
_SKOPEO_SCRUB = ("REGISTRY_AUTH_FILE", "DOCKER_CONFIG", "XDG_CONFIG_HOME")


def skopeo_push(
    layout: Path,
    dest_ref: str,
    *,
    tls_verify: bool = False,
    extra_args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Copy the OCI layout at ``layout`` to ``docker://dest_ref`` with skopeo.

    Uses ``--insecure-policy`` (no policy.json needed) and a throwaway HOME,
    XDG_RUNTIME_DIR, XDG_CONFIG_HOME and TMPDIR so nothing touches the real
    home or its stored credentials. ``extra_args`` (e.g. ``--dest-creds``) go
    after the copy flags. Never raises on a non-zero exit; times out at 60 s.
    """
    binary = require_tool("skopeo")
    source = layout.resolve()
    if ":" in str(source):
        raise ValueError(f"OCI layout path must not contain ':': {source}")
    verify = "true" if tls_verify else "false"
    command = [
        binary,
        "--insecure-policy",
        "copy",
        f"--dest-tls-verify={verify}",
        *(extra_args or []),
        f"oci:{source}",
        f"docker://{dest_ref}",
    ]
    with tempfile.TemporaryDirectory(prefix="regc-skopeo-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in _SKOPEO_SCRUB}
        for key, sub in (
            ("HOME", "home"),
            ("XDG_RUNTIME_DIR", "run"),
            ("XDG_CONFIG_HOME", "config"),
            ("TMPDIR", "tmp"),
        ):
            (home / sub).mkdir(mode=0o700)
            env[key] = str(home / sub)
        return subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=SKOPEO_TIMEOUT,
            check=False,
        )


def http_get(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` without proxies; return (status, lower-cased headers, body).

    HTTP error statuses are returned, not raised; connection failures still
    raise ``urllib.error.URLError``.
    """
    request = urllib.request.Request(url, headers=headers or {}, method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            status: int = response.status
            return status, _header_dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, _header_dict(error.headers.items()), error.read()


def _header_dict(items: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case header names, joining repeated headers with ', '."""
    result: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result
