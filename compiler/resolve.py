"""Resolve a valid spec into a plain, fully defaulted plan of what to generate.

Every rule that ties one artifact to another lives here: the container port
and storage root that config.yml, run.sh and the mounts must agree on, the
``HOST:PORT`` every Docker host must trust and Humpback must show, and which
file and variable each kind of Docker host really reads.  The renderers only
format what this module decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import hosts, registry, values
from .hosts import HostPlan
from .registry import (
    CONTAINER_CERT,
    CONTAINER_CONFIG_PATH,
    CONTAINER_DATA_DIR,
    CONTAINER_DEBUG_PORT,
    CONTAINER_HTPASSWD,
    CONTAINER_KEY,
    CONTAINER_LETSENCRYPT_DIR,
    CONTAINER_PORT,
)
from .spec import SecretRef, Spec


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class Install:
    """A file kept beside run.sh that run.sh installs at a host path."""

    source: str
    target: str


@dataclass(frozen=True)
class Secret:
    """A container variable filled, when run.sh runs, from one of two places.

    ``source`` names a variable of run.sh's environment, ``file`` a file on
    the registry host; one of them is set.
    """

    variable: str
    source: str | None
    file: str | None = None

    @classmethod
    def of(cls, variable: str, ref: SecretRef) -> Secret:
        return cls(variable, ref.env, ref.file)


@dataclass(frozen=True)
class RunPlan:
    """The ``docker run`` of the registry container, and what it needs."""

    image: str
    container_name: str
    restart: str
    publish: tuple[str, ...]
    mounts: tuple[Mount, ...]
    installs: tuple[Install, ...]
    required_files: tuple[str, ...]
    secrets: tuple[Secret, ...]
    directories: tuple[str, ...]
    config_path: str
    config_in_container: str
    replicas: int


@dataclass(frozen=True)
class GcPlan:
    """How gc.sh collects the space that deleted images leave."""

    delete_untagged: bool


@dataclass(frozen=True)
class VerifyPlan:
    """What verify.sh checks and how it reaches the registry."""

    ca_file: str | None
    credentials: bool


@dataclass(frozen=True)
class Plan:
    """Everything the renderers need, and nothing they must work out."""

    name: str
    spec_file: str
    spec_sha256: str
    server: str
    address: str
    base_url: str
    registry_config: dict[str, Any]
    run: RunPlan
    gc: GcPlan | None
    verify: VerifyPlan
    tls: bool
    ca_file: str | None
    htpasswd: str | None
    hosts: tuple[HostPlan, ...]
    humpback: dict[str, Any]
    humpback_managed: tuple[str, ...]
    humpback_url: str | None


def _run_plan(spec: Spec, version: registry.Version) -> RunPlan:
    spec_registry = spec.registry
    mounts: list[Mount] = []
    installs = [Install("config.yml", spec_registry.config_path)]
    required: list[str] = []
    secrets: list[Secret] = []
    directories: list[str] = []
    publish = [f"{spec_registry.port}:{CONTAINER_PORT}"]

    if spec_registry.storage.driver == "filesystem":
        mounts.append(Mount(spec_registry.data_dir, CONTAINER_DATA_DIR))
        directories.append(spec_registry.data_dir)
    config_in_container = CONTAINER_CONFIG_PATH[version[0]]
    mounts.append(Mount(spec_registry.config_path, config_in_container, True))

    tls = spec_registry.tls
    if tls is not None and tls.letsencrypt is not None:
        cache_dir = tls.letsencrypt.cache_file.rsplit("/", 1)[0] or "/"
        mounts.append(Mount(cache_dir, CONTAINER_LETSENCRYPT_DIR))
        directories.append(cache_dir)
    elif tls is not None and tls.certificate and tls.key:
        mounts.append(Mount(tls.certificate, CONTAINER_CERT, True))
        mounts.append(Mount(tls.key, CONTAINER_KEY, True))
        required.extend([tls.certificate, tls.key])

    if spec_registry.auth is not None:
        htpasswd = spec_registry.auth.htpasswd
        mounts.append(Mount(htpasswd.path, CONTAINER_HTPASSWD, True))
        if htpasswd.users is not None:
            installs.append(Install("htpasswd", htpasswd.path))
        else:
            # A missing file would be created with a random password.
            required.append(htpasswd.path)

    if spec_registry.http_secret is not None:
        secrets.append(Secret.of("REGISTRY_HTTP_SECRET", spec_registry.http_secret))
    proxy = spec_registry.proxy
    if proxy is not None and proxy.username is not None:
        secrets.append(Secret.of("REGISTRY_PROXY_USERNAME", proxy.username))
    if proxy is not None and proxy.password is not None:
        secrets.append(Secret.of("REGISTRY_PROXY_PASSWORD", proxy.password))
    s3 = spec_registry.storage.s3
    if s3 is not None and s3.access_key is not None:
        secrets.append(Secret.of("REGISTRY_STORAGE_S3_ACCESSKEY", s3.access_key))
    if s3 is not None and s3.secret_key is not None:
        secrets.append(Secret.of("REGISTRY_STORAGE_S3_SECRETKEY", s3.secret_key))

    if spec_registry.metrics.enabled:
        metrics = spec_registry.metrics
        bind = f"[{metrics.bind}]" if ":" in metrics.bind else metrics.bind
        publish.append(f"{bind}:{metrics.port}:{CONTAINER_DEBUG_PORT}")

    return RunPlan(
        image=spec_registry.image,
        container_name=spec_registry.container_name,
        restart=spec_registry.restart,
        publish=tuple(publish),
        mounts=tuple(mounts),
        installs=tuple(installs),
        required_files=tuple(required),
        secrets=tuple(secrets),
        directories=tuple(directories),
        config_path=spec_registry.config_path,
        config_in_container=config_in_container,
        replicas=spec_registry.replicas,
    )


def _htpasswd(spec: Spec) -> str | None:
    auth = spec.registry.auth
    if auth is None or auth.htpasswd.users is None:
        return None
    users = auth.htpasswd.users
    return "".join(f"{user}:{users[user]}\n" for user in sorted(users))


# Fields of Humpback's System Config each spec field stands for.
HUMPBACK_FIELDS = {
    "enabled": "EnablePrivateRegistry",
    "cluster_mode": "EnableClusterMode",
    "center_api": "HumpbackCenterAPI",
    "top_news": "TopNews",
}


def _humpback_managed(spec: Spec) -> tuple[str, ...]:
    """The System Config fields this spec decides; apply.py leaves the rest.

    Humpback's PUT replaces the whole stored document, so a field the spec
    leaves to its default must not overwrite what an administrator set.
    """
    managed = {"EnablePrivateRegistry", "PrivateRegistry"}
    managed.update(
        HUMPBACK_FIELDS[field]
        for field in spec.humpback.model_fields_set
        if field in HUMPBACK_FIELDS
    )
    return tuple(sorted(managed))


def _host_plans(spec: Spec, address: str) -> tuple[HostPlan, ...]:
    if spec.hosts is None:
        plans = hosts.default_hosts(address)
    else:
        plans = tuple(hosts.plan_group(group, address) for group in spec.hosts)
    if spec.registry.tls is not None:
        # An HTTPS registry needs no insecure-registry setting at all.
        plans = tuple(hosts.without_flags(plan, address) for plan in plans)
    return plans


def _humpback(spec: Spec, base_url: str) -> dict[str, Any]:
    humpback = spec.humpback
    return {
        "EnablePrivateRegistry": humpback.enabled,
        "PrivateRegistry": base_url,
        "EnableClusterMode": humpback.cluster_mode,
        "HumpbackCenterAPI": humpback.center_api or "",
        "TopNews": humpback.top_news,
    }


def resolve(spec: Spec, *, name: str, spec_file: str, spec_sha256: str) -> Plan:
    """The plan for ``spec``; ``name`` already defaulted from the file."""
    version = registry.version_of(spec.registry)
    if version is None:
        raise ValueError("resolve() needs a spec that passed lint")
    address = values.host_port(spec.registry.server, spec.registry.port)
    tls = spec.registry.tls
    base_url = f"{'https' if tls is not None else 'http'}://{address}"
    ca_file = tls.ca if tls is not None else None
    gc = None
    if spec.registry.delete:
        gc = GcPlan(delete_untagged=version >= (2, 7))
    return Plan(
        name=name,
        # The file name lands in a comment of every artifact: a newline, a
        # quote or a non-ASCII letter there must not reach a script.
        spec_file=re.sub(r"[^A-Za-z0-9._+@-]", "?", spec_file),
        spec_sha256=spec_sha256,
        server=spec.registry.server,
        address=address,
        base_url=base_url,
        registry_config=registry.build_config(spec, version),
        run=_run_plan(spec, version),
        gc=gc,
        verify=VerifyPlan(ca_file=ca_file, credentials=spec.registry.auth is not None),
        tls=tls is not None,
        ca_file=ca_file,
        htpasswd=_htpasswd(spec),
        hosts=_host_plans(spec, address),
        humpback=_humpback(spec, base_url),
        humpback_managed=_humpback_managed(spec),
        humpback_url=spec.humpback.url,
    )
