"""A shell-looking value never reaches an artifact where it could run.

Values that fail validation never reach an artifact (tests/test_bad_specs.py);
these tests take the values that pass, the unusual ones included (paths with
'@' and '+', IPv6 addresses and their bracketed HOST:PORT, banner text full of
shell syntax), walk every artifact, and check each value is inert where it
lands.  Where a real shell can read an artifact, it reads the values back.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from artifact_scan import (
    SAFE,
    exposed_in_shell,
    problems,
    sh_regions,
    strings_in,
    template_lines,
)

from conftest import ROOT
from regc.pipeline import compile_spec
from regc.quoting import sh

# Banner text goes only to Humpback's JSON, so anything is allowed in it.
NASTY_NEWS = (
    "$(reboot) `reboot` ${HOME} $HOME; rm -rf / && echo 'single' \"double\" "
    "back\\slash\nsecond line\ttab </script><b>bold</b> ünïcödé ☃ \u2028 %n %% {{x}}"
)
UNUSUAL = {
    "name": "odd-1",
    "registry": {
        "server": "2001:db8::10",
        "port": 5443,
        "image": "mirror.example.com:5443/library/registry:2.8.3",
        "container_name": "re.g_1-x",
        "restart": "on-failure",
        "data_dir": "/srv/reg+istry@2",
        "config_path": "/etc/re-g_1.2/conf@x+y.yml",
        "cors": {"allow_origins": ["http://[2001:db8::20]:8012"]},
    },
    "hosts": [
        {
            "name": "edge-1",
            "os": "centos7",
            "docker": "26.1.4",
            "package": "docker-ce",
            "machines": ["2001:db8::30", "web-1.example.com"],
        },
        {
            "name": "jammy",
            "os": "ubuntu-systemd",
            "docker": "26.1.4",
            "method": "flags",
        },
        {"name": "rest", "os": "any", "docker": "26.1.4"},
    ],
    "humpback": {
        "url": "http://[2001:db8::20]:8012",
        "cluster_mode": True,
        "center_api": "http://center.example.com:8589",
        "top_news": NASTY_NEWS,
    },
}
# What regc derives from the values above and writes as one piece.
DERIVED = ["[2001:db8::10]:5443", "http://[2001:db8::10]:5443"]


def _template() -> set[str]:
    """The lines the templates write whatever the spec says."""
    minimal = compile_spec(ROOT / "examples" / "minimal.yaml")
    return template_lines(a.content for a in minimal.artifacts)


def _compile(tmp_path: Path, data: object) -> dict[str, bytes]:
    spec = tmp_path / "registry.yaml"
    spec.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return {a.path: a.content for a in compile_spec(spec).artifacts}


def _sh(program: str, *args: str) -> list[str]:
    """What ``sh -c PROGRAM`` prints, split at NUL bytes."""
    result = subprocess.run(
        ["sh", "-c", program, "sh", *args], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8").split("\0")[:-1]


@pytest.fixture
def unusual(tmp_path: Path) -> dict[str, bytes]:
    return _compile(tmp_path, UNUSUAL)


def test_the_scanner_tells_inert_from_live_text() -> None:
    value = "$(reboot)"
    live = ["x=$(reboot)\n", 'x="$(reboot)"\n', "# ok\n$(reboot)\n"]
    inert = ["x='$(reboot)'\n", "# says $(reboot)\n", "x=\\$\\(reboot\\)\n"]
    for text in live:
        assert exposed_in_shell(text, value, sh_regions(text)), text
    for text in inert:
        assert not exposed_in_shell(text, value, sh_regions(text)), text
    assert exposed_in_shell("# a\nb\n", "a\nb", sh_regions("# a\nb\n"))
    assert not exposed_in_shell('x="a b"\n', "a b", sh_regions('x="a b"\n'))


def test_no_value_of_the_examples_is_live_in_any_artifact(example: Path) -> None:
    artifacts = {a.path: a.content for a in compile_spec(example).artifacts}
    values = strings_in(yaml.safe_load(example.read_text(encoding="utf-8")))
    assert problems(artifacts, values) == []


def test_unusual_values_that_pass_validation_stay_inert_in_scripts_and_host_files(
    unusual: dict[str, bytes],
) -> None:
    # APPLY.md is documentation; its commands are checked on their own below.
    artifacts = {p: c for p, c in unusual.items() if p != "APPLY.md"}
    values = [*strings_in(UNUSUAL), *DERIVED]
    assert problems(artifacts, values, _template()) == []


def test_the_commands_of_apply_md_quote_a_bracketed_ipv6_address(
    unusual: dict[str, bytes],
) -> None:
    assert problems({"APPLY.md": unusual["APPLY.md"]}, ["[2001:db8::10]"]) == []


def _words(line: str) -> list[str]:
    """The words sh makes of one command line, without running it."""
    command = line.rstrip(" \\")
    return _sh(f"set -- {command}\nprintf '%s\\0' \"$@\"")


def test_sh_reads_each_value_of_run_sh_back_exactly_as_written_in_the_spec(
    unusual: dict[str, bytes],
) -> None:
    script = unusual["registry/run.sh"].decode()
    registry = UNUSUAL["registry"]
    assert isinstance(registry, dict)
    for field in ["image", "container_name", "config_path", "data_dir", "restart"]:
        value = registry[field]
        lines = [
            line.strip()
            for line in script.split("\n")
            if value in line and not line.lstrip().startswith("#")
        ]
        assert lines, f"{field} is not in run.sh"
        for line in lines:
            assert any(value in word for word in _words(line)), (field, line)


def test_verify_sh_defaults_to_the_bracketed_ipv6_base_url(
    unusual: dict[str, bytes],
) -> None:
    script = unusual["verify.sh"].decode()
    (line,) = [line for line in script.splitlines() if line.startswith("base_url=")]
    assert _words(line) == ["base_url=http://[2001:db8::10]:5443"]


def test_host_environment_files_give_sh_the_flag_with_the_bracketed_address(
    unusual: dict[str, bytes], tmp_path: Path
) -> None:
    env_files = [
        p
        for p in unusual
        if p.startswith("hosts/") and ("/sysconfig/" in p or "/default/" in p)
    ]
    assert env_files
    for path in env_files:
        file = tmp_path / "env"
        file.write_bytes(unusual[path])
        names = re.findall(r"^([A-Za-z_]+)=", unusual[path].decode(), re.MULTILINE)
        program = '. "$1"\n' + "".join(f'printf "%s\\0" "${n}"\n' for n in names)
        for value in _sh(program, str(file)):
            assert value == "--insecure-registry [2001:db8::10]:5443", path


def test_banner_text_reaches_only_the_humpback_json_and_survives_intact(
    unusual: dict[str, bytes],
) -> None:
    body = json.loads(unusual["humpback/system-config.json"])
    assert body["TopNews"] == NASTY_NEWS
    for path, content in unusual.items():
        if path != "humpback/system-config.json":
            assert b"reboot" not in content, path
            assert b"</script>" not in content, path


def test_banner_text_is_escaped_as_json_requires(unusual: dict[str, bytes]) -> None:
    text = unusual["humpback/system-config.json"].decode("utf-8")
    # Split at newlines only: JSON may hold U+2028 raw, splitlines() would not.
    (line,) = [line for line in text.split("\n") if '"TopNews"' in line]
    # Quote, backslash and control characters are escaped; nothing else is
    # needed, and the value stays on one line.
    assert '\\"double\\"' in line
    assert "back\\\\slash" in line
    assert "\\nsecond line\\ttab" in line
    assert '%n %% {{x}}"' in line


def test_every_json_and_yaml_artifact_parses_back(unusual: dict[str, bytes]) -> None:
    for path, content in unusual.items():
        if path.endswith(".json"):
            json.loads(content)
        elif path.endswith(".yml"):
            config = yaml.safe_load(content)
            assert isinstance(config, dict), path


def test_the_safe_set_is_the_one_regc_leaves_unquoted() -> None:
    for value in ["/srv/reg+istry@2", "a=b,c", "x:1", "%y"]:
        assert SAFE.fullmatch(value)
        assert sh(value) == value
    for value in ["a b", "$(x)", "[v6]", "*", "a'b"]:
        assert not SAFE.fullmatch(value)
        assert sh(value) != value


def test_a_value_pasted_unquoted_into_an_artifact_would_be_caught(
    unusual: dict[str, bytes],
) -> None:
    script = unusual["registry/run.sh"].replace(b"/srv/reg+istry@2", b"/srv/x;reboot")
    found = problems({"registry/run.sh": script}, ["/srv/x;reboot"], _template())
    assert found
    assert all(f.startswith("registry/run.sh: '/srv/x;reboot' in ") for f in found)
