"""What each kind of Docker host reads, and the files that make it trust a registry.

The facts behind every rule are in shared/facts/docker-hosts.md: which file
and variable an init script or unit really reads, the ExecStart of each
package and version (a drop-in must repeat it), and from which version
daemon.json accepts ``insecure-registries``.  ``check_group`` finds what
cannot work; ``plan_group`` builds the files of a group that passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from .diagnostics import Severity
from .findings import Finding
from .spec import HostGroup
from .values import docker_version

Version = tuple[int, int, int]

# Docker stops at 1.7.1 on CentOS 6 (dropped in 1.8.0).
CENTOS6_LAST = (1, 7, 1)
# daemon.json accepts insecure-registries from 1.11 (1.10.3 refuses the key).
DAEMON_JSON_FIRST = (1, 11, 0)
# The daemon reads /etc/docker/daemon.json from 1.10 (without that key).
DAEMON_JSON_FILE_FIRST = (1, 10, 0)
# SIGHUP reloads daemon.json from 1.13; before, the daemon must restart.
RELOAD_FIRST = (1, 13, 0)
# The first Docker whose `docker info` lists the insecure registries.
DOCKER_INFO_FIRST = (1, 12, 0)
# The last upstream releases built for CentOS 7 (EOL June 2024) and for
# Ubuntu 14.04, the Ubuntu with upstart.
CENTOS7_CE_LAST = (26, 1, 99)
TRUSTY_CE_LAST = (18, 6, 99)
# The Humpback guide's prerequisite for its hosts.
HUMPBACK_FIRST = (1, 8, 3)
# Bracketed IPv6 registries parse in image names only from Docker 25.0.
IPV6_FIRST = (25, 0, 0)
# CentOS 7's own docker package shipped these minor versions.
CENTOS7_DISTRIBUTION = {(1, 10), (1, 12), (1, 13)}
# docker-engine was renamed docker-ce in the 17.03/17.06 releases.
ENGINE_LAST = (17, 5, 99)
CE_FIRST = (17, 3, 0)
# The oldest upstream unit regc knows (`docker daemon`, 1.8).
UPSTREAM_FIRST = (1, 8, 0)

SYSTEMD_APPLY = "systemctl daemon-reload && systemctl restart docker"
SERVICE_APPLY = "service docker restart"
DROP_IN = "etc/systemd/system/docker.service.d/10-insecure-registry.conf"


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
    """A systemd drop-in: an extra EnvironmentFile, and the ExecStart if needed."""

    path: str
    note: str
    environment_file: str
    exec_start: str | None
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
    method: str
    files: tuple[HostFile, ...]
    apply: tuple[str, ...]
    check: str
    machines: tuple[str, ...] = ()
    # Whether the daemon reads /etc/docker/daemon.json at all (1.10+).
    reads_daemon_json: bool = True


def _text(version: Version) -> str:
    return ".".join(str(part) for part in version)


def package_of(group: HostGroup) -> str | None:
    """The group's package family; Debian's hosts run docker.io by default."""
    if group.package is None and group.os == "debian":
        return "distribution"
    return group.package


def method_of(group: HostGroup) -> str:
    """The group's method, defaulted by OS and package."""
    if group.method is not None:
        return group.method
    if group.os == "any":
        return "daemon-json"
    if group.os == "ubuntu-systemd" or (
        group.os == "debian" and package_of(group) != "distribution"
    ):
        version = docker_version(group.docker)
        return "daemon-json" if version >= DAEMON_JSON_FIRST else "flags"
    return "flags"


def _package_findings(group: HostGroup, version: Version) -> Iterator[Finding]:
    package = group.package
    if group.os == "centos6":
        if version > CENTOS6_LAST:
            yield Finding(
                ("docker",),
                Severity.ERROR,
                "RG401",
                f"Docker {group.docker} does not exist on CentOS 6: it stops at "
                "1.7.1 (EPEL docker-io); write docker: '1.7.1'",
            )
        if package not in (None, "distribution"):
            yield Finding(
                ("package",),
                Severity.ERROR,
                "RG403",
                f"there is no {package} package for CentOS 6: remove package "
                "(CentOS 6 has only EPEL's docker-io)",
            )
    if (
        group.os == "centos7"
        and package == "docker-ce"
        and version[:2] == (18, 9)
        and group.docker.count(".") == 1
    ):
        yield Finding(
            ("docker",),
            Severity.ERROR,
            "RG410",
            "docker-ce 18.09.0, 18.09.1 and 18.09.3 start dockerd with different "
            "options, which the drop-in repeats: write the patch release "
            "`docker version` prints, such as '18.09.3'",
        )
    if group.os == "centos7" and package is None:
        yield Finding(
            (),
            Severity.ERROR,
            "RG404",
            "say which Docker package these CentOS 7 hosts run: add `package: "
            "distribution` (yum install docker) or `package: docker-ce` "
            "(or docker-engine); their units differ",
        )
    if (
        group.os == "centos7"
        and package == "distribution"
        and version[:2] not in CENTOS7_DISTRIBUTION
    ):
        yield Finding(
            ("docker",),
            Severity.ERROR,
            "RG403",
            f"CentOS 7's own docker package was never {group.docker}: it is "
            "1.10.3, 1.12.6 or 1.13.1; for newer versions use package: docker-ce",
        )
    if package == "docker-engine" and version > ENGINE_LAST:
        yield Finding(
            ("package",),
            Severity.ERROR,
            "RG403",
            f"docker-engine ended with 17.05; Docker {group.docker} comes as "
            "docker-ce: write package: docker-ce",
        )
    if package == "docker-ce" and version < CE_FIRST:
        yield Finding(
            ("package",),
            Severity.ERROR,
            "RG403",
            f"docker-ce starts at 17.03; Docker {group.docker} came as "
            "docker-engine: write package: docker-engine",
        )
    upstream = package in ("docker-ce", "docker-engine")
    if group.os == "ubuntu-upstart" and upstream and version > TRUSTY_CE_LAST:
        yield Finding(
            ("docker",),
            Severity.ERROR,
            "RG403",
            f"Docker {group.docker} was never built for Ubuntu 14.04, the "
            "release with upstart: upstream packages end with 18.06 there "
            "(docker/docker-ce-packaging#253); write the version `docker "
            "version` prints on these hosts",
        )
    if group.os == "centos7" and package == "docker-ce" and version > CENTOS7_CE_LAST:
        yield Finding(
            ("docker",),
            Severity.ERROR,
            "RG403",
            f"docker-ce {group.docker} was never built for CentOS 7: its "
            "packages end with 26.1 (docker/docker-ce-packaging#1028); write "
            "the version `docker version` prints on these hosts",
        )


def _method_findings(group: HostGroup, version: Version) -> Iterator[Finding]:
    method = method_of(group)
    if method == "daemon-json" and version < DAEMON_JSON_FIRST:
        yield Finding(
            ("method",) if group.method else ("docker",),
            Severity.ERROR,
            "RG402",
            f"Docker {group.docker} does not accept insecure-registries in "
            "daemon.json (it does from 1.11): use method: flags",
        )
    if method == "flags" and group.os == "any":
        yield Finding(
            ("method",),
            Severity.ERROR,
            "RG402",
            "os: any is configured through daemon.json only: remove method, or "
            "name the OS so regc knows which file its daemon reads",
        )
    needs_unit = method == "flags" and (
        group.os == "ubuntu-systemd"
        or (group.os in ("centos7", "debian") and package_of(group) != "distribution")
    )
    if needs_unit and version < UPSTREAM_FIRST:
        yield Finding(
            ("docker",),
            Severity.ERROR,
            "RG402",
            f"regc knows the systemd units of Docker 1.8 and later, not "
            f"{group.docker}: upgrade Docker on these hosts",
        )


def check_group(group: HostGroup, *, ipv6: bool, humpback: bool) -> list[Finding]:
    """Everything about ``group`` that cannot work or will surprise."""
    version = docker_version(group.docker)
    findings = [*_package_findings(group, version), *_method_findings(group, version)]
    if ipv6 and version < IPV6_FIRST:
        findings.append(
            Finding(
                ("docker",),
                Severity.ERROR,
                "RG406",
                f"Docker {group.docker} cannot pull from a registry at an IPv6 "
                "address ([...]:PORT/image parses from Docker 25.0): give "
                "registry.server a DNS name",
            )
        )
    if humpback and version < HUMPBACK_FIRST:
        findings.append(
            Finding(
                ("docker",),
                Severity.WARNING,
                "RG405",
                f"Humpback needs Docker 1.8.3 or later on its hosts; these run "
                f"{group.docker}",
            )
        )
    return findings


def upstream_exec_start(version: Version, *, rpm: bool) -> str:
    """The ExecStart of upstream docker-engine/docker-ce's own unit."""
    if version < (1, 12, 0):
        return "/usr/bin/docker daemon -H fd://"
    if version < (18, 9, 0):
        # The rpm packages had no docker.socket until 18.09.
        return "/usr/bin/dockerd" if rpm else "/usr/bin/dockerd -H fd://"
    if version < (18, 9, 1):
        return "/usr/bin/dockerd -H unix://"
    if version < (18, 9, 3):
        return "/usr/bin/dockerd -H fd://"
    return "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"


def _environment_file(
    path: str, reader: str, variable: str, flag: str, apply: str = SYSTEMD_APPLY
) -> HostFile:
    return EnvironmentFile(
        path=path,
        reader=reader,
        variables=((variable, flag),),
        apply=apply,
        check=f"`ps aux | grep docker` shows {flag}",
    )


def _flags_files(group: HostGroup, version: Version, flag: str) -> tuple[HostFile, ...]:
    check = f"`docker info` lists {flag.split()[-1]} under Insecure Registries"
    if group.os == "centos6":
        reader = (
            "/etc/init.d/docker sources this file with bash and passes only "
            "$other_args to the daemon"
        )
        return (
            _environment_file(
                "etc/sysconfig/docker", reader, "other_args", flag, SERVICE_APPLY
            ),
        )

    if group.os == "ubuntu-upstart" or (
        group.os in ("debian", "ubuntu-systemd") and package_of(group) == "distribution"
    ):
        reader = (
            "The upstart job and /etc/init.d/docker source this file with "
            "/bin/sh and pass only $DOCKER_OPTS"
            if group.os == "ubuntu-upstart"
            else "The docker.io package's unit reads this file and passes "
            "$DOCKER_OPTS to the daemon"
        )
        return (
            _environment_file(
                "etc/default/docker", reader, "DOCKER_OPTS", flag, SERVICE_APPLY
            ),
        )

    if group.os == "centos7" and group.package == "distribution":
        # The package's unit already passes $INSECURE_REGISTRY; an extra
        # EnvironmentFile, read after /etc/sysconfig/docker, sets it without
        # replacing the package's file or its ExecStart.
        env_path = "etc/sysconfig/docker-insecure-registry"
        drop_in = DropIn(
            path=DROP_IN,
            note=(
                f"The docker {group.docker} package's unit already passes "
                "$INSECURE_REGISTRY; this adds a file that sets it, read after "
                "/etc/sysconfig/docker, and keeps the package's ExecStart. A "
                "value set there (or, on 1.13, from /etc/containers/"
                "registries.conf) is replaced by this one"
            ),
            environment_file=f"/{env_path}",
            exec_start=None,
            apply=SYSTEMD_APPLY,
            check=check,
        )
        reader = "Read by the drop-in 10-insecure-registry.conf"
        return (
            drop_in,
            _environment_file(env_path, reader, "INSECURE_REGISTRY", flag),
        )

    # Upstream packages on systemd: repeat the package's ExecStart, plus a
    # variable from a file the drop-in names.
    rpm = group.os == "centos7"
    env_path = "etc/sysconfig/docker" if rpm else "etc/default/docker"
    variable = "INSECURE_REGISTRY" if rpm else "DOCKER_OPTS"
    package = group.package or ("docker-ce" if version >= CE_FIRST else "docker-engine")
    drop_in = DropIn(
        path=DROP_IN,
        note=(
            f"Repeats the ExecStart of {package} {group.docker} and adds the "
            f"insecure-registry flag from /{env_path}. The empty ExecStart= "
            "first clears the package's own line, as systemd requires"
        ),
        environment_file=f"/{env_path}",
        exec_start=f"{upstream_exec_start(version, rpm=rpm)} ${variable}",
        apply=SYSTEMD_APPLY,
        check=check,
    )
    reader = "Read by the drop-in 10-insecure-registry.conf, which adds " + (
        f"${variable} to the daemon's command"
    )
    return (drop_in, _environment_file(env_path, reader, variable, flag))


_OS_NAMES = {
    "centos6": "CentOS 6 (sysvinit)",
    "centos7": "CentOS 7 (systemd)",
    "ubuntu-upstart": "Ubuntu with upstart (14.04)",
    "ubuntu-systemd": "Ubuntu with systemd (16.04 and later)",
    "debian": "Debian (systemd)",
    "any": "any OS",
}


def plan_group(group: HostGroup, address: str) -> HostPlan:
    """The files and commands of a group that ``check_group`` passed."""
    version = docker_version(group.docker)
    method = method_of(group)
    package = f", {group.package}" if group.package else ""
    description = f"{_OS_NAMES[group.os]} with Docker {group.docker}{package}"

    if method == "daemon-json":
        reload = (
            "systemctl reload docker"
            if version >= RELOAD_FIRST and group.os != "ubuntu-upstart"
            else SERVICE_APPLY
        )
        return HostPlan(
            name=group.name,
            description=description,
            method=method,
            files=(DaemonJson("etc/docker/daemon.json", (address,)),),
            apply=("python3 merge-daemon-json.py", reload),
            check=f"`docker info` lists {address} under Insecure Registries",
            machines=tuple(group.machines),
        )

    files = _flags_files(group, version, f"--insecure-registry {address}")
    drop_in = any(isinstance(file, DropIn) for file in files)
    apply = SYSTEMD_APPLY if drop_in else SERVICE_APPLY
    check = f"`ps aux | grep docker` shows --insecure-registry {address}"
    if version >= DOCKER_INFO_FIRST:
        check = f"`docker info` lists {address} under Insecure Registries; {check}"
    return HostPlan(
        name=group.name,
        description=description,
        method=method,
        files=files,
        apply=(apply,),
        check=check,
        reads_daemon_json=version >= DAEMON_JSON_FILE_FIRST,
        machines=tuple(group.machines),
    )


def without_flags(plan: HostPlan, address: str) -> HostPlan:
    """The group's plan for an HTTPS registry: nothing to make insecure."""
    return replace(
        plan,
        method="tls",
        files=(),
        apply=(),
        check=f"`docker pull {address}/IMAGE` works with no insecure-registry setting",
    )


def default_hosts(address: str) -> tuple[HostPlan, ...]:
    """The four host folders of the contract, for the guide's platforms."""
    flag = f"--insecure-registry {address}"
    centos7 = HostGroup(
        name="centos7", os="centos7", docker="18.09.3", package="docker-ce"
    )
    ubuntu_reader = (
        "The upstart job and /etc/init.d/docker source this file with /bin/sh "
        "and pass only $DOCKER_OPTS; INSECURE_REGISTRY, which the Humpback "
        "guide names, is kept but not read there"
    )
    return (
        plan_group(HostGroup(name="centos6", os="centos6", docker="1.7.1"), address),
        HostPlan(
            name="centos7",
            description="CentOS 7 with upstream docker-ce 18.09.3 or later (systemd)",
            method="flags",
            files=_flags_files(centos7, (18, 9, 3), flag),
            apply=(SYSTEMD_APPLY,),
            check=(
                f"`docker info` lists {address} under Insecure Registries; "
                f"`ps aux | grep docker` shows {flag}"
            ),
        ),
        HostPlan(
            name="ubuntu",
            description="Ubuntu 14.04 with upstream Docker (upstart or sysvinit)",
            method="flags",
            files=(
                EnvironmentFile(
                    path="etc/default/docker",
                    reader=ubuntu_reader,
                    variables=(("DOCKER_OPTS", flag), ("INSECURE_REGISTRY", flag)),
                    apply=SERVICE_APPLY,
                    check=f"`ps aux | grep docker` shows {flag}",
                ),
            ),
            apply=(SERVICE_APPLY,),
            check=f"`ps aux | grep docker` shows {flag}",
        ),
        replace(
            plan_group(HostGroup(name="daemon-json", os="any", docker="1.11"), address),
            description="any host with Docker 1.11 or later, configured by daemon.json",
        ),
    )
