"""Lint a valid spec as a whole: what validates but will not work as meant.

Each rule has a code (``RG...``) so that users can look it up and talk about
it; errors stop the build, warnings are printed and the build goes on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from . import hosts
from .diagnostics import Diagnostic, Severity
from .findings import Finding
from .load import Document, Path_
from .registry import check_registry
from .registry import rule_groups as registry_rule_groups
from .spec import Spec


def _loopback(server: str) -> bool:
    if server == "localhost":
        return True
    try:
        return ipaddress.ip_address(server).is_loopback
    except ValueError:
        return False


def _is_ipv6(server: str) -> bool:
    return ":" in server


def _host_rules(spec: Spec) -> Iterator[Finding]:
    ipv6 = _is_ipv6(spec.registry.server)
    if spec.hosts is None:
        if ipv6:
            yield Finding(
                ("registry", "server"),
                Severity.WARNING,
                "RG407",
                "Docker before 25.0 cannot pull from a registry at an IPv6 "
                "address, and the default host folders are for older Docker: "
                "give the registry a DNS name, or list your hosts with their "
                "Docker versions under hosts",
            )
        return

    names: dict[str, int] = {}
    machines: dict[str, tuple[str, str]] = {}
    for index, group in enumerate(spec.hosts):
        path: Path_ = ("hosts", index)
        if group.name in names:
            yield Finding(
                (*path, "name"),
                Severity.ERROR,
                "RG409",
                f"another host group is already named '{group.name}' "
                f"(hosts[{names[group.name]}]): group names are folder names "
                "and must differ",
            )
        names.setdefault(group.name, index)

        for finding in hosts.check_group(
            group, ipv6=ipv6, humpback=spec.humpback.enabled
        ):
            yield finding.under(path)

        method = hosts.method_of(group)
        for number, machine in enumerate(group.machines):
            key = machine.lower()
            if key in machines:
                other_group, other_method = machines[key]
                both = (
                    ": a setting given both as a flag and in daemon.json stops "
                    "dockerd from starting"
                    if other_method != method
                    else ""
                )
                yield Finding(
                    (*path, "machines", number),
                    Severity.ERROR,
                    "RG408",
                    f"{machine} is also in host group '{other_group}'; keep each "
                    f"machine in one group{both}",
                )
            machines.setdefault(key, (group.name, method))


def _registry_rules(spec: Spec) -> Iterator[Finding]:
    yield from check_registry(spec)


def _rules(spec: Spec) -> Iterator[Finding]:
    registry = spec.registry
    humpback = spec.humpback

    if _loopback(registry.server):
        yield Finding(
            ("registry", "server"),
            Severity.WARNING,
            "RG101",
            f"'{registry.server}' is a loopback address: Docker trusts it "
            f"{'only from 28.0' if _is_ipv6(registry.server) else 'already'}, "
            "and other hosts and Humpback's browser cannot reach it; write the "
            "address other hosts use",
        )
    if humpback.enabled and not registry.cors.enabled:
        yield Finding(
            ("registry", "cors", "enabled"),
            Severity.WARNING,
            "RG201",
            "CORS is off but Humpback is enabled: Humpback's registry browser "
            "calls the registry from the administrator's browser and will "
            "show no images; leave cors.enabled on",
        )
    origins = registry.cors.allow_origins or ["*"]
    if registry.cors.enabled and len(origins) > 1:
        yield Finding(
            ("registry", "cors", "allow_origins", 1),
            Severity.ERROR,
            "RG203",
            "browsers accept one Access-Control-Allow-Origin value, and the "
            "registry sends each listed origin as one more: list only "
            "Humpback's origin, or '*'",
        )
    if humpback.url and "*" not in origins and humpback.url not in origins:
        yield Finding(
            ("registry", "cors", "allow_origins"),
            Severity.WARNING,
            "RG202",
            f"humpback.url '{humpback.url}' is not among the allowed "
            "origins: Humpback's browser pages will be refused; add it",
        )
    if humpback.cluster_mode and humpback.center_api is None:
        yield Finding(
            ("humpback", "cluster_mode"),
            Severity.ERROR,
            "RG302",
            "cluster_mode is on but center_api is missing: add "
            "`center_api: http://HOST:PORT` of humpback-center",
        )
    if (
        humpback.url
        and humpback.url.startswith("https://")
        and humpback.enabled
        and registry.tls is None
    ):
        yield Finding(
            ("humpback", "url"),
            Severity.ERROR,
            "RG301",
            "Humpback is served over https but the registry speaks plain "
            "http: browsers block such mixed content, so the Hub pages stay "
            "empty; serve Humpback over http or the registry over https",
        )


def lint(spec: Spec, document: Document) -> list[Diagnostic]:
    """Every finding of the rules, positioned in the spec's file."""
    findings = [*_rules(spec), *_host_rules(spec), *_registry_rules(spec)]
    return positioned(findings, document)


def rule_groups(spec: Spec) -> list[Callable[[], Iterable[Finding]]]:
    """The rules one group at a time (the merged-config rules left out)."""
    return [
        lambda: _rules(spec),
        lambda: _host_rules(spec),
        *registry_rule_groups(spec),
    ]


def positioned(findings: Iterable[Finding], document: Document) -> list[Diagnostic]:
    """Findings as diagnostics at their nodes in the spec's file."""
    return [
        Diagnostic(
            document.file,
            (document.key_position if f.at_key else document.value_position)(f.path),
            f.severity,
            f.message,
            f.code,
        )
        for f in findings
    ]
