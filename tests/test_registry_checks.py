"""The registry checks of compiler/registry.py, positioned in the user's spec.

Each test writes a small spec, runs ``regc.pipeline.check_spec`` and asserts
the code, the severity and the ``LINE:COL`` of the diagnostic. Positions
follow the contract of design.md: the key for an unknown field, the value for
a bad one; a rule about a whole section points where that section's value
starts, as validation does for a missing field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from regc.diagnostics import Diagnostic, Severity, SpecError
from regc.pipeline import check_spec


def diagnostics(tmp_path: Path, text: str) -> list[Diagnostic]:
    """Every diagnostic of the spec ``text``: the errors, or the warnings."""
    spec = tmp_path / "registry.yaml"
    spec.write_text(text, encoding="utf-8")
    try:
        return check_spec(spec).warnings
    except SpecError as error:
        return error.diagnostics


def only(found: list[Diagnostic], code: str | None, needle: str = "") -> Diagnostic:
    """The one diagnostic with ``code`` (and ``needle`` in its message)."""
    matches = [d for d in found if d.code == code and needle in d.message]
    assert len(matches) == 1, "\n".join(d.format() for d in found)
    return matches[0]


def at(diagnostic: Diagnostic) -> tuple[int, int]:
    return (diagnostic.position.line, diagnostic.position.column)


# --- feature rules -----------------------------------------------------------------


def test_proxy_with_delete_is_an_error_at_delete(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  delete: true
  proxy:
    remote_url: https://registry-1.docker.io
""",
    )
    error = only(found, "RG507")
    assert (error.severity, at(error)) == (Severity.ERROR, (4, 11))


def test_replicas_without_http_secret_is_an_error_at_replicas(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  replicas: 2
""",
    )
    error = only(found, "RG509")
    assert (error.severity, at(error)) == (Severity.ERROR, (4, 13))
    assert "http_secret: {env: NAME}" in error.message


def test_replicas_with_http_secret_pass(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  replicas: 2
  http_secret: {env: REGISTRY_SECRET}
""",
    )
    assert [d for d in found if d.severity is Severity.ERROR] == []


HTPASSWD_USERS = """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  auth:
    htpasswd:
      users:
        {user}: {entry}
humpback:
  enabled: false
"""


@pytest.mark.parametrize(
    ("entry", "column"),
    [
        ("$apr1$5r3vlP8W$kFpHRZpF7Ce7ixLt2ZsB5/", 16),  # MD5, htpasswd's default
        ("'{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='", 16),  # htpasswd -s
        ("plaintext-password", 16),  # htpasswd -p
        ("$2y$05$tooshort", 16),  # a truncated bcrypt hash
    ],
    ids=["md5", "sha", "plain", "truncated-bcrypt"],
)
def test_non_bcrypt_inline_htpasswd_entry_is_an_error_at_the_entry(
    tmp_path: Path, entry: str, column: int
) -> None:
    found = diagnostics(tmp_path, HTPASSWD_USERS.format(user="alice", entry=entry))
    error = only(found, None, "not a bcrypt hash")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, column))
    assert error.message.startswith("registry.auth.htpasswd.users.alice:")
    assert "htpasswd -nbB" in error.message


def test_bcrypt_inline_htpasswd_entry_passes(tmp_path: Path) -> None:
    entry = "$2y$05$LO.vzwpWC5LZGqThvEfznu8qhb5SGqvBSWY1J3yZ4AxtMRZ3kZ5YC"
    found = diagnostics(tmp_path, HTPASSWD_USERS.format(user="alice", entry=entry))
    assert [d for d in found if d.severity is Severity.ERROR] == []


def test_humpback_enabled_with_auth_is_an_error_at_auth(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  auth:
    htpasswd:
      path: /etc/registry/htpasswd
""",
    )
    error = only(found, "RG506")
    assert (error.severity, at(error)) == (Severity.ERROR, (5, 5))
    assert "humpback.enabled: false" in error.message


def test_unversioned_image_tag_is_an_error_at_the_image(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:latest
""",
    )
    error = only(found, "RG513")
    assert (error.severity, at(error)) == (Severity.ERROR, (3, 10))
    assert "registry.version" in error.message


def test_unversioned_image_tag_passes_with_registry_version(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:latest
  version: '2.8.3'
""",
    )
    assert [d for d in found if d.severity is Severity.ERROR] == []


# --- TLS -----------------------------------------------------------------------


def test_tls_certificate_without_key_is_an_error_at_tls(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  tls:
    certificate: /etc/registry/tls/registry.crt
""",
    )
    error = only(found, "RG501")
    assert (error.severity, at(error)) == (Severity.ERROR, (5, 5))
    assert "add key" in error.message


def test_letsencrypt_without_cache_file_is_a_model_error(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: registry.example.com
  image: registry:2.8.2
  port: 443
  tls:
    letsencrypt:
      email: admin@example.com
""",
    )
    error = only(found, None, "missing required field 'cache_file'")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, 7))
    assert error.message.startswith("registry.tls.letsencrypt:")


LETSENCRYPT = """\
registry:
  server: registry.example.com
  image: registry:3.0.0
{port}  tls:
    letsencrypt:
      cache_file: /var/lib/registry-le/cache.json
      email: admin@example.com
"""


def test_letsencrypt_on_a_port_other_than_443_warns_at_the_port(
    tmp_path: Path,
) -> None:
    found = diagnostics(tmp_path, LETSENCRYPT.format(port="  port: 5000\n"))
    warning = only(found, "RG503")
    assert (warning.severity, at(warning)) == (Severity.WARNING, (4, 9))


def test_letsencrypt_on_the_default_port_warns_at_letsencrypt(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, LETSENCRYPT.format(port=""))
    warning = only(found, "RG503")
    assert (warning.severity, at(warning)) == (Severity.WARNING, (6, 7))


def test_letsencrypt_on_port_443_does_not_warn(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, LETSENCRYPT.format(port="  port: 443\n"))
    assert [d for d in found if d.code == "RG503"] == []


# --- registry.config: values ---------------------------------------------------


def test_duration_without_unit_in_config_is_an_error_at_the_value(
    tmp_path: Path,
) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    http: {draintimeout: 5}
""",
    )
    error = only(found, "RG525")
    assert (error.severity, at(error)) == (Severity.ERROR, (5, 26))
    assert "nanoseconds" in error.message and "'5s'" in error.message


def test_duration_in_days_in_config_is_an_error_at_the_value(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    storage:
      maintenance:
        uploadpurging:
          enabled: true
          age: 7d
""",
    )
    error = only(found, "RG525")
    assert (error.severity, at(error)) == (Severity.ERROR, (9, 16))
    assert "no 'd'" in error.message


def test_quoted_boolean_in_config_is_an_error_at_the_value(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    storage:
      delete:
        enabled: "true"
""",
    )
    error = only(found, "RG526")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, 18))


def test_storage_root_other_than_the_data_mount_is_an_error_at_the_value(
    tmp_path: Path,
) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    storage:
      filesystem:
        rootdirectory: /data
""",
    )
    error = only(found, "RG524")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, 24))
    assert "/var/lib/registry" in error.message


def test_secret_in_config_is_an_error_at_the_value(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    http:
      secret: written-into-config-yml
""",
    )
    error = only(found, "RG522")
    assert (error.severity, at(error)) == (Severity.ERROR, (6, 15))
    assert "registry.http_secret: {env: NAME}" in error.message
    # The secret itself is not echoed back into a terminal or a CI log.
    assert "written-into-config-yml" not in error.format()


# --- registry.config: keys -----------------------------------------------------

TYPO = """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    http: {adress: x}
"""


def test_unknown_key_in_config_is_an_error_on_its_line(tmp_path: Path) -> None:
    error = only(diagnostics(tmp_path, TYPO), "RG520")
    assert (error.severity, error.position.line) == (Severity.ERROR, 5)
    assert "'adress'" in error.message and "silently ignored" in error.message


def test_unknown_key_in_config_points_at_the_key(tmp_path: Path) -> None:
    error = only(diagnostics(tmp_path, TYPO), "RG520")
    assert at(error) == (5, 12)


def test_unknown_key_in_config_suggests_the_intended_key(tmp_path: Path) -> None:
    error = only(diagnostics(tmp_path, TYPO), "RG520")
    assert error.message.endswith("did you mean 'addr'?")


def test_managed_key_in_config_is_an_error(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    http: {addr: ':6000'}
""",
    )
    error = only(found, "RG523")
    assert "registry.port" in error.message


# --- versions ------------------------------------------------------------------


def test_proxy_ttl_with_registry_2_is_an_error_at_ttl(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  proxy:
    remote_url: https://registry-1.docker.io
    ttl: 168h
""",
    )
    error = only(found, "RG521")
    assert (error.severity, at(error)) == (Severity.ERROR, (6, 10))
    assert "3.0 or later" in error.message


def test_proxy_ttl_with_registry_3_passes(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:3.0.0
  proxy:
    remote_url: https://registry-1.docker.io
    ttl: 168h
""",
    )
    assert [d for d in found if d.severity is Severity.ERROR] == []


def test_tls_minimum_with_registry_2_5_is_an_error_at_minimum(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  tls:
    certificate: /etc/registry/tls/registry.crt
    key: /etc/registry/tls/registry.key
    minimum: tls1.2
""",
    )
    error = only(found, "RG504")
    assert (error.severity, at(error)) == (Severity.ERROR, (6, 14))
    assert "2.8 or later" in error.message and "2.5" in error.message


REGISTRY_3 = """\
registry:
  server: 192.168.1.10
  image: registry:3.0.0
  config:
{config}"""

# Keys registry 3.0 no longer reads, in flow style (key and value on one line)
# and block style (the value starts on the next line), with where the key is.
DROPPED_IN_3 = [
    ("    compatibility: {schema1: {enabled: true}}\n", (5, 5), "compatibility"),
    ("    storage: {oss: {bucket: images}}\n", (5, 15), "storage.oss"),
    ("    redis: {addr: 'localhost:6379'}\n", (5, 13), "redis.addr"),
]
DROPPED_IN_3_BLOCK = [
    ("    compatibility:\n      schema1:\n        enabled: true\n", (5, 5)),
    ("    storage:\n      oss:\n        bucket: images\n", (6, 7)),
    ("    redis:\n      addr: localhost:6379\n", (6, 7)),
]


@pytest.mark.parametrize(
    ("config", "key_at", "dotted"),
    DROPPED_IN_3,
    ids=[d for _, _, d in DROPPED_IN_3],
)
def test_key_dropped_in_registry_3_is_an_error_on_its_line(
    tmp_path: Path, config: str, key_at: tuple[int, int], dotted: str
) -> None:
    error = only(diagnostics(tmp_path, REGISTRY_3.format(config=config)), "RG521")
    assert (error.severity, error.position.line) == (Severity.ERROR, key_at[0])
    assert f"no longer reads {dotted}" in error.message


@pytest.mark.parametrize(
    ("config", "key_at"),
    DROPPED_IN_3_BLOCK,
    ids=["compatibility", "storage.oss", "redis.addr"],
)
def test_key_dropped_in_registry_3_points_at_the_key(
    tmp_path: Path, config: str, key_at: tuple[int, int]
) -> None:
    error = only(diagnostics(tmp_path, REGISTRY_3.format(config=config)), "RG521")
    assert at(error) == key_at


def test_redis_addrs_of_registry_3_is_an_error_with_registry_2(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
    redis: {addrs: ['localhost:6379']}
""",
    )
    error = only(found, "RG521")
    assert error.position.line == 5
    assert "3.0 or later" in error.message


# Keys that the 2.8.2 binary does not read: its struct tags and its storage
# parameter names do not contain them (`strings /usr/bin/docker-registry`).
NOT_IN_2_8 = [
    "    http: {tls: {letsencrypt: {directoryurl: 'https://acme.example.com/dir'}}}\n",
    "    storage: {cache: {blobdescriptorsize: 10000}}\n",
]


@pytest.mark.parametrize(
    "config", NOT_IN_2_8, ids=["letsencrypt.directoryurl", "blobdescriptorsize"]
)
def test_key_of_registry_3_only_is_an_error_with_registry_2_8(
    tmp_path: Path, config: str
) -> None:
    text = REGISTRY_3.replace("registry:3.0.0", "registry:2.8.2").format(config=config)
    error = only(diagnostics(tmp_path, text), "RG521")
    assert error.position.line == 5


# --- registry.config: keys a spec field owns, sections, values ---------------

CONFIG_2_8 = """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  config:
{config}"""


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ("    storage: {delete: {enabled: true}}\n", "registry.delete: true"),
        ("    storage: {s3: {bucket: images}}\n", "registry.storage.s3.bucket"),
        ("    http: {tls: {certificate: /c.crt, key: /c.key}}\n", "registry.tls"),
        ("    http: {debug: {addr: ':6000'}}\n", "registry.metrics"),
        ("    auth: {htpasswd: {realm: r, path: /h}}\n", "registry.auth.htpasswd"),
        ("    proxy: {remoteurl: 'https://registry-1.docker.io'}\n", "registry.proxy"),
        ("    log: {level: warn}\n", "registry.log_level"),
    ],
    ids=["delete", "s3", "tls", "debug", "htpasswd", "proxy", "log.level"],
)
def test_a_key_a_spec_field_owns_is_an_error_at_the_key_naming_the_field(
    tmp_path: Path, config: str, field: str
) -> None:
    found = diagnostics(tmp_path, CONFIG_2_8.format(config=config))
    error = only(found, "RG528")
    assert error.severity is Severity.ERROR
    assert error.position.line == 5
    assert field in error.message


def test_a_secret_under_a_driver_regc_does_not_know_is_an_error(
    tmp_path: Path,
) -> None:
    config = "    storage: {azure: {accountname: a, accountkey: SUPERSECRET}}\n"
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG522")
    assert error.position.line == 5
    assert "storage.azure.accountkey" in error.message


def test_the_s3_drivers_other_parameters_pass(tmp_path: Path) -> None:
    text = """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  storage:
    driver: s3
    s3: {bucket: images, region: us-east-1}
  config:
    storage: {s3: {v4auth: true, chunksize: 10485760, storageclass: STANDARD}}
"""
    found = diagnostics(tmp_path, text)
    assert [d for d in found if d.severity is Severity.ERROR] == []


def test_a_path_to_a_key_file_is_no_secret(tmp_path: Path) -> None:
    config = """\
    middleware:
      storage:
        - name: cloudfront
          options:
            baseurl: https://d111111abcdef8.cloudfront.net/
            privatekey: /etc/docker/cloudfront/pk-ABCEDFGHIJKLMNOPQRST.pem
            keypairid: ABCEDFGHIJKLMNOPQRST
"""
    found = diagnostics(tmp_path, CONFIG_2_8.format(config=config))
    assert [d for d in found if d.code == "RG522"] == []


def test_the_oss_drivers_key_secret_is_an_error(tmp_path: Path) -> None:
    config = "    storage: {oss: {accesskeyid: a, accesskeysecret: SUPERSECRET}}\n"
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG522")
    assert "storage.oss.accesskeysecret" in error.message


def test_a_token_in_notification_headers_is_an_error(tmp_path: Path) -> None:
    config = """\
    notifications:
      endpoints:
        - name: hook
          url: https://hooks.example.com/registry
          headers:
            Authorization: [Bearer SUPERSECRET]
"""
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG522")
    assert (error.severity, at(error)) == (Severity.ERROR, (10, 28))


def test_null_in_place_of_the_http_section_is_an_error(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, CONFIG_2_8.format(config="    http: null\n"))
    error = only(found, "RG529")
    assert (error.severity, at(error)) == (Severity.ERROR, (5, 11))


def test_a_scalar_in_place_of_a_generated_section_is_an_error(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, CONFIG_2_8.format(config="    log: {fields: x}\n"))
    error = only(found, "RG529")
    assert at(error) == (5, 19)
    assert "(service)" in error.message


@pytest.mark.parametrize(
    "config",
    ["    log: {formatter: xml}\n", "    storage: {cache: {blobdescriptor: disk}}\n"],
    ids=["formatter", "blobdescriptor"],
)
def test_a_value_the_registry_refuses_is_an_error_listing_the_choices(
    tmp_path: Path, config: str
) -> None:
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG530")
    assert error.position.line == 5
    assert "write one of" in error.message


def test_a_header_that_is_not_a_list_is_an_error_at_the_header(
    tmp_path: Path,
) -> None:
    config = "    http: {headers: {X-Frame-Options: DENY}}\n"
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG530")
    assert at(error) == (5, 39)
    assert "X-Frame-Options: ['value']" in error.message


def test_a_health_interval_without_unit_is_an_error(tmp_path: Path) -> None:
    config = "    health: {storagedriver: {interval: 10}}\n"
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG525")
    assert error.position.line == 5


def test_a_redis_cache_without_a_redis_address_is_an_error(tmp_path: Path) -> None:
    config = "    storage: {cache: {blobdescriptor: redis}}\n"
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG531")
    assert "redis.addr" in error.message


def test_a_redis_cache_with_a_redis_address_passes(tmp_path: Path) -> None:
    config = (
        "    storage: {cache: {blobdescriptor: redis}}\n"
        "    redis: {addr: 'redis.example.com:6379'}\n"
    )
    found = diagnostics(tmp_path, CONFIG_2_8.format(config=config))
    assert [d for d in found if d.severity is Severity.ERROR] == []


def test_the_storage_root_with_a_trailing_slash_is_the_data_mount(
    tmp_path: Path,
) -> None:
    config = "    storage: {filesystem: {rootdirectory: /var/lib/registry/}}\n"
    found = diagnostics(tmp_path, CONFIG_2_8.format(config=config))
    assert [d for d in found if d.code == "RG524"] == []


def test_token_auth_in_config_with_humpback_is_an_error_at_auth(
    tmp_path: Path,
) -> None:
    config = """\
    auth:
      token: {realm: 'https://auth.example.com/token', service: registry,
              issuer: auth, rootcertbundle: /certs/bundle.pem}
"""
    error = only(diagnostics(tmp_path, CONFIG_2_8.format(config=config)), "RG506")
    assert at(error) == (5, 5)


# --- Let's Encrypt, versions, replicas ------------------------------------------


def test_letsencrypt_with_registry_2_is_an_error(tmp_path: Path) -> None:
    text = LETSENCRYPT.replace("registry:3.0.0", "registry:2.8.3").format(
        port="  port: 443\n"
    )
    error = only(diagnostics(tmp_path, text), "RG532")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, 7))
    assert "ACMEv1" in error.message and "registry:3" in error.message


@pytest.mark.parametrize(
    ("cache_file", "reason"),
    [
        ("/le.json", "system folder"),
        ("/etc/docker/registry/le.json", "config_path"),
        ("/var/lib/registry/le.json", "data_dir"),
    ],
)
def test_a_letsencrypt_cache_beside_other_files_is_an_error(
    tmp_path: Path, cache_file: str, reason: str
) -> None:
    text = LETSENCRYPT.format(port="  port: 443\n").replace(
        "/var/lib/registry-le/cache.json", cache_file
    )
    error = only(diagnostics(tmp_path, text), "RG533")
    assert (error.severity, at(error)) == (Severity.ERROR, (7, 19))
    assert reason in error.message


def test_a_version_that_disagrees_with_the_image_tag_is_an_error(
    tmp_path: Path,
) -> None:
    found = diagnostics(
        tmp_path,
        """\
registry:
  server: 192.168.1.10
  image: registry:3.0.0
  version: "2.8.3"
""",
    )
    error = only(found, "RG518")
    assert (error.severity, at(error)) == (Severity.ERROR, (4, 12))


REPLICAS = """\
registry:
  server: 192.168.1.10
  image: registry:2.8.2
  replicas: 2
  http_secret: {{env: REGISTRY_SECRET}}
{more}"""


def test_replicas_on_inmemory_storage_are_an_error(tmp_path: Path) -> None:
    text = REPLICAS.format(more="  storage: {driver: inmemory}\n")
    error = only(diagnostics(tmp_path, text), "RG519")
    assert (error.severity, at(error)) == (Severity.ERROR, (4, 13))


def test_replicas_on_filesystem_storage_warn_that_it_must_be_shared(
    tmp_path: Path,
) -> None:
    warning = only(diagnostics(tmp_path, REPLICAS.format(more="")), "RG519")
    assert (warning.severity, at(warning)) == (Severity.WARNING, (4, 13))
    assert "shared file system" in warning.message


def test_replicas_with_delete_warn_that_gc_stops_one(tmp_path: Path) -> None:
    text = REPLICAS.format(more="  delete: true\n")
    warning = only(diagnostics(tmp_path, text), "RG519", "gc.sh")
    assert (warning.severity, at(warning)) == (Severity.WARNING, (6, 11))


# --- the other feature rules, one row each -----------------------------------

RULES = [
    (
        "RG502",
        Severity.ERROR,
        "  image: registry:3.0.0\n  port: 443\n  tls:\n"
        "    certificate: /c.crt\n    key: /c.key\n"
        "    letsencrypt: {cache_file: /var/lib/le/cache.json, email: a@b.c}\n",
        (8, 18),
    ),
    (
        "RG508",
        Severity.WARNING,
        "  proxy: {remote_url: 'https://registry-1.docker.io'}\n",
        (3, 10),
    ),
    ("RG510", Severity.ERROR, "  storage: {driver: s3}\n", (3, 21)),
    (
        "RG510",
        Severity.ERROR,
        "  storage: {s3: {bucket: images, region: us-east-1}}\n",
        (3, 17),
    ),
    ("RG511", Severity.WARNING, "  storage: {driver: inmemory}\n", (3, 21)),
    (
        "RG512",
        Severity.ERROR,
        "  image: registry:2.6.2\n  metrics: {enabled: true}\n",
        (4, 22),
    ),
    ("RG514", Severity.WARNING, "  image: registry:2.6.2\n  delete: true\n", (4, 11)),
    (
        "RG515",
        Severity.WARNING,
        "  tls: {certificate: /c.crt, key: /c.key, ca: /ca.crt}\n",
        (3, 47),
    ),
    (
        "RG516",
        Severity.WARNING,
        "  storage: {driver: inmemory}\n  data_dir: /srv\n",
        (4, 13),
    ),
    (
        "RG527",
        Severity.ERROR,
        "  config: {storage: {gcs: {bucket: b}}}\n",
        (3, 21),
    ),
    (
        "RG534",
        Severity.ERROR,
        "  image: registry:2.8.3\n  port: 5001\n  metrics: {enabled: true}\n",
        (5, 12),
    ),
    (
        "RG535",
        Severity.ERROR,
        "  config_path: /var/lib/registry/config.yml\n",
        (3, 16),
    ),
]


@pytest.mark.parametrize(
    ("code", "severity", "fields", "where"),
    RULES,
    ids=[f"{row[0]}-{index}" for index, row in enumerate(RULES)],
)
def test_each_feature_rule_fires_at_its_node(
    tmp_path: Path,
    code: str,
    severity: Severity,
    fields: str,
    where: tuple[int, int],
) -> None:
    text = "registry:\n  server: registry.example.com\n" + fields
    text += "humpback: {enabled: false}\n"
    found = only(diagnostics(tmp_path, text), code)
    assert (found.severity, at(found)) == (severity, where)
