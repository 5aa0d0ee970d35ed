"""Resolve a valid spec into a plain, fully defaulted plan of what to generate.

Every rule that ties one artifact to another lives here: the container port
and storage root that config.yml, run.sh and the mounts must agree on, the
``HOST:PORT`` every Docker host must trust and Humpback must show, and which
file and variable each kind of Docker host really reads.  The renderers only
format what this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import values
from .spec import Spec

# Where the registry listens and keeps its data inside its container.
CONTAINER_PORT = 5000
CONTAINER_DATA_DIR = "/var/lib/registry"
# Where the official image reads its config, by major version.
CONTAINER_CONFIG_PATH = {
    2: "/etc/docker/registry/config.yml",
    3: "/etc/distribution/config.yml",
}

# What Humpback's registry browser sends; see facts/humpback.md.
CORS_METHODS = ["HEAD", "GET", "OPTIONS", "DELETE"]
CORS_HEADERS = ["Authorization", "Accept", "Content-Type", "Origin"]
CORS_EXPOSE = ["Docker-Content-Digest"]


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class RunPlan:
    """The ``docker run`` of the registry container."""

    image: str
    container_name: str
    restart: str
    publish: str
    mounts: tuple[Mount, ...]
    config_path: str
    data_dir: str


@dataclass(frozen=True)
class EnvironmentFile:
    """A file of ``KEY="value"`` lines read by an init script or systemd."""

    path: str
    reader: str
    variables: tuple[tuple[str, str], ...]
    apply: str
    check: str


@dataclass(frozen=True)
class DropIn:
    """A systemd drop-in that repeats a package's ExecStart with one variable."""

    path: str
    package: str
    environment_file: str
    exec_start: str
    apply: str
    check: str


@dataclass(frozen=True)
class DaemonJson:
    path: str
    insecure_registries: tuple[str, ...]


HostFile = EnvironmentFile | DropIn | DaemonJson


@dataclass(frozen=True)
class HostPlan:
    """One folder under ``hosts/``, mirroring a Docker host's root."""

    name: str
    description: str
    files: tuple[HostFile, ...]


@dataclass(frozen=True)
class Plan:
    """Everything the renderers need, and nothing they must work out."""

    name: str
    spec_file: str
    spec_sha256: str
    address: str
    base_url: str
    registry_config: dict[str, Any]
    run: RunPlan
    hosts: tuple[HostPlan, ...]
    humpback: dict[str, Any]


def registry_major(image: str) -> int:
    """The registry's major version from the image tag; 2 unless it says 3."""
    tag = values.image_tag(image) or ""
    return 3 if tag.split(".")[0] == "3" else 2


def _cors_origins(spec: Spec) -> list[str]:
    if spec.registry.cors.allow_origins is not None:
        return list(spec.registry.cors.allow_origins)
    if spec.humpback.url is not None:
        return [spec.humpback.url]
    return ["*"]


def _registry_config(spec: Spec) -> dict[str, Any]:
    headers: dict[str, list[str]] = {"X-Content-Type-Options": ["nosniff"]}
    if spec.registry.cors.enabled:
        headers.update(
            {
                "Access-Control-Allow-Origin": _cors_origins(spec),
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Expose-Headers": CORS_EXPOSE,
            }
        )
    return {
        # The registry refuses anything but the string "0.1".
        "version": "0.1",
        "log": {"level": spec.registry.log_level, "fields": {"service": "registry"}},
        "storage": {
            "cache": {"blobdescriptor": "inmemory"},
            "filesystem": {"rootdirectory": CONTAINER_DATA_DIR},
        },
        "http": {"addr": f":{CONTAINER_PORT}", "headers": headers},
        "health": {
            "storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}
        },
    }


def _run_plan(spec: Spec) -> RunPlan:
    registry = spec.registry
    container_config = CONTAINER_CONFIG_PATH[registry_major(registry.image)]
    return RunPlan(
        image=registry.image,
        container_name=registry.container_name,
        restart=registry.restart,
        publish=f"{registry.port}:{CONTAINER_PORT}",
        mounts=(
            Mount(registry.data_dir, CONTAINER_DATA_DIR),
            Mount(registry.config_path, container_config, read_only=True),
        ),
        config_path=registry.config_path,
        data_dir=registry.data_dir,
    )


def _default_hosts(address: str) -> tuple[HostPlan, ...]:
    """The four host folders of the contract, for the guide's platforms."""
    flag = f"--insecure-registry {address}"
    return (
        HostPlan(
            name="centos6",
            description="CentOS 6 with Docker 1.7.1 (sysvinit)",
            files=(
                EnvironmentFile(
                    path="etc/sysconfig/docker",
                    reader=(
                        "/etc/init.d/docker sources this file with bash and "
                        "passes only $other_args to the daemon"
                    ),
                    variables=(("other_args", flag),),
                    apply="service docker restart",
                    check=f"`ps aux | grep docker` shows {flag}",
                ),
            ),
        ),
        HostPlan(
            name="centos7",
            description="CentOS 7 with upstream docker-ce 18.09.3 or later (systemd)",
            files=(
                EnvironmentFile(
                    path="etc/sysconfig/docker",
                    reader=(
                        "Read by the drop-in 10-insecure-registry.conf, which "
                        "adds $INSECURE_REGISTRY to the daemon's command"
                    ),
                    variables=(("INSECURE_REGISTRY", flag),),
                    apply="systemctl daemon-reload && systemctl restart docker",
                    check=f"`docker info` lists {address} under Insecure Registries",
                ),
                DropIn(
                    path="etc/systemd/system/docker.service.d/10-insecure-registry.conf",
                    package="docker-ce 18.09.3 and later",
                    environment_file="/etc/sysconfig/docker",
                    exec_start=(
                        "/usr/bin/dockerd -H fd:// "
                        "--containerd=/run/containerd/containerd.sock "
                        "$INSECURE_REGISTRY"
                    ),
                    apply="systemctl daemon-reload && systemctl restart docker",
                    check=f"`docker info` lists {address} under Insecure Registries",
                ),
            ),
        ),
        HostPlan(
            name="ubuntu",
            description="Ubuntu 14.04 with upstream Docker (upstart or sysvinit)",
            files=(
                EnvironmentFile(
                    path="etc/default/docker",
                    reader=(
                        "The upstart job and /etc/init.d/docker source this "
                        "file with /bin/sh and pass only $DOCKER_OPTS; "
                        "INSECURE_REGISTRY, which the Humpback guide names, is "
                        "kept but not read there"
                    ),
                    variables=(("DOCKER_OPTS", flag), ("INSECURE_REGISTRY", flag)),
                    apply="service docker restart",
                    check=f"`ps aux | grep docker` shows {flag}",
                ),
            ),
        ),
        HostPlan(
            name="daemon-json",
            description="any host with Docker 1.11 or later, configured by daemon.json",
            files=(
                DaemonJson(
                    path="etc/docker/daemon.json", insecure_registries=(address,)
                ),
            ),
        ),
    )


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
    address = values.host_port(spec.registry.server, spec.registry.port)
    base_url = f"http://{address}"
    return Plan(
        name=name,
        spec_file=spec_file,
        spec_sha256=spec_sha256,
        address=address,
        base_url=base_url,
        registry_config=_registry_config(spec),
        run=_run_plan(spec),
        hosts=_default_hosts(address),
        humpback=_humpback(spec, base_url),
    )
