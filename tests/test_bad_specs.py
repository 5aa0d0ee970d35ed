"""A corpus of bad specs: each refused at its exact place, and nothing written.

Every row is a spec, where its first diagnostic must point (``FILE:LINE:COL``),
the exit status and a fragment of the message.  The rows run through the real
command line.  Starting Python takes about half a second, so the rows of exit
status 1 run in a few ``regc build`` calls of many specs each, together with a
valid spec: each call must report every row's diagnostic and write nothing at
all, not even the valid spec's artifacts.  Rows of exit status 2 (usage
errors, which stop a run at once) run alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from regc.load import MAX_DEPTH, MAX_NODES, MAX_SPEC_BYTES

VALID = "registry:\n  server: 192.168.1.10\n"
# Specs per call: each gives one diagnostic, and the command line shows 50.
BATCH = 45


class Bad(NamedTuple):
    """One bad spec: its file stem, content, and what regc must say."""

    stem: str
    spec: str | bytes
    where: str  # LINE:COL of the first diagnostic in STEM.yaml; "" for usage
    status: int
    fragment: str

    @property
    def file(self) -> str:
        return f"{self.stem}.yaml"

    @property
    def location(self) -> str:
        """``FILE:LINE:COL`` as the diagnostic starts."""
        return f"{self.file}:{self.where}"


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


CORPUS = [
    # --- the loader: YAML syntax, with the parser's own line and column ---
    Bad("syntax-unclosed-flow", "registry: {server: h\n", "2:1", 1,
        "close the '{' opened on line 1, column 11"),
    Bad("syntax-tab", "registry:\n\tserver: h\n", "2:1", 1,
        "indent with spaces, not tabs"),
    Bad("syntax-unclosed-quote", "registry:\n  server: 'h\n", "3:1", 1,
        "close the quote opened on line 2, column 11"),
    Bad("syntax-colon-in-value", "registry:\n  server: a: b\n", "2:12", 1,
        "quote a value that holds ': '"),
    Bad("syntax-undefined-alias", "registry:\n  server: *h\n", "2:11", 1,
        "found undefined alias 'h'"),
    Bad("syntax-bad-indent", "registry:\n  server: h\n port: 1\n", "3:2", 1,
        "indent the entries of one mapping or list alike"),
    Bad("syntax-unknown-escape", 'registry:\n  server: "\\q"\n', "2:13", 1,
        "use single quotes"),
    Bad("syntax-backtick", "registry:\n  server: `h`\n", "2:11", 1,
        "quote a value that starts with"),
    Bad("syntax-duplicate-anchor", "a: &x 1\nregistry: &x {server: h}\n", "2:11",
        1, "the anchor &x is defined twice (first on line 1)"),
    # --- the loader: structure ---
    Bad("dup-key-top", "registry: {server: h}\nregistry: {server: g}\n", "2:1", 1,
        "duplicate key 'registry' (first written on line 1): keep only one"),
    Bad("dup-key-nested", "registry:\n  server: h\n  port: 1\n  port: 2\n", "4:3",
        1, "duplicate key 'port' (first written on line 3)"),
    Bad("dup-key-deep",
        "registry:\n  server: h\n  cors:\n    enabled: true\n    enabled: false\n",
        "5:5", 1, "duplicate key 'enabled' (first written on line 4)"),
    Bad("dup-key-flow", "registry: {server: h, server: g}\n", "1:23", 1,
        "duplicate key 'server'"),
    Bad("two-documents", "registry: {server: h}\n---\nregistry: {server: g}\n",
        "2:1", 1, "more than one YAML document: a spec is one document"),
    Bad("top-level-list", "- registry\n", "1:1", 1,
        "the top level of a spec must be a mapping"),
    Bad("top-level-scalar", "registry\n", "1:1", 1,
        "the top level of a spec must be a mapping"),
    Bad("empty", "", "1:1", 1, "the spec is empty: write at least"),
    Bad("only-comments", "# nothing yet\n", "1:1", 1, "the spec is empty"),
    Bad("complex-key", "registry:\n  ? [a, b]\n  : 1\n  server: h\n", "2:5", 1,
        "a key must be a plain name, not a list or mapping"),
    Bad("merge-key", "registry:\n  server: h\n  <<: {port: 5001}\n", "3:3", 1,
        "merge keys (<<) are not supported in a spec: write the keys out"),
    # --- the loader: tags that construct objects ---
    Bad("tag-python", "registry: !!python/object/apply:os.system ['reboot']\n",
        "1:11", 1, "the tag !!python/object/apply:os.system is not allowed"),
    Bad("tag-custom", "registry:\n  server: !env HOST\n", "2:11", 1,
        "the tag !env is not allowed in a spec: write a plain value"),
    Bad("tag-binary", "registry:\n  server: !!binary aGk=\n", "2:11", 1,
        "the tag !!binary is not allowed"),
    Bad("tag-set", "registry: !!set {server}\n", "1:11", 1,
        "the tag !!set is not allowed in a spec: remove it"),
    Bad("tag-bad-bool", "registry:\n  server: h\n  cors: {enabled: !!bool maybe}\n",
        "3:19", 1, "'maybe' cannot be read as !!bool: remove the tag"),
    Bad("octal-port", "registry:\n  server: h\n  port: 05000\n", "3:9", 1,
        "YAML 1.1 reads 05000 as an octal number: write it without leading zeros"),
    Bad("base60-port", "registry:\n  server: h\n  port: 1:20\n", "3:9", 1,
        "YAML 1.1 reads 1:20 as a base-60 number"),
    Bad("huge-number", "registry:\n  server: h\n  port: " + "9" * 5000 + "\n",
        "3:9", 1, "is too large a number: write a smaller one"),
    # --- the loader: bombs and bounds ---
    Bad("billion-laughs", _laughs(10), "2:22", 1,
        f"the spec expands to more than {MAX_NODES} values through its aliases"),
    Bad("alias-cycle", "registry: {server: h, config: &r {log: *r}}\n", "1:40", 1,
        "this alias refers to a list or mapping that contains it"),
    # Node MAX_NODES + 1 is the list's item MAX_NODES - 2 (after the root,
    # the key and the list), each item taking two columns after "registry: [".
    Bad("too-many-values", "registry: [" + "1," * MAX_NODES + "]\n",
        f"1:{12 + 2 * (MAX_NODES - 3)}", 1,
        f"the spec has more than {MAX_NODES} values"),
    Bad("deep-flow", "registry: " + "[" * 1000 + "]" * 1000 + "\n",
        f"1:{11 + MAX_DEPTH}", 1, f"nesting deeper than {MAX_DEPTH} levels"),
    Bad("deep-block",
        "".join(f"{'  ' * i}k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n",
        f"{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}", 1,
        f"nesting deeper than {MAX_DEPTH} levels"),
    Bad("too-large", b"#" * (MAX_SPEC_BYTES + 1), "1:1", 1,
        f"the spec is larger than {MAX_SPEC_BYTES} bytes"),
    Bad("too-large-bomb", _laughs(10) + "#" * (10 * MAX_SPEC_BYTES), "1:1", 1,
        "the spec is larger than"),
    # --- the loader: text that is not UTF-8 or not allowed in YAML ---
    Bad("latin-1", b"registry:\n  server: caf\xe9\n", "2:14", 1,
        "the spec is not UTF-8 text (byte 0xe9): save it as UTF-8"),
    Bad("utf-16", VALID.encode("utf-16"), "1:1", 1, "not UTF-8 text (byte 0xff)"),
    Bad("control-character", b"registry:\n  server: h\x1b[31m\n", "2:12", 1,
        "the spec holds the control character U+001B, which YAML does not allow"),
    Bad("nul-byte", b"registry: {server: h}\x00\n", "1:22", 1,
        "control character U+0000"),
    Bad("lone-surrogate", 'registry: {server: h}\nhumpback: {top_news: "\\ud800"}\n',
        "2:22", 1, "\\ud800 is half of a UTF-16 surrogate pair, not a character"),
    # Editors do not end a line at U+2028; PyYAML does, and would say 4:1.
    Bad("line-separator-inside",
        "registry: {server: h}\nhumpback: {top_news: '\u2028'}\nzzz: 1\n", "3:1",
        1, "zzz: unknown field"),
    # A value reached through an alias is reported where the alias is used.
    Bad("alias-use", "humpback:\n  top_news: &t hello\nregistry:\n  server: h\n"
        "  port: *t\n", "5:9", 1, "registry.port: must be an integer, not a string"),
    # --- the model: unknown keys suggest the nearest known key ---
    Bad("unknown-top", "registry: {server: h}\nregisty: {}\n", "2:1", 1,
        "registy: unknown field: did you mean 'registry'?"),
    Bad("unknown-registry", "registry:\n  server: h\n  contianer_name: r\n", "3:3",
        1, "registry.contianer_name: unknown field: did you mean 'container_name'?"),
    Bad("unknown-cors", "registry:\n  server: h\n  cors:\n    allow_origin: ['*']\n",
        "4:5", 1, "did you mean 'allow_origins'?"),
    Bad("unknown-humpback", "registry: {server: h}\nhumpback:\n  top_new: x\n",
        "3:3", 1, "humpback.top_new: unknown field: did you mean 'top_news'?"),
    Bad("unknown-in-host-group",
        "registry: {server: h}\nhosts:\n  - name: g\n    os: any\n"
        "    docker: '24.0.7'\n    machine: [a]\n",
        "6:5", 1, "hosts[0].machine: unknown field: did you mean 'machines'?"),
    Bad("unknown-far", "registry: {server: h}\nzzz: 1\n", "2:1", 1,
        "zzz: unknown field: known fields are"),
    Bad("unknown-blank-key", "registry: {server: h}\n' ': 1\n", "2:1", 1,
        "' ': unknown field"),
    # --- the model: missing fields, at the mapping that lacks them ---
    Bad("missing-server", "registry:\n  port: 5000\n", "2:3", 1,
        "registry: missing required field 'server'"),
    Bad("missing-registry", "# a comment first\nname: x\n", "2:1", 1,
        "missing required field 'registry'"),
    Bad("missing-host-os",
        "registry: {server: h}\nhosts:\n  - name: g\n    docker: '24.0.7'\n",
        "3:5", 1, "hosts[0]: missing required field 'os'"),
    # --- the model: types ---
    Bad("registry-empty", "registry:\n", "1:10", 1,
        "registry: must be a mapping, not empty"),
    Bad("port-string", "registry:\n  server: h\n  port: '5000'\n", "3:9", 1,
        "registry.port: must be an integer, not a string"),
    Bad("port-bool", "registry:\n  server: h\n  port: true\n", "3:9", 1,
        "registry.port: must be an integer, not a boolean"),
    Bad("port-yes", "registry:\n  server: h\n  port: yes\n", "3:9", 1,
        "YAML 1.1 reads yes as true, editors (YAML 1.2) as text: write true"),
    Bad("bool-off", "registry:\n  server: h\nhumpback: {enabled: Off}\n", "3:21",
        1, "YAML 1.1 reads Off as false, editors (YAML 1.2) as text: write false"),
    Bad("port-underscore", "registry:\n  server: h\n  port: 5_000\n", "3:9", 1,
        "YAML 1.1 reads 5_000 as 5000, editors (YAML 1.2) as text: write 5000"),
    Bad("port-range", "registry:\n  server: h\n  port: 70000\n", "3:9", 1,
        "registry.port: must be at most 65535"),
    Bad("server-number", "registry:\n  server: 10\n", "2:11", 1,
        "registry.server: must be a string, not an integer: put it in quotes"),
    Bad("cors-enabled-string", "registry:\n  server: h\n  cors: {enabled: 'on'}\n",
        "3:19", 1, "registry.cors.enabled: must be true or false, not a string"),
    Bad("top-news-long", "registry: {server: h}\nhumpback: {top_news: '" + "x" * 501
        + "'}\n", "2:22", 1, "humpback.top_news: must be at most 500 characters"),
    # --- the model: enumerations list the allowed values ---
    Bad("restart-enum", "registry:\n  server: h\n  restart: sometimes\n", "3:12", 1,
        "must be one of 'always', 'unless-stopped', 'on-failure' or 'no', "
        "not 'sometimes'"),
    Bad("restart-bare-no", "registry:\n  server: h\n  restart: no\n", "3:12", 1,
        "YAML 1.1 reads no as false, editors (YAML 1.2) as text: write false, or "
        "quote 'no' if it is text"),
    Bad("log-level-near", "registry:\n  server: h\n  log_level: warning\n", "3:14",
        1, "must be one of 'error', 'warn', 'info' or 'debug', not 'warning': "
        "did you mean 'warn'?"),
    Bad("host-os-enum",
        "registry: {server: h}\nhosts:\n  - name: g\n    os: centos8\n"
        "    docker: '24.0.7'\n", "4:9", 1, "hosts[0].os: must be one of"),
    # --- the model: values, with what to write instead ---
    Bad("server-scheme", "registry:\n  server: http://reg.example.com:5000\n",
        "2:11", 1, "remove 'http://': write only the host, such as "
        "'reg.example.com'"),
    Bad("server-port", "registry:\n  server: reg.example.com:5000\n", "2:11", 1,
        "write the port as `port: 5000` under registry"),
    Bad("server-ipv6-zone", "registry:\n  server: 'fe80::1%eth0'\n", "2:11", 1,
        "has a zone ('%eth0'), which only one host understands"),
    Bad("name-suggestion", "name: Hub_Prod\nregistry: {server: h}\n", "1:7", 1,
        "'Hub_Prod' is not a valid name: use lower-case letters, digits and '-'"),
    Bad("data-dir-relative", "registry:\n  server: h\n  data_dir: srv/registry\n",
        "3:13", 1, "is not an absolute path: start it with '/': did you mean "
        "'/srv/registry'?"),
    Bad("data-dir-root", "registry:\n  server: h\n  data_dir: /\n", "3:13", 1,
        "'/' is the root folder: name a folder below it"),
    Bad("config-path-dotdot", "registry:\n  server: h\n  config_path: /etc/../x\n",
        "3:16", 1, "'/etc/../x' is not a normalized path: write '/x'"),
    Bad("image-upper", "registry:\n  server: h\n  image: Registry:2.5.1\n", "3:10",
        1, "did you mean 'registry:2.5.1'?"),
    Bad("origin-item", "registry:\n  server: h\n  cors:\n    allow_origins:\n"
        "      - http://a.example.com\n      - humpback.example.com:8012\n", "6:9",
        1, "registry.cors.allow_origins[1]: 'humpback.example.com:8012' is not an "
        "origin"),
    Bad("origins-empty", "registry:\n  server: h\n  cors: {allow_origins: []}\n",
        "3:25", 1, "registry.cors.allow_origins: must not be empty"),
    Bad("url-path", "registry: {server: h}\nhumpback:\n  url: http://h:8012/ui\n",
        "3:8", 1, "did you mean 'http://h:8012'?"),
    Bad("url-slash", "registry: {server: h}\nhumpback:\n  url: http://h:8012/\n",
        "3:8", 1, "'http://h:8012/' ends with '/': write 'http://h:8012'"),
    Bad("image-too-long", "registry:\n  server: h\n  image: "
        + "a" * 300 + ":2.8.3\n", "3:10", 1,
        "the image's repository is 300 characters long: Docker refuses more than 255"),
    Bad("container-name-too-long", "registry:\n  server: h\n  container_name: "
        + "c" * 300 + "\n", "3:19", 1, "the container name is 300 characters long"),
    Bad("path-name-too-long", "registry:\n  server: h\n  data_dir: /srv/"
        + "d" * 300 + "\n", "3:13", 1, "is 300 characters long: a file or folder"),
    Bad("server-unspecified", "registry:\n  server: 0.0.0.0\n", "2:11", 1,
        "'0.0.0.0' means every address of a host"),
    Bad("server-hex", "registry:\n  server: 0x7f.1\n", "2:11", 1,
        "'0x7f.1' is neither a host name (its last part reads as a number) nor an "
        "IPv4 address"),
    Bad("server-numeric-tld", "registry:\n  server: registry.10\n", "2:11", 1,
        "neither a host name"),
    Bad("server-upper", "registry:\n  server: Reg.Example.COM\n", "2:11", 1,
        "write the host name in lower case, 'reg.example.com'"),
    Bad("version-pattern", "registry:\n  server: h\n  version: '2.x'\n", "3:12",
        1, "registry.version: '2.x' does not fit here: write the registry's "
        "version, such as '2.8.3'"),
    Bad("realm-pattern", "registry:\n  server: h\n"
        "  auth: {htpasswd: {path: /h, realm: 'a;b'}}\nhumpback: {enabled: false}\n",
        "3:38", 1, "'a;b' does not fit here: use letters, digits, spaces"),
    Bad("bucket-pattern", "registry:\n  server: h\n  storage:\n    driver: s3\n"
        "    s3: {bucket: My_Bucket, region: us-east-1}\n", "5:18", 1,
        "'My_Bucket' does not fit here: write a bucket name of 3 to 63"),
    Bad("secret-both", "registry:\n  server: h\n"
        "  http_secret: {env: S, file: /etc/s}\n", "3:16", 1,
        "registry.http_secret: give the secret as either `env: NAME`"),
    Bad("secret-neither", "registry:\n  server: h\n  http_secret: {}\n", "3:16",
        1, "or `file: /PATH` (a file on the registry host)"),
    Bad("secret-file-relative", "registry:\n  server: h\n"
        "  http_secret: {file: './s'}\n", "3:23", 1, "registry.http_secret.file:"),
    # --- whole-spec rules (lint errors), at the node concerned ---
    Bad("cors-two-origins", "registry:\n  server: h\n  cors:\n    allow_origins:\n"
        "      - http://a.example.com\n      - http://b.example.com\n", "6:9", 1,
        "error[RG203]: browsers accept one Access-Control-Allow-Origin value"),
    Bad("cluster-without-center", "registry: {server: h}\nhumpback:\n"
        "  cluster_mode: true\n", "3:17", 1,
        "cluster_mode is on but center_api is missing: add `center_api:"),
    Bad("https-humpback", "registry: {server: h}\nhumpback:\n"
        "  url: https://h.example.com\n", "3:8", 1,
        "serve Humpback over http or the registry over https"),
    Bad("Bad_Stem", VALID, "1:1", 1,
        "the file name 'Bad_Stem' cannot name the output folder: add `name:`"),
    # --- usage: a file name that would break the header every artifact
    # starts with, a comment naming the spec file ---
    Bad("a\nreboot\n", "name: ok\n" + VALID, "", 2,
        "a\\nreboot\\n.yaml: the file name holds a line break or control "
        "character, which would be copied into the generated files: rename the file"),
    Bad("b\u2028x: 1", "name: ok\n" + VALID, "", 2, "rename the file"),
    # How Python names a file whose name is not UTF-8 (b'caf\xe9').
    Bad("caf\udce9", "name: ok\n" + VALID, "", 2, "rename the file"),
]  # fmt: skip

# Strings that would run, split or reorder a command if they reached an
# artifact as they are, appended to a valid value of each field.  A lone
# final newline is the one a `^...$` pattern let through with re.match.
PAYLOADS = [
    "$(reboot)", "; reboot", "`reboot`", "\nreboot", " reboot", "'x'", '"x"', "\n",
]  # fmt: skip
# Each field whose value reaches a shell script, an environment file, a
# systemd unit, YAML or APPLY.md: its spec with {v} where the value goes, a
# valid value, and the message it gets when the payload is appended ({shown}
# being the value as messages echo it: quoted, the newline escaped).
FIELDS = [
    ("name", "name: {v}\nregistry: {server: h}\n", "reg",
     "{shown} is not a valid name"),
    ("registry.server", "registry:\n  server: {v}\n", "registry.example.com",
     "{shown} is not a host name or IP address"),
    ("registry.image", "registry:\n  server: h\n  image: {v}\n", "registry:2.5.1",
     "{shown} is not a valid image reference"),
    ("registry.container_name", "registry:\n  server: h\n  container_name: {v}\n",
     "registry", "{shown} is not a valid container name"),
    ("registry.restart", "registry:\n  server: h\n  restart: {v}\n", "always",
     "must be one of"),
    ("registry.data_dir", "registry:\n  server: h\n  data_dir: {v}\n",
     "/var/lib/registry", "{shown} has characters a path here may not use"),
    ("registry.config_path", "registry:\n  server: h\n  config_path: {v}\n",
     "/etc/docker/registry/config.yml",
     "{shown} has characters a path here may not use"),
    ("registry.log_level", "registry:\n  server: h\n  log_level: {v}\n", "info",
     "must be one of"),
    ("registry.cors.allow_origins[1]",
     "registry:\n  server: h\n  cors:\n    allow_origins:\n"
     "      - http://ok.example.com\n      - {v}\n",
     "http://humpback.example.com:8012", "{shown} is not an origin"),
    ("humpback.url", "registry: {server: h}\nhumpback:\n  url: {v}\n",
     "http://humpback.example.com:8012", "{shown} is not an origin"),
    ("humpback.center_api", "registry: {server: h}\nhumpback:\n  center_api: {v}\n",
     "http://center.example.com:8589", "{shown} is not an origin"),
    ("hosts[0].name",
     "registry: {server: h}\nhosts:\n  - name: {v}\n    os: any\n"
     "    docker: '24.0.7'\n", "edge", "{shown} is not a valid name"),
    ("hosts[0].os",
     "registry: {server: h}\nhosts:\n  - name: g\n    os: {v}\n"
     "    docker: '24.0.7'\n", "any", "must be one of"),
    ("hosts[0].docker",
     "registry: {server: h}\nhosts:\n  - name: g\n    os: any\n    docker: {v}\n",
     "24.0.7", "{shown} is not a Docker version"),
    ("hosts[0].machines[1]",
     "registry: {server: h}\nhosts:\n  - name: g\n    os: any\n"
     "    docker: '24.0.7'\n    machines:\n      - web1.example.com\n      - {v}\n",
     "web2.example.com", "{shown} is not a host name or IP address"),
]  # fmt: skip


def _injection(field: str, template: str, valid: str, message: str, n: int) -> Bad:
    payload = PAYLOADS[n]
    before = template.split("{v}")[0]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    # JSON's string syntax is YAML's double-quoted scalar: every payload
    # arrives intact, the newline included.
    spec = template.replace("{v}", json.dumps(valid + payload))
    shown = "'" + (valid + payload).replace("\n", "\\n") + "'"
    stem = f"inject-{field.replace('.', '-').replace('[', '-').strip(']')}-{n}"
    stem = stem.replace("]", "").replace("_", "-")
    fragment = f"{field}: " + message.replace("{shown}", shown)
    return Bad(stem, spec, f"{line}:{column}", 1, fragment)


INJECTIONS = [_injection(*field, n) for field in FIELDS for n in range(len(PAYLOADS))]


def regc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def _write(folder: Path, bad: Bad) -> Path:
    path = folder / bad.file
    if isinstance(bad.spec, bytes):
        path.write_bytes(bad.spec)
    else:
        path.write_text(bad.spec, encoding="utf-8")
    return path


def _chunks(rows: list[Bad]) -> Iterator[list[Bad]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


@pytest.fixture(scope="module")
def stderr_by_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Build every row of exit status 1, many per call with one valid spec.

    Returns the lines of standard error by spec file; checks on the way that
    each call exited 1, printed no traceback, and wrote nothing.
    """
    folder = tmp_path_factory.mktemp("bad-specs")
    (folder / "zz-valid.yaml").write_text(VALID)
    found: dict[str, list[str]] = {}
    for rows in _chunks([b for b in [*CORPUS, *INJECTIONS] if b.status == 1]):
        files = [_write(folder, bad).name for bad in rows]
        result = regc("build", *files, "zz-valid.yaml", "--out", "out", cwd=folder)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "more problems" not in result.stderr
        assert not (folder / "out").exists(), "an invalid build wrote output"
        for line in result.stderr.splitlines():
            found.setdefault(line.split(":", 1)[0], []).append(line)
    return found


def _ids(rows: list[Bad]) -> list[str]:
    return [row.stem for row in rows]


def test_the_corpus_is_large_and_every_row_is_distinct() -> None:
    assert len(CORPUS) >= 40
    assert len({row.stem for row in [*CORPUS, *INJECTIONS]}) == len(CORPUS + INJECTIONS)
    assert {row.status for row in CORPUS} == {1, 2}


@pytest.mark.parametrize(
    "bad", [*CORPUS, *INJECTIONS], ids=_ids([*CORPUS, *INJECTIONS])
)
def test_a_bad_spec_is_reported_at_its_exact_position(
    bad: Bad, stderr_by_file: dict[str, list[str]], tmp_path: Path
) -> None:
    if bad.status == 2:
        _check_usage_error(bad, tmp_path)
        return
    lines = stderr_by_file.get(bad.file, [])
    assert lines, f"no diagnostic for {bad.file}"
    assert lines[0].startswith(f"{bad.location}: error"), lines
    assert bad.fragment in lines[0], lines
    positions = [tuple(map(int, line.split(":")[1:3])) for line in lines]
    assert positions == sorted(positions), "diagnostics out of file order"


def _check_usage_error(bad: Bad, folder: Path) -> None:
    spec = _write(folder, bad)
    result = subprocess.run(
        [sys.executable, "-m", "regc", "build", spec.name, "--out", "out"],
        cwd=folder,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == bad.status, stderr
    assert stderr.startswith("regc: error: ")
    assert len(stderr.splitlines()) == 1, stderr
    assert bad.fragment in stderr
    assert sorted(p.name for p in folder.iterdir()) == [spec.name]


# One row of each kind, run alone: the batch above must not hide anything.
ALONE = ["syntax-unclosed-flow", "dup-key-nested", "unknown-top",
         "cluster-without-center", "inject-registry-data-dir-3"]  # fmt: skip


@pytest.mark.parametrize("stem", ALONE)
def test_a_bad_spec_alone_exits_1_and_writes_nothing(stem: str, tmp_path: Path) -> None:
    (bad,) = [row for row in [*CORPUS, *INJECTIONS] if row.stem == stem]
    spec = _write(tmp_path, bad)
    result = regc("build", spec.name, "--out", "out", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (bad.status, "")
    assert result.stderr.startswith(f"{bad.location}: error")
    assert bad.fragment in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.name]


def test_every_error_of_a_spec_is_reported_in_file_order(tmp_path: Path) -> None:
    # Written in the reverse of the models' field order, with list items.
    (tmp_path / "order.yaml").write_text(
        "humpback:\n  url: x\n  enabled: maybe\n"
        "hosts:\n  - name: A\n    os: any\n    docker: '1'\n"
        "registry:\n  server: h\n  cors:\n    allow_origins: ['*', y, z]\n"
        "  port: 0\nname: N\n"
    )
    result = regc("validate", "order.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(": error")[0] for line in result.stderr.splitlines()] == [
        "order.yaml:2:8",
        "order.yaml:3:12",
        "order.yaml:5:11",
        "order.yaml:7:13",
        "order.yaml:11:26",
        "order.yaml:11:29",
        "order.yaml:12:9",
        "order.yaml:13:7",
    ]


def test_more_than_50_diagnostics_are_capped_with_a_count_of_the_rest(
    tmp_path: Path,
) -> None:
    keys = "".join(f"unknown{i}: 1\n" for i in range(60))
    (tmp_path / "many.yaml").write_text(VALID + keys)
    result = regc("build", "many.yaml", cwd=tmp_path)
    lines = result.stderr.splitlines()
    assert result.returncode == 1
    assert len(lines) == 51
    assert lines[0].startswith("many.yaml:3:1: error: unknown0: unknown field")
    assert lines[49].startswith("many.yaml:52:1: error: unknown49: unknown field")
    assert lines[50] == "regc: ... and 10 more problems"


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mode)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_failed_build_leaves_the_previous_output_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(VALID)
    assert regc("build", cwd=tmp_path).returncode == 0
    before = _snapshot(tmp_path / "out")

    (tmp_path / "registry.yaml").write_text(VALID + "  port: 5001\n  prot: 1\n")
    result = regc("build", cwd=tmp_path)

    assert result.returncode == 1
    assert _snapshot(tmp_path / "out") == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["registry"]


def test_files_regc_did_not_generate_are_reported_and_kept(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text(VALID)
    assert regc("build", cwd=tmp_path).returncode == 0
    notes = tmp_path / "out" / "registry" / "NOTES.md"
    notes.write_text("ours\n")

    (tmp_path / "registry.yaml").write_text(VALID + "  port: 5001\n")
    result = regc("build", cwd=tmp_path)

    assert result.returncode == 0
    assert "out/registry/NOTES.md: not generated by regc; left in place" in (
        result.stderr
    )
    assert notes.read_text() == "ours\n"


# Runs each command of argv[1:] (one per line of stdin), then prints its
# seconds, and the peak resident memory of all of them in MiB.
_MEASURE = """
import json, resource, subprocess, sys, time
times = []
for line in sys.stdin:
    start = time.monotonic()
    subprocess.run(json.loads(line), capture_output=True, check=False)
    times.append(time.monotonic() - start)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps({"times": times, "peak": peak}))
"""


def _measure(folder: Path, files: list[str]) -> dict[str, list[float] | int]:
    commands = "".join(
        json.dumps([sys.executable, "-m", "regc", "validate", f]) + "\n" for f in files
    )
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE],
        input=commands,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured: dict[str, list[float] | int] = json.loads(result.stdout)
    return measured


def test_hostile_files_are_refused_in_little_time_and_memory(tmp_path: Path) -> None:
    hostile = ["billion-laughs", "too-large-bomb", "deep-flow", "too-many-values"]
    rows = {row.stem: row for row in CORPUS}
    (tmp_path / "valid.yaml").write_text(VALID)
    for stem in hostile:
        _write(tmp_path, rows[stem])
    # A 1 MiB line of '[' is the worst case for PyYAML's scanner.
    (tmp_path / "brackets.yaml").write_text("registry: " + "[" * (MAX_SPEC_BYTES - 20))

    baseline = _measure(tmp_path, ["valid.yaml"])
    measured = _measure(tmp_path, [f"{s}.yaml" for s in [*hostile, "brackets"]])

    assert isinstance(baseline["peak"], int) and isinstance(measured["peak"], int)
    assert measured["peak"] < baseline["peak"] + 64, measured
    assert isinstance(measured["times"], list)
    assert max(measured["times"]) < 10, measured
