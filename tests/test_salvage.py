"""Cross-field rules in the same run as field errors, and only trusted ones.

A spec with a bad field still gets the findings of the rules that read none
of its bad values (compiler/salvage.py); a rule that read one is silent, so
that no default stands in for what the user wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from regc.diagnostics import SpecError
from regc.pipeline import check_spec


def _reported(tmp_path: Path, text: str) -> list[str]:
    spec = tmp_path / "registry.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        check_spec(spec)
    return [d.format().removeprefix(f"{spec}:") for d in caught.value.diagnostics]


def test_rules_that_read_no_bad_value_are_reported_with_the_field_errors(
    tmp_path: Path,
) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: 192.168.1.10\n  port: 0\n  replicas: 3\n"
        "  storage: {driver: s3}\n",
    )
    assert [line.split(": ")[0:2] for line in reported] == [
        ["3:9", "error"],
        ["4:13", "error[RG509]"],
        ["5:21", "error[RG510]"],
    ]


def test_a_rule_that_read_a_bad_value_is_silent(tmp_path: Path) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: 192.168.1.10\n  image: registry:2.8.3\n  port: 0\n"
        "  metrics: {enabled: true, port: 5000}\n",
    )
    # The default port 5000 would clash with metrics.port (RG534): it is
    # not what the user wrote, so nothing is said about it.
    assert reported == ["4:9: error: registry.port: must be at least 1"]


def test_a_bad_section_left_out_speaks_for_no_rule(tmp_path: Path) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: r.example.com\n  tls: {certificate: relative.crt}\n"
        "humpback:\n  url: https://h.example.com\n",
    )
    # Without tls the registry would speak http to an https Humpback (RG301).
    assert len(reported) == 1 and "registry.tls.certificate" in reported[0]


def test_a_bad_host_group_leaves_the_groups_before_it_checked(tmp_path: Path) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: r.example.com\nhosts:\n"
        "  - {name: old, os: centos6, docker: '1.8.3'}\n"
        "  - {name: new, os: any, docker: '24.0.7', package: rpm}\n",
    )
    assert [line.split(": ")[0:2] for line in reported] == [
        ["4:38", "error[RG401]"],
        ["5:53", "error"],
    ]


def test_a_missing_required_field_of_a_host_group_leaves_out_all_host_rules(
    tmp_path: Path,
) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: r.example.com\n  replicas: 2\nhosts:\n"
        "  - {name: old, os: centos6, docker: '1.8.3'}\n"
        "  - {name: new, os: any}\n",
    )
    codes = [line.split(": ")[1] for line in reported]
    assert "error[RG509]" in codes
    assert "error[RG401]" not in codes


def test_unknown_config_keys_are_reported_beside_a_bad_field(tmp_path: Path) -> None:
    reported = _reported(
        tmp_path,
        "registry:\n  server: 192.168.1.10\n  port: 0\n  image: registry:2.8.3\n"
        "  config:\n    http: {adress: ':5000'}\n",
    )
    assert [line.split(": ")[0:2] for line in reported] == [
        ["3:9", "error"],
        ["6:12", "error[RG520]"],
    ]
