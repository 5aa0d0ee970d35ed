"""Docker host groups: the right files per OS, package and version, and the
errors and warnings for what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from regc.diagnostics import SpecError
from regc.hosts import upstream_exec_start
from regc.pipeline import check_spec, compile_spec

REGISTRY = "registry:\n  server: registry.example.com\n"


def _spec(tmp_path: Path, hosts: str, extra: str = "") -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(REGISTRY + "hosts:\n" + hosts + extra)
    return path


def _files(tmp_path: Path, hosts: str) -> dict[str, str]:
    compiled = compile_spec(_spec(tmp_path, hosts))
    return {
        a.path: a.content.decode()
        for a in compiled.artifacts
        if a.path.startswith("hosts/")
    }


def _diagnostics(tmp_path: Path, hosts: str, extra: str = "") -> list[str]:
    path = _spec(tmp_path, hosts, extra)
    try:
        checked = check_spec(path)
    except SpecError as exc:
        return [d.format().replace(f"{path}:", "") for d in exc.diagnostics]
    return [d.format().replace(f"{path}:", "") for d in checked.warnings]


@pytest.mark.parametrize(
    ("version", "rpm", "expected"),
    [
        ((1, 8, 3), True, "/usr/bin/docker daemon -H fd://"),
        ((1, 11, 2), False, "/usr/bin/docker daemon -H fd://"),
        ((1, 12, 6), True, "/usr/bin/dockerd"),
        ((17, 3, 2), True, "/usr/bin/dockerd"),
        ((18, 6, 3), True, "/usr/bin/dockerd"),
        ((1, 12, 6), False, "/usr/bin/dockerd -H fd://"),
        ((18, 6, 3), False, "/usr/bin/dockerd -H fd://"),
        ((18, 9, 0), True, "/usr/bin/dockerd -H unix://"),
        ((18, 9, 1), True, "/usr/bin/dockerd -H fd://"),
        ((18, 9, 2), True, "/usr/bin/dockerd -H fd://"),
        (
            (18, 9, 3),
            True,
            "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
        ),
        (
            (26, 1, 4),
            False,
            "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
        ),
    ],
)
def test_drop_ins_repeat_the_execstart_of_the_package_version(
    version: tuple[int, int, int], rpm: bool, expected: str
) -> None:
    assert upstream_exec_start(version, rpm=rpm) == expected


def test_centos6_gets_other_args_in_sysconfig(tmp_path: Path) -> None:
    files = _files(tmp_path, "  - {name: a, os: centos6, docker: '1.7.1'}\n")
    assert list(files) == ["hosts/a/etc/sysconfig/docker"]
    assert (
        'other_args="--insecure-registry registry.example.com:5000"'
        in files["hosts/a/etc/sysconfig/docker"]
    )


def test_centos7_distribution_keeps_the_package_file_and_execstart(
    tmp_path: Path,
) -> None:
    files = _files(
        tmp_path,
        "  - {name: a, os: centos7, docker: '1.13.1', package: distribution}\n",
    )
    drop_in = files[
        "hosts/a/etc/systemd/system/docker.service.d/10-insecure-registry.conf"
    ]
    assert "hosts/a/etc/sysconfig/docker" not in files
    assert "ExecStart" not in drop_in.split("[Service]")[1]
    assert "EnvironmentFile=/etc/sysconfig/docker-insecure-registry" in drop_in
    assert files["hosts/a/etc/sysconfig/docker-insecure-registry"].endswith(
        'INSECURE_REGISTRY="--insecure-registry registry.example.com:5000"\n'
    )


def test_centos7_upstream_repeats_its_execstart_with_the_variable(
    tmp_path: Path,
) -> None:
    files = _files(
        tmp_path, "  - {name: a, os: centos7, docker: '17.06.2', package: docker-ce}\n"
    )
    drop_in = files[
        "hosts/a/etc/systemd/system/docker.service.d/10-insecure-registry.conf"
    ]
    assert drop_in.endswith(
        "[Service]\nEnvironmentFile=/etc/sysconfig/docker\n"
        "ExecStart=\nExecStart=/usr/bin/dockerd $INSECURE_REGISTRY\n"
    )


def test_ubuntu_upstart_gets_docker_opts_and_no_drop_in(tmp_path: Path) -> None:
    files = _files(tmp_path, "  - {name: a, os: ubuntu-upstart, docker: '1.12.6'}\n")
    assert list(files) == ["hosts/a/etc/default/docker"]
    assert 'DOCKER_OPTS="--insecure-registry' in files["hosts/a/etc/default/docker"]


@pytest.mark.parametrize(
    "group",
    [
        "{name: a, os: ubuntu-systemd, docker: '20.10.7', package: docker-ce}",
        "{name: a, os: any, docker: '1.11.2'}",
        "{name: a, os: debian, docker: '24.0.7', package: docker-ce}",
        "{name: a, os: centos7, docker: '1.13.1', package: distribution, "
        "method: daemon-json}",
    ],
)
def test_daemon_json_hosts_get_only_daemon_json(tmp_path: Path, group: str) -> None:
    files = _files(tmp_path, f"  - {group}\n")
    assert list(files) == ["hosts/a/etc/docker/daemon.json"]
    assert '"registry.example.com:5000"' in files["hosts/a/etc/docker/daemon.json"]


def test_debian_docker_io_reads_etc_default_docker(tmp_path: Path) -> None:
    files = _files(tmp_path, "  - {name: a, os: debian, docker: '20.10.24'}\n")
    assert list(files) == ["hosts/a/etc/default/docker"]


def test_ubuntu_systemd_with_old_docker_gets_a_drop_in_with_docker_opts(
    tmp_path: Path,
) -> None:
    files = _files(
        tmp_path,
        "  - {name: a, os: ubuntu-systemd, docker: '1.10.3', package: docker-engine}\n",
    )
    drop_in = files[
        "hosts/a/etc/systemd/system/docker.service.d/10-insecure-registry.conf"
    ]
    assert "ExecStart=/usr/bin/docker daemon -H fd:// $DOCKER_OPTS\n" in drop_in
    assert "EnvironmentFile=/etc/default/docker\n" in drop_in


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        (
            "  - name: a\n    os: centos6\n    docker: '1.8.3'\n",
            "6:13: error[RG401]: Docker 1.8.3 does not exist on CentOS 6",
        ),
        (
            "  - name: a\n    os: centos6\n    docker: '1.7.1'\n"
            "    method: daemon-json\n",
            "7:13: error[RG402]: Docker 1.7.1 does not accept insecure-registries "
            "in daemon.json",
        ),
        (
            "  - name: a\n    os: ubuntu-upstart\n    docker: '1.10.3'\n"
            "    method: daemon-json\n",
            "7:13: error[RG402]",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '18.09.3'\n",
            "4:5: error[RG404]: say which Docker package",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '18.09.3'\n"
            "    package: distribution\n",
            "6:13: error[RG403]: CentOS 7's own docker package was never 18.09.3",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '18.09.3'\n"
            "    package: docker-engine\n",
            "7:14: error[RG403]: docker-engine ended with 17.05",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '1.12.6'\n"
            "    package: docker-ce\n",
            "7:14: error[RG403]: docker-ce starts at 17.03",
        ),
        (
            "  - name: a\n    os: any\n    docker: '24.0.7'\n    method: flags\n",
            "7:13: error[RG402]: os: any is configured through daemon.json only",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '1.7.1'\n"
            "    package: docker-engine\n",
            "6:13: error[RG402]: regc knows the systemd units of Docker 1.8",
        ),
        (
            "  - name: a\n    os: ubuntu-upstart\n    docker: '24.0.7'\n"
            "    package: docker-ce\n",
            "6:13: error[RG403]: Docker 24.0.7 was never built for Ubuntu 14.04",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '27.0.3'\n"
            "    package: docker-ce\n",
            "6:13: error[RG403]: docker-ce 27.0.3 was never built for CentOS 7",
        ),
        (
            "  - name: a\n    os: centos7\n    docker: '18.09'\n"
            "    package: docker-ce\n",
            "6:13: error[RG410]: docker-ce 18.09.0, 18.09.1 and 18.09.3 start dockerd",
        ),
        (
            "  - name: a\n    os: centos6\n    docker: '1.6.2'\n",
            "6:13: warning[RG405]: Humpback needs Docker 1.8.3",
        ),
        (
            "  - name: a\n    os: debian\n    docker: 20.10\n",
            "6:13: error: hosts[0].docker: must be a string, not a number: "
            "put it in quotes",
        ),
        (
            "  - name: a\n    os: debian\n    docker: 'latest'\n",
            "6:13: error: hosts[0].docker: 'latest' is not a Docker version",
        ),
        (
            "  - name: a\n    os: windows\n    docker: '24.0.7'\n",
            "5:9: error: hosts[0].os: must be one of 'centos6', 'centos7', "
            "'ubuntu-upstart', 'ubuntu-systemd', 'debian' or 'any', not 'windows'",
        ),
    ],
)
def test_what_cannot_work_is_reported_at_the_spec_line(
    tmp_path: Path, group: str, expected: str
) -> None:
    diagnostics = _diagnostics(tmp_path, group)
    assert any(d.startswith(expected) for d in diagnostics), diagnostics


def test_a_machine_in_two_groups_with_flags_and_daemon_json_is_an_error(
    tmp_path: Path,
) -> None:
    hosts = (
        "  - {name: a, os: ubuntu-upstart, docker: '1.12.6', machines: [web1]}\n"
        "  - {name: b, os: any, docker: '24.0.7', machines: [db1, WEB1]}\n"
    )
    assert _diagnostics(tmp_path, hosts) == [
        "5:58: error[RG408]: WEB1 is also in host group 'a'; keep each machine in "
        "one group: a setting given both as a flag and in daemon.json stops "
        "dockerd from starting"
    ]


def test_two_groups_with_one_name_are_an_error(tmp_path: Path) -> None:
    hosts = (
        "  - {name: a, os: any, docker: '24.0.7'}\n"
        "  - {name: a, os: any, docker: '24.0.7'}\n"
    )
    assert _diagnostics(tmp_path, hosts) == [
        "5:12: error[RG409]: another host group is already named 'a' (hosts[0]): "
        "group names are folder names and must differ"
    ]


def test_an_ipv6_registry_needs_docker_25_on_every_group(tmp_path: Path) -> None:
    path = tmp_path / "v6.yaml"
    path.write_text(
        "registry:\n  server: '2001:db8::10'\nhosts:\n"
        "  - {name: new, os: any, docker: '25.0.3'}\n"
        "  - {name: old, os: any, docker: '24.0.7'}\n"
    )
    with pytest.raises(SpecError) as caught:
        check_spec(path)
    (error,) = caught.value.diagnostics
    assert error.code == "RG406"
    assert (error.position.line, error.position.column) == (5, 34)


def test_an_ipv6_registry_with_the_default_hosts_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "v6.yaml"
    path.write_text("registry:\n  server: '2001:db8::10'\n")
    (warning,) = check_spec(path).warnings
    assert warning.code == "RG407"


def test_a_loopback_registry_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "lo.yaml"
    path.write_text("registry:\n  server: 127.0.0.1\n")
    (warning,) = check_spec(path).warnings
    assert warning.code == "RG101"
    assert "trusts it already" in warning.message


def test_an_https_humpback_with_an_http_registry_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        "registry:\n  server: r.example.com\nhumpback:\n"
        "  url: https://humpback.example.com\n"
    )
    with pytest.raises(SpecError) as caught:
        check_spec(path)
    (error,) = caught.value.diagnostics
    assert error.code == "RG301"
    assert "mixed content" in error.message


def test_apply_md_gives_each_machine_its_commands(tmp_path: Path) -> None:
    hosts = (
        "  - {name: a, os: centos6, docker: '1.7.1', machines: [old1]}\n"
        "  - {name: b, os: any, docker: '24.0.7', machines: [new1, '2001:db8::7']}\n"
    )
    compiled = compile_spec(_spec(tmp_path, hosts))
    runbook = next(a for a in compiled.artifacts if a.path == "APPLY.md")
    text = runbook.content.decode()
    assert "rsync -rlc hosts/a/ root@old1:/\n" in text
    assert "rsync -a " not in text.replace("not `rsync -a`", "")
    assert "ssh root@old1 'service docker restart'" in text
    assert "scp apply/merge-daemon-json.py root@new1:/root/" in text
    assert "scp apply/merge-daemon-json.py 'root@[2001:db8::7]:/root/'" in text
    assert "systemctl reload docker" in text


def test_ipv6_loopback_is_trusted_only_from_docker_28(tmp_path: Path) -> None:
    path = tmp_path / "lo6.yaml"
    path.write_text("registry:\n  server: '::1'\n")
    warnings = check_spec(path).warnings
    loopback = next(w for w in warnings if w.code == "RG101")
    assert "trusts it only from 28.0" in loopback.message


def test_flag_hosts_are_checked_with_docker_info_where_it_lists_registries(
    tmp_path: Path,
) -> None:
    hosts = (
        "  - {name: old, os: centos6, docker: '1.7.1'}\n"
        "  - {name: new, os: centos7, docker: '20.10.24', package: docker-ce}\n"
    )
    compiled = compile_spec(_spec(tmp_path, hosts))
    runbook = next(a for a in compiled.artifacts if a.path == "APPLY.md")
    old, new = runbook.content.decode().split("### new")
    flag = "`ps aux | grep docker` shows --insecure-registry registry.example.com:5000"
    assert f"Check: {flag}." in old
    assert "`docker info` lists registry.example.com:5000" in new
    assert flag in new
    # Docker 1.7.1 reads no daemon.json, so there is nothing to keep clean.
    assert "/etc/docker/daemon.json` on these machines" not in old
    assert "/etc/docker/daemon.json` on these machines" in new
