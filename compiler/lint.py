"""Lint a valid spec as a whole: what validates but will not work as meant.

Each rule has a code (``RG...``) so that users can look it up and talk about
it; errors stop the build, warnings are printed and the build goes on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from .diagnostics import Diagnostic, Severity
from .load import Document
from .spec import Spec


def _loopback(server: str) -> bool:
    if server == "localhost":
        return True
    try:
        return ipaddress.ip_address(server).is_loopback
    except ValueError:
        return False


def _rules(spec: Spec) -> Iterator[tuple[tuple[str | int, ...], Severity, str, str]]:
    registry = spec.registry
    humpback = spec.humpback

    if _loopback(registry.server):
        yield (
            ("registry", "server"),
            Severity.WARNING,
            "RG101",
            f"'{registry.server}' is a loopback address: Docker trusts it "
            "already, and other hosts and Humpback's browser cannot reach it; "
            "write the address other hosts use",
        )
    if humpback.enabled and not registry.cors.enabled:
        yield (
            ("registry", "cors", "enabled"),
            Severity.WARNING,
            "RG201",
            "CORS is off but Humpback is enabled: Humpback's registry browser "
            "calls the registry from the administrator's browser and will "
            "show no images; leave cors.enabled on",
        )
    origins = registry.cors.allow_origins or ["*"]
    if humpback.url and "*" not in origins and humpback.url not in origins:
        yield (
            ("registry", "cors", "allow_origins"),
            Severity.WARNING,
            "RG202",
            f"humpback.url '{humpback.url}' is not among the allowed "
            "origins: Humpback's browser pages will be refused; add it",
        )
    if humpback.cluster_mode and humpback.center_api is None:
        yield (
            ("humpback", "cluster_mode"),
            Severity.ERROR,
            "RG302",
            "cluster_mode is on but center_api is missing: add "
            "`center_api: http://HOST:PORT` of humpback-center",
        )
    if humpback.url and humpback.url.startswith("https://") and humpback.enabled:
        yield (
            ("humpback", "url"),
            Severity.ERROR,
            "RG301",
            "Humpback is served over https but the registry speaks plain "
            "http: browsers block such mixed content, so the Hub pages stay "
            "empty; serve Humpback over http or the registry over https",
        )


def lint(spec: Spec, document: Document) -> list[Diagnostic]:
    """Every finding of the rules, positioned in the spec's file."""
    return [
        Diagnostic(
            document.file, document.value_position(path), severity, message, code
        )
        for path, severity, code, message in _rules(spec)
    ]
