"""The Docker host files, checked by the programs that really read them.

Every case (each example, an IPv6 spec, and ``VARIANT_GROUPS``: one host group
per package, version and ExecStart regc knows) is built to disk, and the files
under ``hosts/*/`` are found from ``manifest.json``, not from a list of folder
names. For each host group:

* its folder holds exactly the files its OS, package and method read
  (``expected_layout``), never a flag file and daemon.json together, and no
  folder at all when the registry speaks HTTPS;
* every environment file passes shellcheck in the dialect of the shell that
  sources it, is sourced by that shell (bash, dash, or both when systemd reads
  it too), and, when systemd reads it, is parsed by systemd's own environment
  file parser; each gives back exactly ``--insecure-registry HOST:PORT``;
* every group started by systemd gets a fake root holding the units of its
  package and version (``tests/units/FAMILY``) and stubs for every program
  they name: ``systemd-analyze verify`` must load the drop-in silently, and its
  dump of the merged unit must show the package's ExecStart plus the flag
  variable (or, for CentOS 7's own package, the package's ExecStart unchanged
  and the drop-in's EnvironmentFile after /etc/sysconfig/docker). From that
  dump the daemon's command line is computed and must gain exactly the flag.

Negative controls prove that each check can fail. The remaining tests cover
every artifact of every case: scripts pass shellcheck, text files open with
the generated-by comment, modes are 0755 for scripts and 0644 otherwise.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from stat import S_IMODE
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, BuildSpec
from realtools import require_tool

TIMEOUT = 60.0
UNITS = Path(__file__).resolve().parent / "units"

Version = tuple[int, int, int]

# ---------------------------------------------------------------------------
# The cases: every example, an IPv6 server, and one group of every kind.

IPV6_SPEC = 'registry: {server: "2001:db8::10"}\n'

# One host group for every base unit, ExecStart and file layout regc knows:
# (name, os, docker, package, method); None leaves the field to its default.
VARIANT_GROUPS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    # CentOS 7, upstream rpm packages: every ExecStart of upstream_exec_start.
    ("el7-engine-1-8", "centos7", "1.8.3", "docker-engine", None),
    ("el7-engine-1-11", "centos7", "1.11.2", "docker-engine", None),
    ("el7-engine-1-12", "centos7", "1.12.6", "docker-engine", None),
    ("el7-ce-17-06", "centos7", "17.06.2-ce", "docker-ce", None),
    ("el7-ce-18-06", "centos7", "18.06.3-ce", "docker-ce", None),
    ("el7-ce-18-09-0", "centos7", "18.09.0", "docker-ce", None),
    ("el7-ce-18-09-1", "centos7", "18.09.1", "docker-ce", None),
    ("el7-ce-18-09-2", "centos7", "18.09.2", "docker-ce", None),
    ("el7-ce-18-09-3", "centos7", "18.09.3", "docker-ce", None),
    ("el7-ce-19-03", "centos7", "19.03.15", "docker-ce", None),
    # CentOS 7's own docker package.
    ("el7-distro-1-10", "centos7", "1.10.3", "distribution", None),
    ("el7-distro-1-12", "centos7", "1.12.6", "distribution", None),
    ("el7-distro-1-13", "centos7", "1.13.1", "distribution", None),
    ("el7-distro-json", "centos7", "1.13.1", "distribution", "daemon-json"),
    # Ubuntu with systemd and Debian, upstream deb packages, method: flags.
    ("xenial-engine-1-8", "ubuntu-systemd", "1.8.3", "docker-engine", None),
    ("xenial-engine-1-11", "ubuntu-systemd", "1.11.2", "docker-engine", "flags"),
    ("xenial-engine-1-12", "ubuntu-systemd", "1.12.6", "docker-engine", "flags"),
    ("xenial-ce-17-06", "ubuntu-systemd", "17.06.2-ce", "docker-ce", "flags"),
    ("bionic-ce-18-09-0", "ubuntu-systemd", "18.09.0", "docker-ce", "flags"),
    ("bionic-ce-18-09-1", "ubuntu-systemd", "18.09.1", "docker-ce", "flags"),
    ("bionic-ce-18-09-2", "ubuntu-systemd", "18.09.2", "docker-ce", "flags"),
    ("bionic-ce-18-09-3", "ubuntu-systemd", "18.09.3", "docker-ce", "flags"),
    ("focal-ce-20-10", "ubuntu-systemd", "20.10.24", "docker-ce", "flags"),
    ("jessie-engine-1-8", "debian", "1.8.3", "docker-engine", None),
    ("stretch-ce-18-06", "debian", "18.06.3-ce", "docker-ce", "flags"),
    ("buster-ce-18-09-1", "debian", "18.09.1", "docker-ce", "flags"),
    ("bullseye-ce-json", "debian", "20.10.24", "docker-ce", None),
    # The distributions' own docker.io packages (Debian's is the default).
    ("xenial-docker-io", "ubuntu-systemd", "1.10.3", "distribution", None),
    ("buster-docker-io", "debian", "18.09.1", None, None),
    # daemon.json where the method or the version asks for it.
    ("trusty-json", "ubuntu-upstart", "1.12.6", "docker-engine", "daemon-json"),
    ("xenial-json", "ubuntu-systemd", "1.11.2", "docker-engine", None),
)


def variants_spec() -> str:
    keys = ("name", "os", "docker", "package", "method")
    hosts = [
        {key: value for key, value in zip(keys, row, strict=True) if value}
        for row in VARIANT_GROUPS
    ]
    registry = {"server": "registry.example.com", "port": 5443}
    return yaml.safe_dump({"registry": registry, "hosts": hosts}, sort_keys=False)


@dataclass(frozen=True)
class Case:
    """A spec to build: its file's stem and its text."""

    stem: str
    text: str

    @property
    def spec_file(self) -> str:
        return f"{self.stem}.yaml"


CASES = (
    *(Case(path.stem, path.read_text("utf-8")) for path in EXAMPLES),
    Case("ipv6", IPV6_SPEC),
    Case("variants", variants_spec()),
)


@dataclass(frozen=True)
class Group:
    """A host group as the spec states it, with the documented defaults."""

    name: str
    os: str
    docker: Version | None  # None: any version (the guide's Ubuntu folder)
    package: str | None
    method: str
    # Variables kept for the Humpback guide although the host does not read them.
    guide_variables: tuple[str, ...] = ()
    # The registry speaks HTTPS: no host needs an insecure-registry setting.
    tls: bool = False


def parse_version(text: str) -> Version:
    """``'17.03.2-ce'`` -> (17, 3, 2); ``'1.11'`` -> (1, 11, 0)."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    assert match is not None, text
    return (int(match[1]), int(match[2]), int(match[3] or 0))


def default_method(os_name: str, package: str | None, docker: Version) -> str:
    """design.md / spec.py: daemon-json on any, and from 1.11 on systemd Ubuntu
    and upstream Debian; flags elsewhere."""
    if os_name == "any":
        return "daemon-json"
    upstream_deb = os_name == "debian" and package != "distribution"
    if os_name == "ubuntu-systemd" or upstream_deb:
        return "daemon-json" if docker >= (1, 11, 0) else "flags"
    return "flags"


def group_of(raw: Mapping[str, Any]) -> Group:
    os_name = str(raw["os"])
    docker = parse_version(str(raw["docker"]))
    package = raw.get("package")
    if package is None and os_name == "debian":
        package = "distribution"  # "debian defaults to distribution"
    method = raw.get("method") or default_method(os_name, package, docker)
    return Group(str(raw["name"]), os_name, docker, package, str(method))


# The four folders of a spec without `hosts` (design.md, "Artifacts").
DEFAULT_GROUPS = (
    Group("centos6", "centos6", (1, 7, 1), None, "flags"),
    Group("centos7", "centos7", (18, 9, 3), "docker-ce", "flags"),
    Group(
        "ubuntu",
        "ubuntu-upstart",
        None,
        None,
        "flags",
        guide_variables=("INSECURE_REGISTRY",),
    ),
    Group("daemon-json", "any", (1, 11, 0), None, "daemon-json"),
)


def groups_of(case: Case) -> tuple[Group, ...]:
    spec = yaml.safe_load(case.text)
    hosts = spec.get("hosts")
    groups = DEFAULT_GROUPS if hosts is None else tuple(map(group_of, hosts))
    tls = spec["registry"].get("tls") is not None
    return tuple(replace(group, tls=tls) for group in groups)


def implied_address(case: Case) -> str:
    """``HOST:PORT`` from the spec's own text: port 5000 unless given."""
    registry = yaml.safe_load(case.text)["registry"]
    host = str(registry["server"])
    try:
        ip = ipaddress.ip_address(host)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
    except ValueError:
        pass
    return f"{host}:{registry.get('port', 5000)}"


# ---------------------------------------------------------------------------
# What each kind of group must get: the oracle, from shared/facts/docker-hosts.md.

ENVIRONMENT_FILES = (
    "etc/sysconfig/docker",
    "etc/sysconfig/docker-insecure-registry",
    "etc/default/docker",
)
DROP_IN_DIR = "etc/systemd/system/docker.service.d/"
DAEMON_JSON = "etc/docker/daemon.json"


@dataclass(frozen=True)
class Layout:
    """The files of a host folder: environment files with the variables that
    must carry the flag, whether there is a drop-in, whether daemon.json."""

    environment: tuple[tuple[str, tuple[str, ...]], ...] = ()
    drop_in: bool = False
    daemon_json: bool = False


def expected_layout(group: Group) -> Layout:
    if group.tls:
        return Layout()  # nothing to make insecure: no folder at all
    if group.method == "daemon-json":
        return Layout(daemon_json=True)
    if group.os == "centos6":
        # /etc/init.d/docker sources it with bash and passes only $other_args.
        return Layout((("etc/sysconfig/docker", ("other_args",)),))
    if group.os == "centos7" and group.package == "distribution":
        # The package's unit passes $INSECURE_REGISTRY; a drop-in adds a file
        # setting it, and nothing replaces the package's /etc/sysconfig/docker.
        path = "etc/sysconfig/docker-insecure-registry"
        return Layout(((path, ("INSECURE_REGISTRY",)),), drop_in=True)
    if group.os == "centos7":
        return Layout((("etc/sysconfig/docker", ("INSECURE_REGISTRY",)),), True)
    env = ("etc/default/docker", ("DOCKER_OPTS", *group.guide_variables))
    if group.os == "ubuntu-upstart" or group.package == "distribution":
        # upstart/sysvinit scripts, or the docker.io unit, read $DOCKER_OPTS.
        return Layout((env,))
    return Layout((env,), drop_in=True)  # upstream deb unit + drop-in


@dataclass(frozen=True)
class Reader:
    """How a host reads an environment file."""

    dialect: str  # shellcheck -s
    shells: tuple[str, ...]  # the shells that source it
    systemd: bool  # also read by a unit's EnvironmentFile=


def reader_of(group: Group, path: str) -> Reader:
    # CentOS files are sourced by bash (init scripts, /bin/sh is bash there);
    # /etc/default/docker by /bin/sh, dash on Debian and Ubuntu. A file that
    # systemd reads must also be plain enough for the other shell.
    dialect = "bash" if path.startswith("etc/sysconfig/") else "sh"
    if group.os == "centos6":
        return Reader(dialect, ("bash",), systemd=False)
    if group.os == "ubuntu-upstart":
        return Reader(dialect, ("dash",), systemd=False)
    return Reader(dialect, ("bash", "dash"), systemd=True)


def starts_with_systemd(group: Group) -> bool:
    """Whether the group's files are read by a systemd unit of its package."""
    return (
        not group.tls
        and group.method == "flags"
        and group.os
        in (
            "centos7",
            "ubuntu-systemd",
            "debian",
        )
    )


def family_of(group: Group) -> str:
    """The folder under tests/units holding the units of the group's package."""
    version = group.docker
    assert version is not None
    if group.package == "distribution":
        if group.os == "centos7" and version[:2] in ((1, 10), (1, 12), (1, 13)):
            return f"centos7-docker-{version[0]}.{version[1]}"
        if group.os == "debian":
            return "debian-docker.io"
        if group.os == "ubuntu-systemd" and version < (1, 12, 0):
            return "ubuntu-docker.io-1.10"
        raise LookupError(f"no base unit in tests/units for {group}")
    if version < (1, 12, 0):
        return "docker-engine-1.8"
    if version < (18, 9, 0):
        return "rpm-dockerd" if group.os == "centos7" else "deb-dockerd"
    if version < (18, 9, 1):
        return "docker-ce-18.09.0"
    if version < (18, 9, 3):
        return "docker-ce-18.09.1"
    if version < (20, 10, 0):
        return "docker-ce-18.09.3"
    return "docker-ce-20.10"


def _params(keep: Callable[[Group], bool] | None = None) -> list[Any]:
    """pytest params of (case, group), one per group, optionally filtered."""
    return [
        pytest.param((case, group), id=f"{case.stem}-{group.name}")
        for case in CASES
        for group in groups_of(case)
        if keep is None or keep(group)
    ]


GROUPS = _params()
SYSTEMD_GROUPS = _params(starts_with_systemd)
DROP_IN_GROUPS = _params(lambda g: expected_layout(g).drop_in)
DAEMON_JSON_GROUPS = _params(lambda g: expected_layout(g).daemon_json)
CENTOS7_DISTRIBUTION = _params(
    lambda g: (
        starts_with_systemd(g) and g.os == "centos7" and g.package == "distribution"
    )
)
FAMILIES = sorted(path.name for path in UNITS.iterdir() if path.is_dir())

# ---------------------------------------------------------------------------
# Building and finding the files.


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=None if env is None else dict(env),
        cwd=cwd,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """A fixed environment: the caller's SYSTEMD_LOG_LEVEL etc. must not leak."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", **extra}


@dataclass(frozen=True)
class Built:
    """A case built to disk and the artifacts its manifest lists."""

    out: Path
    spec_file: str
    address: str
    modes: dict[str, str]  # path -> mode, from manifest.json

    @property
    def flag(self) -> str:
        return f"--insecure-registry {self.address}"


def build(case: Case, build_spec: BuildSpec) -> Built:
    out = build_spec(case.text, stem=case.stem)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    modes = {a["path"]: a["mode"] for a in manifest["artifacts"]}
    return Built(out, case.spec_file, implied_address(case), modes)


@dataclass(frozen=True)
class HostFolder:
    """One folder under hosts/, its group, and the files the manifest lists."""

    group: Group
    built: Built
    files: tuple[str, ...]  # relative to the folder

    @property
    def root(self) -> Path:
        return self.built.out / "hosts" / self.group.name

    @property
    def environment_files(self) -> tuple[str, ...]:
        return tuple(f for f in self.files if f in ENVIRONMENT_FILES)

    @property
    def drop_ins(self) -> tuple[str, ...]:
        return tuple(
            f for f in self.files if f.startswith(DROP_IN_DIR) and f.endswith(".conf")
        )

    @property
    def layout(self) -> Layout:
        return expected_layout(self.group)

    def variables_of(self, path: str) -> tuple[str, ...]:
        """The variables of ``path`` that must carry the flag."""
        expected = dict(self.layout.environment)
        assert path in expected, f"{self.group.name} should not have {path}"
        return expected[path]


def host_files(built: Built, name: str) -> tuple[str, ...]:
    prefix = f"hosts/{name}/"
    return tuple(sorted(p[len(prefix) :] for p in built.modes if p.startswith(prefix)))


@pytest.fixture(params=[pytest.param(c, id=c.stem) for c in CASES])
def built(request: pytest.FixtureRequest, build_spec: BuildSpec) -> Built:
    """Each case built to disk."""
    case: Case = request.param
    return build(case, build_spec)


@pytest.fixture
def host(request: pytest.FixtureRequest, build_spec: BuildSpec) -> HostFolder:
    """The host group a test is parametrized with (indirect), built to disk."""
    case, group = request.param
    built = build(case, build_spec)
    return HostFolder(group, built, host_files(built, group.name))


# ---------------------------------------------------------------------------
# Shells and shellcheck.


def shellcheck(path: Path, dialect: str, *excludes: str) -> None:
    args = [a for code in excludes for a in ("-e", code)]
    result = run([require_tool("shellcheck"), "-s", dialect, *args, str(path)])
    assert result.returncode == 0, result.stdout + result.stderr


def source(shell: str, path: Path, variable: str) -> subprocess.CompletedProcess[str]:
    """``env -i SHELL -c '. ./FILE && printf "%s\\n" "$VAR"'`` in its folder."""
    script = f'. ./{path.name} && printf "%s\\n" "${variable}"'
    return run([require_tool(shell), "-c", script], env={}, cwd=path.parent)


def reads_back(result: subprocess.CompletedProcess[str], value: str) -> bool:
    return (result.returncode, result.stdout, result.stderr) == (0, value + "\n", "")


def unquote(words: str) -> tuple[str, ...]:
    """Shell-quoted words (as systemd prints them) split by a real shell."""
    script = 'eval "set -- $1" && printf "%s\\0" "$@"'
    result = run([require_tool("dash"), "-c", script, "sh", words])
    assert result.returncode == 0, result.stderr
    return tuple(result.stdout.split("\0")[:-1])


# ---------------------------------------------------------------------------
# systemd's own environment file parser.
#
# systemd cannot run as PID 1 here, and no systemd tool loads a unit's
# EnvironmentFile= without a running manager (systemd-analyze verify does not
# read them, systemctl/systemd-run need the manager, systemd-nspawn is not
# installed). A user manager (`systemd --user`, in a private mount namespace
# with /run/systemd/system faked) does run a unit with EnvironmentFile=, but
# started as root in the root cgroup it moved every process of the machine,
# PID 1 included, into init.scope (tried while writing this): far too
# invasive for a test. The environment.d generator that systemd ships,
# 30-systemd-environment-d-generator, is a real systemd program built on the
# same parser as EnvironmentFile= (parse_env_file_internal in env-file.c):
# same quoting, comments, whitespace and line continuations. It differs in
# one way: it expands $VAR in values, which EnvironmentFile= does not; so the
# files fed to it here must hold no '$' in a value (asserted), and then both
# read every line alike.

GENERATOR = "systemd-environment-d-generator"
GENERATOR_DIRS = (
    "/usr/lib/systemd/user-environment-generators",
    "/lib/systemd/user-environment-generators",
)


def generator() -> str:
    for folder in GENERATOR_DIRS:
        path = Path(folder) / f"30-{GENERATOR}"
        if os.access(path, os.X_OK):
            return str(path)
    # Not found: skip, or fail under CI=true, naming the program sought.
    return require_tool(f"{GENERATOR_DIRS[0]}/30-{GENERATOR}")


def _generate(config_home: Path) -> tuple[dict[str, str], str]:
    """Run the generator over CONFIG_HOME/environment.d (plus the machine's
    own /etc/environment.d etc.); return the variables it prints, decoded by a
    real shell, and its standard error."""
    result = run([generator()], env=clean_env(XDG_CONFIG_HOME=str(config_home)))
    assert result.returncode == 0, result.stderr
    names = [line.split("=", 1)[0] for line in result.stdout.splitlines()]
    # It prints KEY=VALUE lines shell-quoted: let a shell decode them.
    script = (
        'eval "$1"; shift; for n do eval "v=\\${$n}"; printf "%s\\0%s\\0" "$n" "$v"; '
        "done"
    )
    decoded = run([require_tool("dash"), "-c", script, "sh", result.stdout, *names])
    assert decoded.returncode == 0, decoded.stderr
    fields = decoded.stdout.split("\0")[:-1]
    return dict(zip(fields[::2], fields[1::2], strict=True)), result.stderr


def systemd_reads(path: Path, workdir: Path) -> tuple[dict[str, str], str]:
    """The variables systemd's parser reads from ``path``, and its complaints.

    The machine's own environment.d files are read too; they are read alike
    without ``path``, and only what differs is returned.
    """
    for line in path.read_text("utf-8").splitlines():
        if not line.lstrip().startswith("#") and "=" in line:
            assert "$" not in line.split("=", 1)[1], f"{path}: {line}"
    baseline = workdir / "baseline"
    (baseline / "environment.d").mkdir(parents=True, exist_ok=True)
    under_test = workdir / "under-test"
    (under_test / "environment.d").mkdir(parents=True, exist_ok=True)
    # Sorted last, so that nothing of the machine's overrides it.
    shutil.copyfile(path, under_test / "environment.d" / "zz-regc-under-test.conf")
    before, before_errors = _generate(baseline)
    after, after_errors = _generate(under_test)
    read = {k: v for k, v in after.items() if before.get(k) != v}
    complaints = after_errors.replace(before_errors, "", 1)
    return read, complaints


# ---------------------------------------------------------------------------
# Fake roots and systemd-analyze.

HOST_UNITS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
EXEC_LINE = re.compile(r"^\s*Exec[A-Za-z]*\s*=\s*[-@:+!|]*(\S+)", re.MULTILINE)


def programs_named(unit_dir: Path) -> set[str]:
    """Every program on an Exec*= line of the units in ``unit_dir``."""
    programs: set[str] = set()
    for unit in unit_dir.iterdir():
        text = unit.read_text("utf-8").replace("\\\n", " ")
        programs.update(EXEC_LINE.findall(text))
    return programs


def fake_root(
    where: Path,
    family: str,
    files: Mapping[str, Path] | None = None,
    *,
    extra_lines: Mapping[str, str] | None = None,
) -> Path:
    """A merged-/usr root with the machine's units, the family's units and
    configuration, stubs for every program they name, then ``files`` (path
    under the root -> source) and ``extra_lines`` appended to files."""
    require_tool("systemd-analyze")
    root = where / f"root-{family}"
    units = root / "usr/lib/systemd/system"
    # The machine's units: sysinit.target and the rest of the default
    # dependencies of a service, symlinks kept.
    host_units = next(p for p in HOST_UNITS if p.is_dir())
    shutil.copytree(host_units, units, symlinks=True, copy_function=shutil.copyfile)
    for name in ("bin", "sbin", "libexec"):
        (root / "usr" / name).mkdir(exist_ok=True)
    for name in ("lib", "bin", "sbin"):
        (root / name).symlink_to(f"usr/{name}")
    shutil.copytree(
        UNITS / family, root, dirs_exist_ok=True, copy_function=shutil.copyfile
    )
    # verify checks that every Exec*= program of the units it loads exists.
    for program in programs_named(UNITS / family / "usr/lib/systemd/system"):
        stub = root / program.lstrip("/")
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    for relative, source_file in (files or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_file, root / relative)
    for relative, text in (extra_lines or {}).items():
        with (root / relative).open("a", encoding="utf-8") as handle:
            handle.write(text)
    return root


def root_of(where: Path, host: HostFolder) -> Path:
    """The fake root of the host's package with the host's files in place."""
    files = {f: host.root / f for f in host.files}
    return fake_root(where, family_of(host.group), files)


def verify(root: Path, *, debug: bool = False) -> subprocess.CompletedProcess[str]:
    env = clean_env(SYSTEMD_LOG_LEVEL="debug") if debug else clean_env()
    tool = require_tool("systemd-analyze")
    argv = ["verify", "--man=no", "--recursive-errors=yes", f"--root={root}"]
    return run([tool, *argv, "docker.service"], env=env)


def assert_verifies_silently(root: Path) -> None:
    # Nothing is filtered: any line on stdout or stderr fails.
    result = verify(root)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@dataclass(frozen=True)
class MergedUnit:
    """docker.service as systemd loaded it: base unit plus drop-ins."""

    drop_ins: tuple[str, ...]
    environment: tuple[str, ...]
    environment_files: tuple[str, ...]  # '-' kept: the file may be missing
    exec_start: tuple[tuple[str, ...], ...]

    @property
    def environment_paths(self) -> tuple[str, ...]:
        return tuple(entry.lstrip("-") for entry in self.environment_files)


def merged_unit(root: Path) -> MergedUnit:
    """systemd's own dump of the loaded docker.service.

    At debug level ``systemd-analyze verify`` prints each unit it loaded on
    stdout (unit_dump); the debug log on stderr is not judged here: the
    silent run refuses any output.
    """
    result = verify(root, debug=True)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert "-> Unit docker.service:" in lines, result.stdout
    start = lines.index("-> Unit docker.service:") + 1
    end = next(
        (i for i in range(start, len(lines)) if lines[i].startswith("-> Unit ")),
        len(lines),
    )
    section = lines[start:end]

    def values(key: str) -> tuple[str, ...]:
        prefix = f"{key}: "
        return tuple(x[len(prefix) :] for x in section if x.startswith(prefix))

    commands: list[tuple[str, ...]] = []
    if "-> ExecStart:" in section:
        for line in section[section.index("-> ExecStart:") + 1 :]:
            if not line.startswith("Command Line: "):
                break
            commands.append(unquote(line[len("Command Line: ") :]))
    return MergedUnit(
        values("DropIn Path"),
        values("Environment"),
        values("EnvironmentFile"),
        tuple(commands),
    )


# ---------------------------------------------------------------------------
# The daemon's command line, as systemd would start it.

DAEMON_RECORDER = """\
_run() {
  case "$1" in
    */docker*) printf '%s\\0' "$@" > "$REGC_ARGV" ;;
    *) cat > /dev/null ;;
  esac
}
"""


def daemon_command(root: Path, workdir: Path) -> tuple[str, ...]:
    """The argv docker.service would start the daemon with, on ``root``.

    The environment is what systemd builds: Environment= entries, then each
    EnvironmentFile= in the merged unit's order (later files win), each file
    read by systemd's parser (``systemd_reads``); a missing file must be
    optional ('-'). ExecStart comes from systemd's dump. Expanding it is a
    test double of systemd's documented rule: a word that is exactly $NAME
    becomes the variable's value split at whitespace (the values here hold no
    quotes, so systemd's unquoting does nothing). Where ExecStart is
    ``/bin/sh -c SCRIPT`` (CentOS 7's docker 1.10.3), a real dash runs the
    script with that environment, each absolute program in it prefixed by a
    recorder that keeps the docker binary's argv.
    """
    unit = merged_unit(root)
    environment: dict[str, str] = {}
    for assignment in unit.environment:
        name, _, value = assignment.partition("=")
        environment[name] = value
    for index, entry in enumerate(unit.environment_files):
        path = root / entry.lstrip("-").lstrip("/")
        if not path.is_file():
            assert entry.startswith("-"), f"{entry}: required by the unit, missing"
            continue
        read, _ = systemd_reads(path, workdir / f"env-{index}")
        environment.update(read)
    assert len(unit.exec_start) == 1, unit.exec_start
    argv: list[str] = []
    for word in unit.exec_start[0]:
        variable = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if variable is None:
            assert "${" not in word, word
            argv.append(word)
            continue
        value = environment.get(variable[1], "")
        assert not set("\"'\\") & set(value), value
        argv.extend(value.split())
    if argv[:2] != ["/bin/sh", "-c"]:
        return tuple(argv)
    record = workdir / "argv"
    script = re.sub(r"(^|[|;&]\s*)(/\S+)", r"\1_run \2", argv[2])
    env = {**environment, "PATH": "/usr/bin:/bin", "REGC_ARGV": str(record)}
    result = run([require_tool("dash"), "-c", DAEMON_RECORDER + script], env=env)
    assert result.returncode == 0, result.stderr
    return tuple(record.read_text("utf-8").split("\0")[:-1])


def without_flag(argv: Sequence[str], address: str) -> tuple[str, ...]:
    """``argv`` with the one ``--insecure-registry ADDRESS`` pair removed."""
    pairs = [
        i
        for i in range(len(argv) - 1)
        if (argv[i], argv[i + 1]) == ("--insecure-registry", address)
    ]
    assert len(pairs) == 1, argv
    return (*argv[: pairs[0]], *argv[pairs[0] + 2 :])


@functools.cache
def package_unit(family: str) -> MergedUnit:
    """The merged docker.service of the package alone (no files of ours)."""
    with tempfile.TemporaryDirectory(prefix="regc-units-") as tmp:
        return merged_unit(fake_root(Path(tmp), family))


@functools.cache
def package_command(family: str) -> tuple[str, ...]:
    """The daemon's command line of the package alone, as shipped."""
    with tempfile.TemporaryDirectory(prefix="regc-units-") as tmp:
        return daemon_command(fake_root(Path(tmp), family), Path(tmp) / "work")


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder for fake roots, removed after the test: each root holds a copy
    of the machine's units, too many files to leave in pytest's basetemp."""
    with tempfile.TemporaryDirectory(prefix="regc-host-files-") as tmp:
        yield Path(tmp)


# ===========================================================================
# The layout of every host folder.


def test_manifest_lists_exactly_the_files_on_disk(built: Built) -> None:
    on_disk = {
        p.relative_to(built.out).as_posix() for p in built.out.rglob("*") if p.is_file()
    }
    assert set(built.modes) | {"manifest.json"} == on_disk


def test_host_folders_are_the_groups_of_the_spec_that_need_files(built: Built) -> None:
    case = next(c for c in CASES if c.spec_file == built.spec_file)
    folders = {p.split("/")[1] for p in built.modes if p.startswith("hosts/")}
    needed = {g.name for g in groups_of(case) if expected_layout(g) != Layout()}
    assert folders == needed


def test_no_host_folder_has_both_a_flag_file_and_daemon_json(built: Built) -> None:
    both = []
    for folder in sorted(
        {p.split("/")[1] for p in built.modes if p.startswith("hosts/")}
    ):
        files = host_files(built, folder)
        flags = [
            f for f in files if f in ENVIRONMENT_FILES or f.startswith(DROP_IN_DIR)
        ]
        if flags and DAEMON_JSON in files:
            both.append(folder)
    assert both == []


@pytest.mark.parametrize("host", GROUPS, indirect=True)
def test_host_folder_holds_exactly_the_files_its_os_package_and_method_read(
    host: HostFolder,
) -> None:
    layout = host.layout
    assert host.environment_files == tuple(sorted(p for p, _ in layout.environment))
    assert len(host.drop_ins) == (1 if layout.drop_in else 0), host.files
    assert (DAEMON_JSON in host.files) == layout.daemon_json, host.files
    known = {*host.environment_files, *host.drop_ins, DAEMON_JSON}
    assert [f for f in host.files if f not in known] == []


@pytest.mark.parametrize("host", DAEMON_JSON_GROUPS, indirect=True)
def test_daemon_json_lists_exactly_the_registry(host: HostFolder) -> None:
    data = json.loads((host.root / DAEMON_JSON).read_text("utf-8"))
    assert data == {"insecure-registries": [host.built.address]}


# ===========================================================================
# Environment files: shellcheck, the shells that source them, systemd.


@pytest.mark.parametrize("host", GROUPS, indirect=True)
def test_environment_files_pass_shellcheck_in_their_readers_dialect(
    host: HostFolder,
) -> None:
    # A file of assignments only always trips SC2034 ("appears unused"): the
    # variables are used by the init script or systemd that reads the file.
    for path in host.environment_files:
        reader = reader_of(host.group, path)
        shellcheck(host.root / path, reader.dialect, "SC2034")


@pytest.mark.parametrize("host", GROUPS, indirect=True)
def test_environment_files_sourced_by_their_readers_shells_give_exactly_the_flag(
    host: HostFolder,
) -> None:
    wrong = {}
    for path in host.environment_files:
        for shell in reader_of(host.group, path).shells:
            for variable in host.variables_of(path):
                result = source(shell, host.root / path, variable)
                if not reads_back(result, host.built.flag):
                    wrong[(path, shell, variable)] = result
    assert wrong == {}


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_environment_files_read_by_systemd_give_exactly_the_flag(
    host: HostFolder, tmp_path: Path
) -> None:
    assert host.environment_files
    for index, path in enumerate(host.environment_files):
        assert reader_of(host.group, path).systemd
        read, complaints = systemd_reads(host.root / path, tmp_path / str(index))
        expected = dict.fromkeys(host.variables_of(path), host.built.flag)
        assert (read, complaints) == (expected, ""), path


@pytest.mark.parametrize("shell", ["bash", "dash"])
def test_sourcing_check_rejects_an_unquoted_value_with_a_space(
    tmp_path: Path, shell: str
) -> None:
    bad = tmp_path / "docker"
    bad.write_text("other_args=--insecure-registry 1.2.3.4:5000\n", encoding="utf-8")
    result = source(shell, bad, "other_args")
    assert not reads_back(result, "--insecure-registry 1.2.3.4:5000"), result


def test_systemd_check_rejects_a_comment_after_the_value_that_sh_accepts(
    tmp_path: Path,
) -> None:
    # sh drops the comment; systemd glues it to the value.
    bad = tmp_path / "docker"
    bad.write_text('DOCKER_OPTS="--insecure-registry r:5000" # r\n', "utf-8")
    assert reads_back(source("dash", bad, "DOCKER_OPTS"), "--insecure-registry r:5000")
    read, _ = systemd_reads(bad, tmp_path / "work")
    assert read != {"DOCKER_OPTS": "--insecure-registry r:5000"}, read


def test_systemd_check_reports_a_line_it_ignores(tmp_path: Path) -> None:
    bad = tmp_path / "docker"
    bad.write_text('export DOCKER_OPTS="--insecure-registry r:5000"\n', "utf-8")
    read, complaints = systemd_reads(bad, tmp_path / "work")
    assert (read, bool(complaints)) == ({}, True), complaints


def test_shellcheck_rejects_spaces_around_the_equals_sign(tmp_path: Path) -> None:
    bad = tmp_path / "docker"
    bad.write_text('DOCKER_OPTS = "--insecure-registry r:5000"\n', "utf-8")
    args = ["-s", "sh", "-e", "SC2034", str(bad)]
    assert run([require_tool("shellcheck"), *args]).returncode != 0


# ===========================================================================
# Drop-ins and units, by systemd-analyze in a root holding the package.


@pytest.mark.parametrize("family", FAMILIES)
def test_base_units_of_the_package_verify_silently_on_their_own(
    family: str, scratch: Path
) -> None:
    assert_verifies_silently(fake_root(scratch, family))


@pytest.mark.parametrize("family", FAMILIES)
def test_verify_rejects_a_second_exec_start_on_the_packages_unit(
    family: str, scratch: Path
) -> None:
    # The negative control of each family, drop-in or not: its unit is loaded
    # and its single ExecStart= is enforced.
    root = fake_root(scratch, family)
    program = package_unit(family).exec_start[0][0]
    drop_in = root / DROP_IN_DIR / "99-second-exec-start.conf"
    drop_in.parent.mkdir(parents=True, exist_ok=True)
    drop_in.write_text(f"[Service]\nExecStart={program}\n", "utf-8")
    result = verify(root)
    assert result.returncode != 0
    assert "more than one ExecStart= setting" in result.stderr


def test_every_base_unit_family_serves_a_group_of_the_cases() -> None:
    used = {
        family_of(group)
        for case in CASES
        for group in groups_of(case)
        if starts_with_systemd(group)
    }
    assert used == set(FAMILIES)


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_merged_docker_service_verifies_silently_with_the_groups_files(
    host: HostFolder, scratch: Path
) -> None:
    assert_verifies_silently(root_of(scratch, host))


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_merged_docker_service_loads_the_drop_in(
    host: HostFolder, scratch: Path
) -> None:
    root = root_of(scratch, host)
    expected = tuple(str(root / f) for f in host.drop_ins)
    assert merged_unit(root).drop_ins == expected


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_merged_unit_reads_the_groups_environment_files_after_the_packages(
    host: HostFolder, scratch: Path
) -> None:
    # Later files win: ours must come after /etc/sysconfig/docker and the
    # package's other files, and every file of the group must be read.
    package = package_unit(family_of(host.group))
    merged = merged_unit(root_of(scratch, host))
    ours = [f"/{f}" for f in host.environment_files]
    added = tuple(p for p in ours if p not in package.environment_paths)
    assert merged.environment_files == (*package.environment_files, *added)
    assert set(ours) <= set(merged.environment_paths)


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_merged_exec_start_is_the_packages_own_plus_the_flag_variable(
    host: HostFolder, scratch: Path
) -> None:
    package = package_unit(family_of(host.group))
    merged = merged_unit(root_of(scratch, host))
    assert len(package.exec_start) == len(merged.exec_start) == 1
    drop_in_sets_exec_start = any(
        line.startswith("ExecStart")
        for f in host.drop_ins
        for line in (host.root / f).read_text("utf-8").splitlines()
    )
    if host.group.package == "distribution":
        # The package's unit already passes the variable: nothing replaced.
        assert not drop_in_sets_exec_start
        assert merged.exec_start == package.exec_start
        (path,) = host.environment_files
        words = " ".join(merged.exec_start[0]).split()  # sh -c '...' too
        assert f"${host.variables_of(path)[0]}" in words
    else:
        (path,) = host.environment_files
        variable = f"${host.variables_of(path)[0]}"
        assert merged.exec_start == ((*package.exec_start[0], variable),)


@pytest.mark.parametrize("host", SYSTEMD_GROUPS, indirect=True)
def test_daemon_command_line_gains_exactly_the_flag(
    host: HostFolder, scratch: Path
) -> None:
    package = package_command(family_of(host.group))
    ours = daemon_command(root_of(scratch, host), scratch / "work")
    assert "--insecure-registry" not in package
    assert without_flag(ours, host.built.address) == package


@pytest.mark.parametrize("host", CENTOS7_DISTRIBUTION, indirect=True)
def test_distribution_drop_in_wins_over_insecure_registry_set_in_sysconfig(
    host: HostFolder, scratch: Path
) -> None:
    family = family_of(host.group)
    stale = {"etc/sysconfig/docker": "INSECURE_REGISTRY='--insecure-registry old:1'\n"}
    package_root = fake_root(scratch / "package", family, extra_lines=stale)
    files = {f: host.root / f for f in host.files}
    root = fake_root(scratch, family, files, extra_lines=stale)
    package = daemon_command(package_root, scratch / "p")
    ours = daemon_command(root, scratch / "o")
    # The stale value is live without our files; with them, ours takes its
    # place and nothing else changes.
    assert "old:1" in package
    assert ours == tuple(host.built.address if a == "old:1" else a for a in package)


@pytest.mark.parametrize("host", DROP_IN_GROUPS, indirect=True)
def test_verify_rejects_the_drop_in_once_it_repeats_exec_start_without_clearing_it(
    host: HostFolder, scratch: Path
) -> None:
    root = root_of(scratch, host)
    (drop_in,) = host.drop_ins
    lines = (root / drop_in).read_text("utf-8").splitlines(keepends=True)
    if "ExecStart=\n" in lines:
        lines.remove("ExecStart=\n")
    else:
        command = merged_unit(root).exec_start[0]
        lines.append(f"ExecStart={command[0]}\n")
    (root / drop_in).write_text("".join(lines), "utf-8")
    result = verify(root)
    assert result.returncode != 0
    assert "more than one ExecStart= setting" in result.stderr


# ===========================================================================
# Every artifact of every case: scripts, the generated-by line, modes.


def scripts_of(built: Built) -> list[str]:
    return sorted(p for p in built.modes if p.endswith(".sh"))


def test_scripts_pass_shellcheck_as_sh_without_exclusions(built: Built) -> None:
    assert {"registry/run.sh", "verify.sh"} <= set(scripts_of(built))
    for script in scripts_of(built):
        shellcheck(built.out / script, "sh")


def test_scripts_start_with_bin_sh_shebang(built: Built) -> None:
    for script in scripts_of(built):
        assert (built.out / script).read_text("utf-8").startswith("#!/bin/sh\n")


def generated_by_line(path: str, text: str) -> str:
    """The line that must carry the generated-by comment: the first, or the
    first after the launcher lines of a script (the shebang, and a Python
    file's sh/Python polyglot ''''...''' line)."""
    lines = iter(text.splitlines())
    line = next(lines, "")
    if path.endswith((".sh", ".py")):
        assert line.startswith("#!"), f"{path}: {line}"
        line = next(lines, "")
        while line.startswith("''''"):
            line = next(lines, "")
    return line


def test_every_text_artifact_opens_with_the_generated_by_comment(
    built: Built,
) -> None:
    # JSON has no comments, so the .json artifacts (daemon.json, Humpback's
    # system-config.json, manifest.json) are exempt.
    comment = f"Generated by regc from {built.spec_file}. Do not edit"
    wrong: dict[str, str] = {}
    for path in sorted(built.modes):
        if path.endswith(".json"):
            continue
        line = generated_by_line(path, (built.out / path).read_text("utf-8"))
        if path.endswith(".md"):
            ok = line.startswith(f"<!-- {comment}") and line.endswith(" -->")
        else:
            ok = line.startswith(f"# {comment}")
        if not ok:
            wrong[path] = line
    assert wrong == {}


def expected_mode(path: str) -> int:
    return 0o755 if path.endswith((".sh", ".py")) else 0o644


def test_scripts_are_mode_0755_and_other_files_0644_on_disk_and_in_manifest(
    built: Built,
) -> None:
    on_disk = {p: S_IMODE((built.out / p).stat().st_mode) for p in built.modes}
    in_manifest = {p: int(mode, 8) for p, mode in built.modes.items()}
    expected = {p: expected_mode(p) for p in built.modes}
    assert {p: oct(m) for p, m in on_disk.items()} == {
        p: oct(m) for p, m in expected.items()
    }
    assert in_manifest == expected
