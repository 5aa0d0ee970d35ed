"""Spec validation: strict types, useful messages, each at the node concerned."""

from __future__ import annotations

from pathlib import Path

import pytest

from regc.diagnostics import SpecError
from regc.load import load_bytes
from regc.pipeline import check_spec
from regc.spec import Spec
from regc.validate import validate


def _spec(text: str) -> Spec:
    return validate(load_bytes(text.encode(), "r.yaml"))


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        _spec(text)
    return [d.format() for d in caught.value.diagnostics]


def _registry(lines: str) -> str:
    return "registry:\n  server: 192.168.1.10\n" + lines


def test_the_minimal_spec_gets_the_guides_defaults() -> None:
    registry = _spec("registry:\n  server: 192.168.1.10\n").registry
    assert (registry.port, registry.image, registry.container_name) == (
        5000,
        "registry:2.5.1",
        "registry",
    )
    assert registry.restart == "always"
    assert registry.data_dir == "/var/lib/registry"
    assert registry.config_path == "/etc/docker/registry/config.yml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _registry("  port: true\n"),
            "r.yaml:3:9: error: registry.port: must be an integer, not a boolean",
        ),
        (
            _registry("  port: 5000.5\n"),
            "r.yaml:3:9: error: registry.port: must be an integer, not a number",
        ),
        (
            _registry("  port: '5000'\n"),
            "r.yaml:3:9: error: registry.port: must be an integer, not a string",
        ),
        (
            _registry("  port: 0\n"),
            "r.yaml:3:9: error: registry.port: must be at least 1",
        ),
        (
            _registry("  port: 65536\n"),
            "r.yaml:3:9: error: registry.port: must be at most 65535",
        ),
        (
            "registry:\n  server: 5000\n",
            "r.yaml:2:11: error: registry.server: must be a string, not an integer: "
            "put it in quotes",
        ),
        (
            "registry: 192.168.1.10\n",
            "r.yaml:1:11: error: registry: must be a mapping, not a string",
        ),
        (
            "registry:\n  server: h\nextra: 1\n",
            "r.yaml:3:1: error: extra: unknown field: known fields are hosts, "
            "humpback, name, registry",
        ),
        (
            "name: Bad_Name\nregistry: {server: h}\n",
            "r.yaml:1:7: error: name: 'Bad_Name'",
        ),
        (
            _registry("  container_name: 'a b'\n"),
            "r.yaml:3:19: error: registry.container_name: 'a b' is not a valid",
        ),
        (
            _registry("  image: 'registry:2.5.1; reboot'\n"),
            "r.yaml:3:10: error: registry.image: 'registry:2.5.1; reboot' is not a "
            "valid image reference",
        ),
        (
            _registry("  data_dir: /var/lib/../registry\n"),
            "r.yaml:3:13: error: registry.data_dir: '/var/lib/../registry' is not a "
            "normalized path: write '/var/registry'",
        ),
        (
            _registry("  config_path: '/etc/$(reboot)'\n"),
            "r.yaml:3:16: error: registry.config_path: '/etc/$(reboot)' has characters",
        ),
        (
            "registry: {server: h}\nhumpback: {url: 'http://h:8012/'}\n",
            "r.yaml:2:17: error: humpback.url: 'http://h:8012/' ends with '/'",
        ),
        (
            "registry: {server: h}\nhumpback: {top_news: '" + "x" * 501 + "'}\n",
            "r.yaml:2:22: error: humpback.top_news: must be at most 500 characters",
        ),
    ],
)
def test_a_bad_value_is_reported_at_the_value(text: str, expected: str) -> None:
    errors = _errors(text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected)


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ("http://192.168.1.10", "remove 'http://'"),
        ("https://reg.example.com:5000/x", "remove 'https://'"),
        ("192.168.1.10:5000", "remove ':5000' from the server: write the port as"),
        ("reg.example.com:443", "`port: 443` under registry"),
        ("'[2001:db8::1]'", "without brackets: '2001:db8::1'"),
        ("192.168.1.300", "not a valid IPv4 address"),
        ("reg_istry", "not a host name or IP address"),
        ("'reg istry'", "not a host name or IP address"),
        ("'$(reboot)'", "not a host name or IP address"),
        ("host/path", "has a path"),
    ],
)
def test_server_refuses_scheme_port_and_junk_saying_where_each_belongs(
    server: str, fragment: str
) -> None:
    errors = _errors(f"registry:\n  server: {server}\n")
    assert fragment in errors[0]
    assert errors[0].startswith("r.yaml:2:11: error: registry.server: ")


@pytest.mark.parametrize(
    ("server", "normal"),
    [
        ("192.168.1.10", "192.168.1.10"),
        ("registry.example.com", "registry.example.com"),
        ("localhost", "localhost"),
        ("2001:DB8:0::10", "2001:db8::10"),
        ("::1", "::1"),
    ],
)
def test_server_accepts_host_names_ipv4_and_ipv6(server: str, normal: str) -> None:
    assert _spec(f"registry:\n  server: '{server}'\n").registry.server == normal


def test_every_error_of_a_spec_is_reported_in_file_order() -> None:
    errors = _errors(
        "registy: 1\nregistry:\n  server: h\n  port: x\n  restart: never\n"
        "humpback:\n  enabled: 'yes'\n"
    )
    assert [e.split(": error")[0] for e in errors] == [
        "r.yaml:1:1",
        "r.yaml:4:9",
        "r.yaml:5:12",
        "r.yaml:7:12",
    ]


def test_a_missing_field_points_at_the_mapping_that_lacks_it() -> None:
    assert _errors("humpback: {}\nregistry:\n  port: 5000\n") == [
        "r.yaml:3:3: error: registry: missing required field 'server'"
    ]
    assert _errors("name: x\n") == [
        "r.yaml:1:1: error: missing required field 'registry'"
    ]


def test_an_unknown_key_suggests_the_nearest_known_one() -> None:
    assert _errors("registry:\n  server: h\n  contaner_name: r\n") == [
        "r.yaml:3:3: error: registry.contaner_name: unknown field: did you mean "
        "'container_name'?"
    ]


def test_a_bare_no_for_restart_explains_yaml_booleans() -> None:
    (error,) = _errors(_registry("  restart: no\n"))
    assert "quote 'no' if it is text" in error


def test_loader_refusals_and_model_errors_are_reported_in_one_run(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "r.yaml"
    spec.write_text(
        "registry:\n  server: a\n  server: b\n  port: 70000\n"
        "humpback: !!python/object x\n"
    )
    with pytest.raises(SpecError) as caught:
        check_spec(spec)
    assert [d.format().replace(f"{spec}:", "") for d in caught.value.diagnostics] == [
        "3:3: error: duplicate key 'server' (first written on line 2): keep only one",
        "4:9: error: registry.port: must be at most 65535",
        "5:11: error: the tag !!python/object is not allowed in a spec: write a "
        "plain value",
    ]
