"""Each registry feature of a spec, proven on the real registry.

The registry is Debian's ``docker-registry`` 2.8.2 (the code of registry:2.8.x)
run as a local process. Nothing of the generated setup is bypassed:

- the spec is built with ``build_spec``, every host path it names under the
  test's tmp_path;
- the generated ``registry/run.sh`` (and ``gc.sh``) really run, against a fake
  ``docker`` (``realtools.run_with_fake_docker``): they install config.yml and
  htpasswd at the spec's host paths, and their ``docker run`` is recorded;
- that ``docker run`` is translated by ``realtools.stand_in``: each ``-v
  HOST:CONTAINER`` becomes the registry's documented environment override
  for the key of config.yml that names CONTAINER, pointed at HOST (the table
  is ``realtools.MOUNT_OVERRIDES``: /var/lib/registry is
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY, /etc/regc/tls/registry.crt and
  .key are REGISTRY_HTTP_TLS_CERTIFICATE and _KEY, /etc/regc/auth/htpasswd is
  REGISTRY_AUTH_HTPASSWD_PATH); ``-p HOST:5000`` and ``-p HOST:5001`` become
  REGISTRY_HTTP_ADDR and REGISTRY_HTTP_DEBUG_ADDR on 127.0.0.1:HOST; each
  ``-e VAR`` passes the value run.sh exported, under the same name. The
  stand-in refuses a mount whose container path config.yml does not name, so
  an override never hides a mismatch between run.sh and config.yml.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import yaml

from conftest import BuildSpec
from realtools import (
    Certificates,
    ContainerRun,
    RunningRegistry,
    StandIn,
    free_port,
    http_request,
    make_certificates,
    make_oci_layout,
    registry_command,
    require_tool,
    run_registry,
    run_s3_server,
    run_with_fake_docker,
    skopeo_copy,
    skopeo_push,
    stand_in,
)

# The binary under test is 2.8.2; specs name the image of the same code.
IMAGE = "registry:2.8.2"
# Where the 2.x and 3.x images read their config.
CONFIG_2X = "/etc/docker/registry/config.yml"
CONFIG_3X = "/etc/distribution/config.yml"
SCRIPT_TIMEOUT = 30.0
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_ACCEPT = {"Accept": OCI_MANIFEST}

USER = "regc-ci"
# Distinctive, so that a leak into any artifact is found by a plain search.
PASSWORD = "Pw-regc-7c1e9b-not-in-artifacts"


@dataclass(frozen=True)
class Deployment:
    """A built spec, its run.sh run once, and the registry stand-in it gives."""

    out: Path
    host: Path
    port: int
    run: ContainerRun
    stand: StandIn

    def start(
        self, *, env: dict[str, str] | None = None
    ) -> AbstractContextManager[RunningRegistry]:
        """Start the registry as run.sh's ``docker run`` would."""
        return run_registry(
            self.stand.config,
            self.stand.data_dir,
            env={**self.stand.env, **(env or {})},
        )


Deploy = Callable[..., Deployment]


def _host_paths(host: Path) -> str:
    return (
        f"  config_path: {host}/etc/docker/registry/config.yml\n"
        f"  data_dir: {host}/var/lib/registry\n"
    )


@pytest.fixture
def deploy(tmp_path: Path, build_spec: BuildSpec) -> Deploy:
    """Build a spec from registry fields, run its run.sh, return the stand-in.

    ``fields`` is YAML for under ``registry:`` (besides server, port, image and
    the host paths); ``tail`` is YAML after the registry section.
    """
    host = tmp_path / "host"

    def make(
        fields: str = "",
        *,
        tail: str = "",
        image: str | None = IMAGE,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Deployment:
        port = port or free_port()
        text = (
            "registry:\n"
            "  server: 127.0.0.1\n"
            f"  port: {port}\n"
            + (f"  image: {image}\n" if image else "")
            + _host_paths(host)
            + textwrap.indent(textwrap.dedent(fields), "  ")
            + textwrap.dedent(tail)
        )
        out = build_spec(text)
        result, calls = run_with_fake_docker(out / "registry" / "run.sh", env=env)
        assert result.returncode == 0, result.stderr
        run = ContainerRun.of(calls)
        config_in_container = CONFIG_3X if image and ":3." in image else CONFIG_2X
        return Deployment(out, host, port, run, stand_in(run, config_in_container))

    return make


def _verify(
    out: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the generated verify.sh, free of the caller's curl settings."""
    require_tool("curl")
    child = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "curl_home"}
        and k not in {"REGISTRY_USER", "REGISTRY_PASSWORD", "VERIFY_CA_FILE"}
    }
    child.update(env or {})
    return subprocess.run(
        ["sh", str(out / "verify.sh"), *args],
        capture_output=True,
        text=True,
        env=child,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def _push(layout: Path, ref: str, *args: str, tls_verify: bool = False) -> None:
    result = skopeo_push(layout, ref, tls_verify=tls_verify, extra_args=list(args))
    assert result.returncode == 0, result.stderr


def _blobs(data_dir: Path) -> set[str]:
    """Digests of the blob files the filesystem driver holds."""
    root = data_dir / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return {f"sha256:{data.parent.name}" for data in root.glob("*/*/data")}


def _image_digests(layout: Path) -> set[str]:
    """Digests of the manifest, config and layer of a make_oci_layout image."""
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    blob = layout / "blobs" / "sha256" / manifest_digest.split(":")[1]
    manifest = json.loads(blob.read_text())
    return {
        manifest_digest,
        manifest["config"]["digest"],
        *(layer["digest"] for layer in manifest["layers"]),
    }


def _manifest_digest(layout: Path) -> str:
    digest: str = json.loads((layout / "index.json").read_text())["manifests"][0][
        "digest"
    ]
    return digest


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (path for path in root.rglob("*") if path.is_file())


# --- TLS ---------------------------------------------------------------------


@dataclass(frozen=True)
class TlsSetup:
    deployment: Deployment
    certs: Certificates
    registry: RunningRegistry

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.deployment.port}"


@pytest.fixture
def tls(deploy: Deploy, tmp_path: Path) -> Iterator[TlsSetup]:
    """An HTTPS registry whose certificate a CA made by the test signed."""
    certs = make_certificates(tmp_path / "host" / "etc" / "registry" / "tls")
    deployment = deploy(
        f"""\
        tls:
          certificate: {certs.certificate}
          key: {certs.key}
          ca: {certs.ca}
        """
    )
    with deployment.start() as running:
        yield TlsSetup(deployment, certs, running)


def _curl_status(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    curl = require_tool("curl")
    env = {k: v for k, v in os.environ.items() if k != "CURL_CA_BUNDLE"}
    return subprocess.run(
        [curl, "-q", "--silent", "--show-error", "--noproxy", "*", "--output",
         os.devnull, "--write-out", "%{http_code}", *args, url],
        capture_output=True, text=True, env=env, timeout=SCRIPT_TIMEOUT, check=False,
    )  # fmt: skip


def test_tls_registry_is_trusted_by_curl_given_the_ca(tls: TlsSetup) -> None:
    result = _curl_status(f"{tls.url}/v2/", "--cacert", str(tls.certs.ca))
    assert (result.returncode, result.stdout) == (0, "200"), result.stderr


def test_tls_registry_is_not_trusted_by_curl_without_the_ca(tls: TlsSetup) -> None:
    result = _curl_status(f"{tls.url}/v2/")
    assert result.returncode == 60, result.stderr  # peer certificate not trusted


def test_tls_push_works_with_skopeo_trusting_the_ca_in_a_certs_d_folder(
    tls: TlsSetup, tmp_path: Path
) -> None:
    # The layout APPLY.md gives Docker hosts: certs.d/HOST:PORT/ca.crt.
    address = f"127.0.0.1:{tls.deployment.port}"
    cert_dir = tmp_path / "certs.d" / address
    cert_dir.mkdir(parents=True)
    shutil.copy(tls.certs.ca, cert_dir / "ca.crt")
    layout = make_oci_layout(tmp_path / "layout")
    _push(
        layout,
        f"{address}/demo/hello:1",
        "--dest-cert-dir",
        str(cert_dir),
        tls_verify=True,
    )
    status, _, body = http_request(f"{tls.url}/v2/_catalog", cafile=tls.certs.ca)
    assert (status, json.loads(body)) == (200, {"repositories": ["demo/hello"]})


def test_tls_push_fails_when_skopeo_does_not_trust_the_ca(
    tls: TlsSetup, tmp_path: Path
) -> None:
    layout = make_oci_layout(tmp_path / "layout")
    ref = f"127.0.0.1:{tls.deployment.port}/demo/hello:1"
    result = skopeo_push(layout, ref, tls_verify=True)
    assert result.returncode != 0
    assert "certificate signed by unknown authority" in result.stderr


def test_tls_plain_http_is_refused_and_verify_sh_says_https_only(
    tls: TlsSetup,
) -> None:
    result = _verify(tls.deployment.out, f"http://127.0.0.1:{tls.deployment.port}")
    assert result.returncode == 1
    assert "the server speaks HTTPS only: use https://" in result.stderr


def test_tls_verify_sh_passes_with_its_default_https_url_and_the_spec_ca(
    tls: TlsSetup,
) -> None:
    result = _verify(tls.deployment.out)
    assert result.returncode == 0, result.stderr
    assert f"OK: {tls.url}/v2/_catalog answered" in result.stdout


def test_tls_spec_writes_no_insecure_registry_setting_for_any_host(
    deploy: Deploy, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "certs")
    out = deploy(
        f"tls: {{certificate: {certs.certificate}, key: {certs.key}, ca: {certs.ca}}}\n"
    ).out
    assert not (out / "hosts").exists()
    for path in _files_under(out):
        text = path.read_text("utf-8")
        assert "insecure-registries" not in text, path
        assert "--insecure-registry" not in text, path


def test_tls_humpback_private_registry_is_the_https_address(
    deploy: Deploy, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "certs")
    deployment = deploy(
        f"tls: {{certificate: {certs.certificate}, key: {certs.key}}}\n"
    )
    payload = json.loads(
        (deployment.out / "humpback" / "system-config.json").read_text()
    )
    assert payload["PrivateRegistry"] == f"https://127.0.0.1:{deployment.port}"


# --- htpasswd ------------------------------------------------------------------


@dataclass(frozen=True)
class AuthSetup:
    deployment: Deployment
    registry: RunningRegistry


def _auth_fields(host: Path) -> str:
    # cost 4 keeps the test fast; the registry accepts any bcrypt cost.
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    return f"""\
    auth:
      htpasswd:
        path: {host}/etc/registry/htpasswd
        users:
          {USER}: {digest}
    """


@pytest.fixture
def auth(deploy: Deploy, tmp_path: Path) -> Iterator[AuthSetup]:
    """A registry with the spec's inline htpasswd user.

    Humpback is off: it cannot log in to a registry (RG506).
    """
    deployment = deploy(
        _auth_fields(tmp_path / "host"), tail="humpback:\n  enabled: false\n"
    )
    with deployment.start() as running:
        yield AuthSetup(deployment, running)


def test_htpasswd_run_sh_installs_the_generated_file_that_is_mounted(
    auth: AuthSetup,
) -> None:
    generated = (auth.deployment.out / "registry" / "htpasswd").read_bytes()
    mounted = Path(auth.deployment.stand.env["REGISTRY_AUTH_HTPASSWD_PATH"])
    assert mounted == auth.deployment.host / "etc" / "registry" / "htpasswd"
    assert mounted.read_bytes() == generated
    entries = [line for line in generated.splitlines() if not line.startswith(b"#")]
    assert len(entries) == 1
    assert entries[0].startswith(f"{USER}:$2b$04$".encode())


def test_htpasswd_v2_without_credentials_is_401_with_the_realm(auth: AuthSetup) -> None:
    status, headers, _ = http_request(f"{auth.registry.url}/v2/")
    assert status == 401
    assert headers["www-authenticate"] == 'Basic realm="Registry Realm"'


def test_htpasswd_v2_with_the_spec_user_and_password_is_200(auth: AuthSetup) -> None:
    status, _, _ = http_request(
        f"{auth.registry.url}/v2/", headers=_basic(USER, PASSWORD)
    )
    assert status == 200


def test_htpasswd_v2_with_a_wrong_password_is_401(auth: AuthSetup) -> None:
    status, _, _ = http_request(
        f"{auth.registry.url}/v2/", headers=_basic(USER, "wrong")
    )
    assert status == 401


def test_htpasswd_push_with_dest_creds_works(auth: AuthSetup, tmp_path: Path) -> None:
    layout = make_oci_layout(tmp_path / "layout")
    ref = f"127.0.0.1:{auth.registry.port}/demo/hello:1"
    _push(layout, ref, "--dest-creds", f"{USER}:{PASSWORD}")
    status, _, body = http_request(
        f"{auth.registry.url}/v2/_catalog", headers=_basic(USER, PASSWORD)
    )
    assert (status, json.loads(body)) == (200, {"repositories": ["demo/hello"]})


def test_htpasswd_push_without_credentials_fails(
    auth: AuthSetup, tmp_path: Path
) -> None:
    layout = make_oci_layout(tmp_path / "layout")
    ref = f"127.0.0.1:{auth.registry.port}/demo/hello:1"
    result = skopeo_push(layout, ref, extra_args=["--dest-no-creds"])
    assert result.returncode != 0
    assert "authentication required" in result.stderr


def test_htpasswd_verify_sh_passes_given_registry_user_and_password(
    auth: AuthSetup,
) -> None:
    env = {"REGISTRY_USER": USER, "REGISTRY_PASSWORD": PASSWORD}
    result = _verify(auth.deployment.out, env=env)
    assert result.returncode == 0, result.stderr
    assert "OK:" in result.stdout


def test_htpasswd_verify_sh_without_credentials_fails_asking_for_them(
    auth: AuthSetup,
) -> None:
    result = _verify(auth.deployment.out)
    assert result.returncode == 1
    assert (
        "HTTP 401: the registry asks for credentials: set REGISTRY_USER"
        in result.stderr
    )


def test_htpasswd_file_with_a_comment_line_is_still_read_by_the_registry(
    auth: AuthSetup, tmp_path: Path
) -> None:
    # Whatever header regc writes, a '#' line before the entries must not
    # cost the login: the registry's parser skips such lines.
    generated = (auth.deployment.out / "registry" / "htpasswd").read_text()
    commented = tmp_path / "htpasswd-with-comment"
    commented.write_text("# Generated by regc. Do not edit.\n" + generated)
    env = {"REGISTRY_AUTH_HTPASSWD_PATH": str(commented)}
    with auth.deployment.start(
        env={**env, "REGISTRY_HTTP_ADDR": f"127.0.0.1:{free_port()}"}
    ) as running:
        status, _, _ = http_request(
            f"{running.url}/v2/", headers=_basic(USER, PASSWORD)
        )
    assert status == 200


def test_htpasswd_password_appears_in_no_artifact_nor_installed_file(
    auth: AuthSetup,
) -> None:
    needles = (PASSWORD.encode(), base64.b64encode(f"{USER}:{PASSWORD}".encode()))
    for path in _files_under(auth.deployment.out, auth.deployment.host):
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, path


# --- delete and garbage collection ---------------------------------------------


def test_delete_enabled_manifest_delete_by_digest_is_202(
    deploy: Deploy, tmp_path: Path
) -> None:
    deployment = deploy("delete: true\n")
    layout = make_oci_layout(tmp_path / "layout")
    with deployment.start() as running:
        _push(layout, f"127.0.0.1:{running.port}/demo/hello:1")
        url = f"{running.url}/v2/demo/hello/manifests/{_manifest_digest(layout)}"
        status, _, body = http_request(url, method="DELETE")
        assert status == 202, body
        status, _, _ = http_request(url, headers=OCI_ACCEPT)
        assert status == 404


def test_delete_not_enabled_by_default_spec_is_405_unsupported(
    deploy: Deploy, tmp_path: Path
) -> None:
    # The default spec: no image, no delete (registry:2.5.1's config dialect).
    deployment = deploy(image=None)
    layout = make_oci_layout(tmp_path / "layout")
    with deployment.start() as running:
        _push(layout, f"127.0.0.1:{running.port}/demo/hello:1")
        url = f"{running.url}/v2/demo/hello/manifests/{_manifest_digest(layout)}"
        status, _, body = http_request(url, method="DELETE")
    assert status == 405
    assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"


def test_gc_sh_runs_garbage_collect_delete_untagged_on_the_run_sh_setup(
    deploy: Deploy,
) -> None:
    deployment = deploy("delete: true\n")
    result, calls = run_with_fake_docker(deployment.out / "registry" / "gc.sh")
    assert result.returncode == 0, result.stderr
    assert [call.argv[0] for call in calls] == ["stop", "run", "start"]
    gc = ContainerRun.of(calls)
    assert gc.args == ["garbage-collect", "--delete-untagged", CONFIG_2X]
    assert gc.image == IMAGE
    # The collection sees the storage and config the registry runs with.
    assert gc.mounts == deployment.run.mounts


def test_gc_after_delete_removes_the_deleted_image_blob_files(
    deploy: Deploy, tmp_path: Path
) -> None:
    deployment = deploy("delete: true\n")
    assert deployment.stand.data_dir is not None
    data_dir = deployment.stand.data_dir
    gone = make_oci_layout(tmp_path / "gone", content=b"image one\n")
    kept = make_oci_layout(tmp_path / "kept", content=b"image two\n")
    with deployment.start() as running:
        _push(gone, f"127.0.0.1:{running.port}/demo/hello:one")
        _push(kept, f"127.0.0.1:{running.port}/demo/hello:two")
        url = f"{running.url}/v2/demo/hello/manifests/{_manifest_digest(gone)}"
        assert http_request(url, method="DELETE")[0] == 202
    before = _blobs(data_dir)
    assert before == _image_digests(gone) | _image_digests(kept)

    # gc.sh's `docker run IMAGE ARGS`, run by the registry binary on the host:
    # the config's container path becomes the host file mounted there.
    _, calls = run_with_fake_docker(deployment.out / "registry" / "gc.sh")
    gc = ContainerRun.of(calls)
    gc_stand = stand_in(gc, CONFIG_2X)
    args = [str(gc_stand.config) if a == CONFIG_2X else a for a in gc.args]
    assert args == [
        "garbage-collect",
        "--delete-untagged",
        str(deployment.stand.config),
    ]
    result = registry_command(args, env=gc_stand.env)
    assert result.returncode == 0, result.stderr

    assert _blobs(data_dir) == _image_digests(kept)
    assert len(before) == 6 and len(_blobs(data_dir)) == 3


# --- pull-through proxy --------------------------------------------------------

UPSTREAM_CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
"""


@dataclass(frozen=True)
class ProxySetup:
    upstream: RunningRegistry
    cache: RunningRegistry
    layout: Path


@pytest.fixture
def proxy(deploy: Deploy, tmp_path: Path) -> Iterator[ProxySetup]:
    """A plain upstream registry holding demo/hello:1, and a cache of it."""
    config = tmp_path / "upstream.yml"
    config.write_text(UPSTREAM_CONFIG)
    layout = make_oci_layout(tmp_path / "layout")
    with run_registry(config, tmp_path / "upstream-data") as upstream:
        _push(layout, f"127.0.0.1:{upstream.port}/demo/hello:1")
        deployment = deploy(
            f"proxy: {{remote_url: 'http://127.0.0.1:{upstream.port}'}}\n"
        )
        with deployment.start() as cache:
            yield ProxySetup(upstream, cache, layout)


def test_proxy_serves_the_upstream_manifest_through_the_cache(
    proxy: ProxySetup,
) -> None:
    url = f"{proxy.cache.url}/v2/demo/hello/manifests/1"
    status, headers, body = http_request(url, headers=OCI_ACCEPT)
    assert status == 200, body
    assert headers["docker-content-digest"] == _manifest_digest(proxy.layout)
    assert "sha256:" + hashlib.sha256(body).hexdigest() == _manifest_digest(
        proxy.layout
    )


def test_proxy_skopeo_pulls_the_image_through_the_cache(
    proxy: ProxySetup, tmp_path: Path
) -> None:
    pulled = tmp_path / "pulled"
    result = skopeo_copy(
        f"docker://127.0.0.1:{proxy.cache.port}/demo/hello:1",
        f"oci:{pulled}",
        ["--src-tls-verify=false"],
    )
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (pulled / "blobs" / "sha256").iterdir()}
    assert names == {d.split(":")[1] for d in _image_digests(proxy.layout)}


def test_proxy_refuses_pushes_to_the_cache(proxy: ProxySetup, tmp_path: Path) -> None:
    other = make_oci_layout(tmp_path / "other", content=b"not cached\n")
    result = skopeo_push(other, f"127.0.0.1:{proxy.cache.port}/demo/other:1")
    assert result.returncode != 0
    status, _, body = http_request(
        f"{proxy.cache.url}/v2/demo/other/blobs/uploads/", method="POST", data=b""
    )
    assert status == 405, body
    assert json.loads(body)["errors"][0]["code"] == "UNSUPPORTED"


UPSTREAM_AUTH = """\
auth:
  htpasswd:
    realm: upstream
    path: {htpasswd}
"""
UPSTREAM_USER = "mirror"
UPSTREAM_PASSWORD = "Upstream-pw-regc-41d7"


def test_proxy_credentials_do_not_reach_a_basic_auth_upstream_in_registry_2(
    deploy: Deploy, tmp_path: Path
) -> None:
    """A limit of registry 2.x that regc's users meet, not a regc bug.

    The 2.x proxy hands proxy.username/password only to Bearer (token)
    challenges (distribution/distribution#3153): against an htpasswd upstream
    the cache pulls anonymously and answers MANIFEST_UNKNOWN, although run.sh
    passed the credentials. Docker Hub and token registries work.
    """
    htpasswd = tmp_path / "upstream-htpasswd"
    digest = bcrypt.hashpw(UPSTREAM_PASSWORD.encode(), bcrypt.gensalt(rounds=4))
    htpasswd.write_text(f"{UPSTREAM_USER}:{digest.decode()}\n")
    config = tmp_path / "upstream.yml"
    config.write_text(UPSTREAM_CONFIG + UPSTREAM_AUTH.format(htpasswd=htpasswd))
    layout = make_oci_layout(tmp_path / "layout")
    with run_registry(config, tmp_path / "upstream-data") as upstream:
        creds = f"{UPSTREAM_USER}:{UPSTREAM_PASSWORD}"
        _push(layout, f"127.0.0.1:{upstream.port}/demo/hello:1", "--dest-creds", creds)
        deployment = deploy(
            f"""\
            proxy:
              remote_url: 'http://127.0.0.1:{upstream.port}'
              username: {{env: REGC_UPSTREAM_USER}}
              password: {{env: REGC_UPSTREAM_PASSWORD}}
            """,
            env={
                "REGC_UPSTREAM_USER": UPSTREAM_USER,
                "REGC_UPSTREAM_PASSWORD": UPSTREAM_PASSWORD,
            },
        )
        assert deployment.stand.env["REGISTRY_PROXY_USERNAME"] == UPSTREAM_USER
        assert deployment.stand.env["REGISTRY_PROXY_PASSWORD"] == UPSTREAM_PASSWORD
        with deployment.start() as cache:
            url = f"{cache.url}/v2/demo/hello/manifests/1"
            status, _, body = http_request(url, headers=OCI_ACCEPT)
    assert status == 404, body
    assert json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"


# --- shared HTTP secret ----------------------------------------------------------

SECRET_FIELDS = "replicas: 2\nhttp_secret: {env: REGC_HTTP_SECRET}\n"


def _second_replica(deployment: Deployment, secret: str) -> dict[str, str]:
    """run.sh run again, as on a second host: its overrides, on another port."""
    result, calls = run_with_fake_docker(
        deployment.out / "registry" / "run.sh", env={"REGC_HTTP_SECRET": secret}
    )
    assert result.returncode == 0, result.stderr
    second = stand_in(ContainerRun.of(calls), CONFIG_2X)
    assert second.config == deployment.stand.config
    assert second.data_dir == deployment.stand.data_dir  # shared storage
    # -p PORT:5000 on the second host: another loopback port here.
    return {**second.env, "REGISTRY_HTTP_ADDR": f"127.0.0.1:{free_port()}"}


def _upload_across(
    first: RunningRegistry, second: RunningRegistry
) -> tuple[int, bytes]:
    """Start a blob upload on ``first``, finish it on ``second``."""
    status, headers, body = http_request(
        f"{first.url}/v2/demo/hello/blobs/uploads/", method="POST", data=b""
    )
    assert status == 202, body
    location = headers["location"]
    assert location.startswith(first.url)
    blob = b"a blob uploaded across replicas\n"
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    finish = second.url + location[len(first.url) :] + f"&digest={digest}"
    status, _, body = http_request(
        finish,
        method="PUT",
        data=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    return status, body


def test_shared_secret_lets_one_replica_finish_an_upload_started_on_another(
    deploy: Deploy,
) -> None:
    deployment = deploy(SECRET_FIELDS, env={"REGC_HTTP_SECRET": "one-shared-secret"})
    assert deployment.stand.env["REGISTRY_HTTP_SECRET"] == "one-shared-secret"
    second_env = _second_replica(deployment, "one-shared-secret")
    with deployment.start() as first, deployment.start(env=second_env) as second:
        status, body = _upload_across(first, second)
    assert status == 201, body


def test_a_secret_file_on_the_registry_host_is_shared_like_an_environment_one(
    deploy: Deploy, tmp_path: Path
) -> None:
    secret = tmp_path / "host" / "http-secret"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("one-shared-secret\n")
    deployment = deploy(f"replicas: 2\nhttp_secret: {{file: {secret}}}\n")
    # $(cat FILE) drops the final newline, as a secret written by echo has.
    assert deployment.stand.env["REGISTRY_HTTP_SECRET"] == "one-shared-secret"
    assert "one-shared-secret" not in "".join(
        path.read_text() for path in deployment.out.rglob("*") if path.is_file()
    )
    second_env = {
        **deployment.stand.env,
        "REGISTRY_HTTP_ADDR": f"127.0.0.1:{free_port()}",
    }
    with deployment.start() as first, deployment.start(env=second_env) as second:
        status, body = _upload_across(first, second)
    assert status == 201, body


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(None, "cannot read"), ("", "is empty; it should hold REGISTRY_HTTP_SECRET")],
    ids=["missing", "empty"],
)
def test_run_sh_stops_before_docker_without_its_secret_file(
    build_spec: BuildSpec, tmp_path: Path, content: str | None, complaint: str
) -> None:
    secret = tmp_path / "http-secret"
    if content is not None:
        secret.write_text(content)
    out = build_spec(
        "registry:\n  server: 127.0.0.1\n  image: registry:2.8.2\n"
        f"  replicas: 2\n  http_secret: {{file: {secret}}}\n"
        f"  config_path: {tmp_path}/config.yml\n  data_dir: {tmp_path}/data\n"
    )
    result, calls = run_with_fake_docker(out / "registry" / "run.sh")
    assert result.returncode == 1
    assert result.stderr.startswith("run.sh: ")
    assert str(secret) in result.stderr and complaint in result.stderr
    assert calls == []


def test_different_secrets_make_the_cross_replica_upload_fail(deploy: Deploy) -> None:
    deployment = deploy(SECRET_FIELDS, env={"REGC_HTTP_SECRET": "secret-of-host-a"})
    second_env = _second_replica(deployment, "secret-of-host-b")
    with deployment.start() as first, deployment.start(env=second_env) as second:
        status, body = _upload_across(first, second)
    assert status in (400, 404), body
    code = json.loads(body)["errors"][0]["code"]
    assert code in ("BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN")


# --- metrics ---------------------------------------------------------------------


def test_metrics_answer_prometheus_text_on_the_debug_port(deploy: Deploy) -> None:
    metrics_port = free_port()
    deployment = deploy(f"metrics: {{enabled: true, port: {metrics_port}}}\n")
    assert deployment.stand.ports[5001] == metrics_port
    with deployment.start() as running:
        http_request(f"{running.url}/v2/_catalog")
        status, headers, body = http_request(f"http://127.0.0.1:{metrics_port}/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert "# TYPE registry_http_requests_total counter" in text
    assert "registry_http_requests_total{" in text


# --- S3 storage ------------------------------------------------------------------

BUCKET = "regc-images"
S3_ENV = {
    "REGC_S3_ACCESS": "AKIAREGCTESTACCESS",
    "REGC_S3_SECRET": "regc-test-secret-key",
}


@pytest.fixture
def s3(deploy: Deploy) -> Iterator[tuple[str, Deployment]]:
    """moto's S3 server with an empty bucket, and a spec storing images there."""
    with run_s3_server() as endpoint:
        status, _, body = http_request(f"{endpoint}/{BUCKET}", method="PUT", data=b"")
        assert status == 200, body
        deployment = deploy(
            f"""\
            storage:
              driver: s3
              s3:
                bucket: {BUCKET}
                region: us-east-1
                region_endpoint: {endpoint}
                secure: false
                access_key: {{env: REGC_S3_ACCESS}}
                secret_key: {{env: REGC_S3_SECRET}}
            """,
            env=S3_ENV,
        )
        yield endpoint, deployment


def _bucket_keys(endpoint: str) -> list[str]:
    status, _, body = http_request(f"{endpoint}/{BUCKET}?list-type=2")
    assert status == 200, body
    return [part.split("</Key>")[0] for part in body.decode().split("<Key>")[1:]]


def test_s3_keys_reach_the_registry_from_run_sh_env_not_config(
    s3: tuple[str, Deployment],
) -> None:
    _, deployment = s3
    assert deployment.stand.data_dir is None  # nothing mounted for images
    assert (
        deployment.stand.env["REGISTRY_STORAGE_S3_ACCESSKEY"]
        == S3_ENV["REGC_S3_ACCESS"]
    )
    assert (
        deployment.stand.env["REGISTRY_STORAGE_S3_SECRETKEY"]
        == S3_ENV["REGC_S3_SECRET"]
    )
    config = (deployment.out / "registry" / "config.yml").read_text()
    storage = yaml.safe_load(config)["storage"]["s3"]
    assert "accesskey" not in storage and "secretkey" not in storage
    for path in _files_under(deployment.out):
        for value in S3_ENV.values():
            assert value not in path.read_text(), path


def test_s3_push_stores_the_image_blobs_in_the_bucket(
    s3: tuple[str, Deployment], tmp_path: Path
) -> None:
    endpoint, deployment = s3
    layout = make_oci_layout(tmp_path / "layout")
    with deployment.start() as running:
        _push(layout, f"127.0.0.1:{running.port}/demo/hello:1")
    keys = _bucket_keys(endpoint)
    prefix = "docker/registry/v2/blobs/sha256/"
    stored = {f"sha256:{k.split('/')[-2]}" for k in keys if k.startswith(prefix)}
    assert stored == _image_digests(layout)


def test_s3_image_pulls_from_a_fresh_registry_on_the_same_bucket(
    s3: tuple[str, Deployment], tmp_path: Path
) -> None:
    _, deployment = s3
    layout = make_oci_layout(tmp_path / "layout")
    with deployment.start() as running:
        _push(layout, f"127.0.0.1:{running.port}/demo/hello:1")
    pulled = tmp_path / "pulled"
    with deployment.start() as fresh:
        result = skopeo_copy(
            f"docker://127.0.0.1:{fresh.port}/demo/hello:1",
            f"oci:{pulled}",
            ["--src-tls-verify=false"],
        )
    assert result.returncode == 0, result.stderr
    names = {p.name for p in (pulled / "blobs" / "sha256").iterdir()}
    assert names == {d.split(":")[1] for d in _image_digests(layout)}


# --- registry 3.x ------------------------------------------------------------------


def test_registry_3_run_sh_mounts_the_config_at_etc_distribution(
    deploy: Deploy,
) -> None:
    deployment = deploy(image="registry:3.0.0")
    targets = [container for _, container, _ in deployment.run.mounts]
    assert CONFIG_3X in targets
    assert CONFIG_2X not in targets
    assert deployment.run.image == "registry:3.0.0"
    assert deployment.run.args == []


def test_registry_3_gc_sh_collects_with_the_etc_distribution_config(
    deploy: Deploy,
) -> None:
    deployment = deploy("delete: true\n", image="registry:3.0.0")
    result, calls = run_with_fake_docker(deployment.out / "registry" / "gc.sh")
    assert result.returncode == 0, result.stderr
    assert ContainerRun.of(calls).args == [
        "garbage-collect",
        "--delete-untagged",
        CONFIG_3X,
    ]
