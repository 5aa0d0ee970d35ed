"""Test helpers that drive real programs: docker-registry, skopeo and urllib.

Nothing here is mocked. Tests that need a tool call :func:`require_tool`, which
skips the test when the tool is missing, or fails it when ``CI=true`` (in CI a
missing tool is a broken environment, never a reason to skip).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = [
    "MOUNT_OVERRIDES",
    "Certificates",
    "ContainerRun",
    "DockerCall",
    "RunningRegistry",
    "StandIn",
    "free_port",
    "http_get",
    "http_request",
    "make_certificates",
    "make_oci_layout",
    "registry_command",
    "require_module",
    "require_tool",
    "run_registry",
    "run_s3_server",
    "run_with_fake_docker",
    "skopeo_copy",
    "skopeo_push",
    "stand_in",
]

# Debian package that provides each tool (the tool name is used when unlisted).
DEBIAN_PACKAGES: dict[str, str] = {
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "curl": "curl",
    "openssl": "openssl",
}
# PyPI distribution that provides each Python module a test needs.
PYPI_PACKAGES: dict[str, str] = {"moto.server": "moto[server]"}

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


def require_module(name: str) -> None:
    """Skip (or fail under CI=true) unless the Python module ``name`` imports."""
    try:
        importlib.import_module(name)
    except ImportError as error:
        package = PYPI_PACKAGES.get(name, name)
        message = (
            f"required Python module {name!r} cannot be imported ({error}); "
            f"install {package!r} (pip install '{package}')"
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


def _scrubbed_env() -> dict[str, str]:
    """This process's environment without REGISTRY_* and AWS_* variables.

    REGISTRY_* would override the config under test; AWS_* would reach the s3
    driver's SDK (an inherited AWS_CA_BUNDLE alone makes it panic at start).
    """
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("REGISTRY_") and not k.startswith("AWS_")
    }


def _registry_env(
    data_dir: Path | None, addr: str, extra: dict[str, str] | None
) -> dict[str, str]:
    """Build the child environment: no inherited REGISTRY_*, then overrides."""
    env = _scrubbed_env()
    env["REGISTRY_HTTP_ADDR"] = addr
    if data_dir is not None:
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
    config_path: Path, data_dir: Path | None, *, env: dict[str, str] | None = None
) -> Iterator[RunningRegistry]:
    """Run ``docker-registry serve config_path`` on a free loopback port.

    ``REGISTRY_HTTP_ADDR`` and ``REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`` are
    set (standing in for ``docker run -p`` and ``-v``); ``env`` is applied last.
    A ``data_dir`` of None leaves the storage section alone (s3, inmemory:
    adding a filesystem root would give the registry two drivers).
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
    source = layout.resolve()
    if ":" in str(source):
        raise ValueError(f"OCI layout path must not contain ':': {source}")
    verify = "true" if tls_verify else "false"
    return skopeo_copy(
        f"oci:{source}",
        f"docker://{dest_ref}",
        [f"--dest-tls-verify={verify}", *(extra_args or [])],
    )


def skopeo_copy(
    source: str, dest: str, args: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``skopeo --insecure-policy copy ARGS SOURCE DEST`` in a clean home.

    ``source`` and ``dest`` are full transport references (``docker://...``,
    ``oci:DIR``). Never raises on a non-zero exit; times out at 60 s.
    """
    binary = require_tool("skopeo")
    command = [binary, "--insecure-policy", "copy", *(args or []), source, dest]
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
    return http_request(url, headers=headers)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    cafile: Path | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Send one request without proxies; return (status, headers, body).

    Headers come back with lower-cased names. ``cafile`` is the only CA an
    https:// URL is checked against. HTTP error statuses are returned, not
    raised; connection failures raise ``urllib.error.URLError``.
    """
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method=method
    )
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if cafile is not None:
        context = ssl.create_default_context(cafile=str(cafile))
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
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


def registry_command(
    args: list[str], *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``docker-registry ARGS`` (e.g. ``garbage-collect``) to completion.

    Inherited REGISTRY_* and AWS_* variables are scrubbed, then ``env`` is
    applied. Never raises on a non-zero exit; times out at 60 s.
    """
    binary = require_tool("docker-registry")
    child_env = _scrubbed_env()
    child_env.update(env or {})
    return subprocess.run(
        [binary, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=child_env,
        timeout=SKOPEO_TIMEOUT,
        check=False,
    )


@dataclass(frozen=True)
class Certificates:
    """A private CA and a server certificate it signed, as PEM files."""

    ca: Path
    certificate: Path
    key: Path


_SERVER_EXTENSIONS = """\
subjectAltName = IP:{ip}
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
"""


def make_certificates(dest: Path, *, ip: str = "127.0.0.1") -> Certificates:
    """Make ``dest``/ca.crt and a registry.crt/.key for ``ip`` signed by it.

    ECDSA P-256 keys, valid for two days; the server certificate names ``ip``
    in its subjectAltName (Go ignores the common name).
    """
    openssl = require_tool("openssl")
    dest.mkdir(parents=True, exist_ok=True)
    ca_key, ca = dest / "ca.key", dest / "ca.crt"
    key, csr, certificate = (
        dest / "registry.key",
        dest / "registry.csr",
        dest / "registry.crt",
    )
    extensions = dest / "server.ext"
    extensions.write_text(_SERVER_EXTENSIONS.format(ip=ip), encoding="utf-8")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    commands = [
        [openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca),
         "-days", "2", "-subj", "/CN=regc test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", *ec, "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={ip}"],
        [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca),
         "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2",
         "-extfile", str(extensions), "-out", str(certificate)],
    ]  # fmt: skip
    for command in commands:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise AssertionError(f"{shlex.join(command)} failed:\n{result.stderr}")
    return Certificates(ca=ca, certificate=certificate, key=key)


# A test double of the docker CLI: each call is logged as one JSON line with
# its argv and the values that `-e VAR` would pass into the container. `rm`
# fails (no container of that name exists); everything else succeeds.
_FAKE_DOCKER = """\
#!{python}
import json, os, sys

args = sys.argv[1:]
env = {{}}
for flag, value in zip(args, args[1:]):
    if flag == "-e":
        name, sep, given = value.partition("=")
        env[name] = given if sep else os.environ.get(name)
with open(os.environ["FAKE_DOCKER_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"argv": args, "env": env}}) + "\\n")
command = args[0] if args else ""
if command == "rm":
    sys.exit(1)
if command == "run" and "-d" in args:
    print("0123456789ab")
"""


@dataclass(frozen=True)
class DockerCall:
    """One call of the docker CLI: its argv and the values of its ``-e VAR``."""

    argv: list[str]
    env: dict[str, str | None]


def run_with_fake_docker(
    script: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], list[DockerCall]]:
    """Run ``sh SCRIPT ARGS`` with a fake ``docker`` first on PATH.

    Everything else the script does (installing files, mkdir) happens for
    real. Returns how it ended and the docker calls it made, in order.
    """
    with tempfile.TemporaryDirectory(prefix="regc-docker-") as tmp:
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        docker = bin_dir / "docker"
        docker.write_text(_FAKE_DOCKER.format(python=sys.executable), "utf-8")
        docker.chmod(0o755)
        log = Path(tmp) / "calls.jsonl"
        child_env = _scrubbed_env()
        child_env["PATH"] = f"{bin_dir}{os.pathsep}{child_env.get('PATH', '')}"
        child_env["FAKE_DOCKER_LOG"] = str(log)
        child_env.update(env or {})
        result = subprocess.run(
            ["sh", str(script), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=child_env,
            timeout=60,
            check=False,
        )
        lines = log.read_text("utf-8").splitlines() if log.exists() else []
    calls = [DockerCall(**json.loads(line)) for line in lines]
    return result, calls


@dataclass(frozen=True)
class ContainerRun:
    """A ``docker run`` call taken apart: what the container would get."""

    image: str
    args: list[str]
    publish: list[tuple[int, int]]
    mounts: list[tuple[str, str, bool]]
    env: dict[str, str | None]

    @classmethod
    def of(cls, calls: list[DockerCall]) -> ContainerRun:
        """The single ``docker run`` among ``calls``."""
        runs = [call for call in calls if call.argv[:1] == ["run"]]
        if len(runs) != 1:
            raise AssertionError(f"expected one docker run, got {calls}")
        return cls.parse(runs[0])

    @classmethod
    def parse(cls, call: DockerCall) -> ContainerRun:
        argv = call.argv[1:]
        publish: list[tuple[int, int]] = []
        mounts: list[tuple[str, str, bool]] = []
        index = 0
        while argv[index].startswith("-"):
            flag = argv[index]
            if flag in ("-p", "-v", "-e", "--name"):
                value = argv[index + 1]
                index += 2
                if flag == "-p":
                    # [IP:]HOST_PORT:CONTAINER_PORT; the IP only limits who
                    # can connect, which a loopback test cannot tell apart.
                    host, _, container = value.rpartition(":")
                    publish.append((int(host.rpartition(":")[2]), int(container)))
                elif flag == "-v":
                    parts = value.split(":")
                    read_only = parts[2:] == ["ro"]
                    mounts.append((parts[0], parts[1], read_only))
            else:
                index += 1  # -d, --rm, --restart=POLICY
        return cls(argv[index], argv[index + 1 :], publish, mounts, dict(call.env))


# The container paths regc mounts, each with the registry's documented
# environment override that stands for the mount in tests (the process runs
# on this host, so the override points it at the host path directly), and the
# config.yml key that must name the container path for the stand-in to be
# faithful.
MOUNT_OVERRIDES: dict[str, tuple[str, tuple[str, ...]]] = {
    # -v DATA_DIR:/var/lib/registry
    "/var/lib/registry": (
        "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
        ("storage", "filesystem", "rootdirectory"),
    ),
    # -v CERTIFICATE:/etc/regc/tls/registry.crt:ro
    "/etc/regc/tls/registry.crt": (
        "REGISTRY_HTTP_TLS_CERTIFICATE",
        ("http", "tls", "certificate"),
    ),
    # -v KEY:/etc/regc/tls/registry.key:ro
    "/etc/regc/tls/registry.key": ("REGISTRY_HTTP_TLS_KEY", ("http", "tls", "key")),
    # -v HTPASSWD:/etc/regc/auth/htpasswd:ro
    "/etc/regc/auth/htpasswd": (
        "REGISTRY_AUTH_HTPASSWD_PATH",
        ("auth", "htpasswd", "path"),
    ),
}
# The container ports regc publishes: -p HOST:5000 is the API, -p HOST:5001
# the debug server (metrics); each becomes an address on 127.0.0.1:HOST.
PORT_OVERRIDES: dict[int, tuple[str, tuple[str, ...]]] = {
    5000: ("REGISTRY_HTTP_ADDR", ("http", "addr")),
    5001: ("REGISTRY_HTTP_DEBUG_ADDR", ("http", "debug", "addr")),
}


@dataclass(frozen=True)
class StandIn:
    """How to run a ``docker run`` of the registry image as a local process."""

    config: Path
    data_dir: Path | None
    env: dict[str, str]
    ports: dict[int, int]

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.ports[5000]}"


def _lookup(config: dict[str, Any], keys: tuple[str, ...]) -> object:
    node: object = config
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def stand_in(run: ContainerRun, config_in_container: str) -> StandIn:
    """Translate ``run``'s mounts, ports and ``-e`` into registry overrides.

    The config is read from the host file mounted at ``config_in_container``;
    every other mount must be one of MOUNT_OVERRIDES, and config.yml must name
    its container path, or the override would hide a mismatch.
    """
    by_target = {container: host for host, container, _ in run.mounts}
    if config_in_container not in by_target:
        raise AssertionError(
            f"nothing is mounted at {config_in_container}: {run.mounts}"
        )
    config_path = Path(by_target.pop(config_in_container))
    config = yaml.safe_load(config_path.read_text("utf-8"))
    env: dict[str, str] = {}
    for container, host in by_target.items():
        if container not in MOUNT_OVERRIDES:
            raise AssertionError(f"no stand-in for the mount {host}:{container}")
        variable, keys = MOUNT_OVERRIDES[container]
        named = _lookup(config, keys)
        if named != container:
            raise AssertionError(
                f"config.yml {'.'.join(keys)} is {named!r}, but run.sh mounts "
                f"{host} at {container}"
            )
        env[variable] = host
    ports: dict[int, int] = {}
    for host_port, container_port in run.publish:
        variable, keys = PORT_OVERRIDES[container_port]
        named = _lookup(config, keys)
        if named != f":{container_port}":
            raise AssertionError(
                f"config.yml {'.'.join(keys)} is {named!r}, but run.sh "
                f"publishes {host_port}:{container_port}"
            )
        env[variable] = f"127.0.0.1:{host_port}"
        ports[container_port] = host_port
    for variable, value in run.env.items():
        if value is not None:
            env[variable] = value
    data = by_target.get("/var/lib/registry")
    return StandIn(config_path, Path(data) if data else None, env, ports)


# Seconds for the S3 stand-in (moto's server) to answer after start.
S3_READY_TIMEOUT = 30.0


@contextlib.contextmanager
def run_s3_server() -> Iterator[str]:
    """Run moto's S3-compatible server on a free loopback port; yield its URL.

    moto accepts any access key and secret key. Needs the PyPI package
    ``moto[server]`` in this interpreter (skips, or fails under CI=true).
    """
    require_module("moto.server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="regc-s3-") as tmp:
        log_path = Path(tmp) / "moto.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(port),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=_scrubbed_env(),
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + S3_READY_TIMEOUT
            while True:
                if process.poll() is not None:
                    raise AssertionError(
                        f"moto server exited: {_read_text(log_path)[-2000:]}"
                    )
                try:
                    http_get(f"{url}/")
                    break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() >= deadline:
                        raise AssertionError(
                            f"moto server not ready after {S3_READY_TIMEOUT:g} s"
                        ) from None
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
