"""The registry's config dialect: versions, known keys, and what cannot work.

Facts behind the rules are in shared/facts/registry.md.  The registry's own
parser ignores unknown keys silently, so the checks here are the only
protection against a typo in ``registry.config``; keys that a registry
version does not know, durations without units and quoted booleans are
refused at the spec's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import values
from .diagnostics import Severity
from .findings import Finding
from .load import Path_
from .spec import Registry, Spec
from .suggest import nearest

Version = tuple[int, int]

# Where the registry listens and keeps its data inside its container.
CONTAINER_PORT = 5000
CONTAINER_DEBUG_PORT = 5001
CONTAINER_DATA_DIR = "/var/lib/registry"
CONTAINER_CERT = "/etc/regc/tls/registry.crt"
CONTAINER_KEY = "/etc/regc/tls/registry.key"
CONTAINER_LETSENCRYPT_DIR = "/var/lib/regc-letsencrypt"
CONTAINER_HTPASSWD = "/etc/regc/auth/htpasswd"
# Where the official image reads its config, by major version.
CONTAINER_CONFIG_PATH = {
    2: "/etc/docker/registry/config.yml",
    3: "/etc/distribution/config.yml",
}

# What Humpback's registry browser sends; see facts/humpback.md.
CORS_METHODS = ["HEAD", "GET", "OPTIONS", "DELETE"]
CORS_HEADERS = ["Authorization", "Accept", "Content-Type", "Origin"]
CORS_EXPOSE = ["Docker-Content-Digest"]

# A subtree whose keys regc does not check (driver parameters, headers...).
OPEN = "open"
# The config.yml keys of registry 2.5 to 3.1 (configuration/configuration.go).
KNOWN: dict[str, Any] = {
    "version": None,
    "loglevel": None,
    "log": {
        "accesslog": {"disabled": None},
        "level": None,
        "formatter": None,
        "fields": OPEN,
        "hooks": OPEN,
        "reportcaller": None,
    },
    "storage": {
        "filesystem": OPEN,
        "inmemory": OPEN,
        # Keys the spec's s3 fields set are owned (OWNED, SECRETS); the
        # driver's other parameters (v4auth, chunksize, ...) pass.
        "s3": {
            "bucket": None,
            "region": None,
            "regionendpoint": None,
            "rootdirectory": None,
            "secure": None,
            "accesskey": None,
            "secretkey": None,
            "*": None,
        },
        "swift": OPEN,
        "gcs": OPEN,
        "azure": OPEN,
        "oss": OPEN,
        "delete": {"enabled": None},
        "redirect": {"disable": None},
        "cache": {"blobdescriptor": None, "blobdescriptorsize": None},
        "maintenance": {
            "uploadpurging": {
                "enabled": None,
                "age": None,
                "interval": None,
                "dryrun": None,
            },
            "readonly": {"enabled": None},
        },
        "tag": {"concurrencylimit": None},
    },
    "auth": {"silly": OPEN, "token": OPEN, "htpasswd": {"realm": None, "path": None}},
    "middleware": OPEN,
    "reporting": OPEN,
    "http": {
        "addr": None,
        "net": None,
        "host": None,
        "prefix": None,
        "secret": None,
        "relativeurls": None,
        "draintimeout": None,
        "tls": {
            "certificate": None,
            "key": None,
            "clientcas": None,
            "clientauth": None,
            "minimumtls": None,
            "ciphersuites": None,
            "letsencrypt": {
                "cachefile": None,
                "email": None,
                "hosts": None,
                "directoryurl": None,
            },
        },
        "headers": OPEN,
        "debug": {"addr": None, "prometheus": {"enabled": None, "path": None}},
        "http2": {"disabled": None},
        "h2c": {"enabled": None},
    },
    "notifications": OPEN,
    "redis": {
        "addr": None,
        "addrs": None,
        "password": None,
        "db": None,
        "dialtimeout": None,
        "readtimeout": None,
        "writetimeout": None,
        "pool": OPEN,
        "tls": OPEN,
        "*": None,
    },
    "health": {
        "storagedriver": {"enabled": None, "interval": None, "threshold": None},
        "file": OPEN,
        "http": OPEN,
        "tcp": OPEN,
    },
    "proxy": {"remoteurl": None, "username": None, "password": None, "ttl": None},
    "compatibility": OPEN,
    "validation": {"enabled": None, "disabled": None, "manifests": OPEN},
    "policy": OPEN,
    "catalog": {"maxentries": None},
    "tags": {"maxtags": None},
}
# Keys that exist only from (or up to) a version; the rest exist in all.
FIRST: dict[tuple[str, ...], Version] = {
    ("log", "accesslog"): (2, 6),
    ("http", "http2"): (2, 6),
    ("validation",): (2, 6),
    ("policy",): (2, 6),
    ("http", "draintimeout"): (2, 7),
    ("http", "tls", "letsencrypt", "hosts"): (2, 7),
    ("http", "debug", "prometheus"): (2, 7),
    ("http", "tls", "minimumtls"): (2, 8),
    ("http", "tls", "ciphersuites"): (2, 8),
    ("catalog",): (2, 8),
    ("proxy", "ttl"): (3, 0),
    ("http", "h2c"): (3, 0),
    ("http", "tls", "clientauth"): (3, 0),
    ("storage", "tag"): (3, 0),
    ("redis", "addrs"): (3, 0),
    ("log", "reportcaller"): (3, 0),
    ("http", "tls", "letsencrypt", "directoryurl"): (3, 0),
    ("storage", "cache", "blobdescriptorsize"): (3, 0),
    ("tags",): (3, 1),
}
LAST: dict[tuple[str, ...], Version] = {
    ("loglevel",): (2, 99),
    ("storage", "oss"): (2, 99),
    ("storage", "swift"): (2, 99),
    ("compatibility",): (2, 99),
    ("reporting",): (2, 99),
    ("redis", "addr"): (2, 99),
    ("redis", "pool"): (2, 99),
}
DRIVERS = {"filesystem", "inmemory", "s3", "swift", "gcs", "azure", "oss"}
# Go durations: a bare number is nanoseconds, "7d" a panic.
DURATIONS = {
    ("http", "draintimeout"),
    ("storage", "maintenance", "uploadpurging", "age"),
    ("storage", "maintenance", "uploadpurging", "interval"),
    ("proxy", "ttl"),
    ("health", "storagedriver", "interval"),
    ("redis", "dialtimeout"),
    ("redis", "readtimeout"),
    ("redis", "writetimeout"),
}
BOOLEANS = {
    ("log", "accesslog", "disabled"),
    ("storage", "delete", "enabled"),
    ("storage", "redirect", "disable"),
    ("storage", "maintenance", "uploadpurging", "enabled"),
    ("storage", "maintenance", "uploadpurging", "dryrun"),
    ("storage", "maintenance", "readonly", "enabled"),
    ("health", "storagedriver", "enabled"),
    ("http", "relativeurls"),
    ("http", "http2", "disabled"),
    ("http", "h2c", "enabled"),
    ("http", "debug", "prometheus", "enabled"),
    ("validation", "enabled"),
    ("validation", "disabled"),
}
# Keys regc writes itself and that must agree with run.sh, or hold secrets.
MANAGED = {
    ("version",): "regc writes version '0.1', the only one the registry reads",
    ("http", "addr"): (
        "regc sets http.addr to the container port that run.sh publishes: "
        "change registry.port instead"
    ),
}
# Keys a spec field owns: given in registry.config they would change
# config.yml behind the back of run.sh, verify.sh, the host files and the
# lint rules, which all follow the spec field.
OWNED = {
    ("loglevel",): "registry.log_level",
    ("log", "level"): "registry.log_level",
    ("storage", "delete"): "registry.delete: true",
    ("storage", "s3", "bucket"): "registry.storage.s3.bucket",
    ("storage", "s3", "region"): "registry.storage.s3.region",
    ("storage", "s3", "regionendpoint"): "registry.storage.s3.region_endpoint",
    ("storage", "s3", "rootdirectory"): "registry.storage.s3.root_directory",
    ("storage", "s3", "secure"): "registry.storage.s3.secure",
    ("storage", "inmemory"): "registry.storage.driver: inmemory",
    ("http", "tls"): "registry.tls",
    ("http", "debug"): "registry.metrics",
    ("auth", "htpasswd"): "registry.auth.htpasswd",
    ("proxy",): "registry.proxy",
}
# Parameter names that hold a secret wherever they stand (driver settings,
# notification headers, reporting keys), matched without regard to case.
SECRET_NAMES = {
    "accesskey",
    "accesskeysecret",
    "accountkey",
    "apikey",
    "authorization",
    "licensekey",
    "password",
    "secret",
    "secretkey",
    "sessiontoken",
}
# RG506, for auth given by the spec's field or through registry.config.
HUMPBACK_CANNOT_LOG_IN = (
    "Humpback 1.x cannot log in to a registry: its Hub pages and its agents "
    "read anonymously. Set humpback.enabled: false, or remove auth"
)
# Values the registry refuses at start-up for these keys.
CHOICES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("log", "formatter"): ("text", "json", "logstash"),
    ("storage", "cache", "blobdescriptor"): ("inmemory", "redis"),
}
SECRETS = {
    ("http", "secret"): "registry.http_secret: {env: NAME}",
    ("storage", "s3", "accesskey"): "registry.storage.s3.access_key: {env: NAME}",
    ("storage", "s3", "secretkey"): "registry.storage.s3.secret_key: {env: NAME}",
    ("proxy", "password"): "registry.proxy.password: {env: NAME}",
    ("proxy", "username"): "registry.proxy.username: {env: NAME}",
    ("redis", "password"): "an environment variable REGISTRY_REDIS_PASSWORD",
}


def _parse(text: str) -> Version | None:
    match = re.match(r"^v?([0-9]+)(?:\.([0-9]+))?", text)
    if not match or match.group(1) not in ("2", "3"):
        return None
    minor = int(match.group(2)) if match.group(2) else 99
    return (int(match.group(1)), minor)


def version_of(registry: Registry) -> Version | None:
    """The registry version: ``registry.version``, else the image tag."""
    if registry.version is not None:
        return _parse(registry.version)
    return _parse(values.image_tag(registry.image) or "")


def version_text(version: Version) -> str:
    major, minor = version
    return f"{major}.x" if minor == 99 else f"{major}.{minor}"


def _cors_origins(spec: Spec) -> list[str]:
    if spec.registry.cors.allow_origins is not None:
        return list(spec.registry.cors.allow_origins)
    if spec.humpback.url is not None:
        return [spec.humpback.url]
    return ["*"]


def _storage(registry: Registry) -> dict[str, Any]:
    storage = registry.storage
    section: dict[str, Any]
    if storage.driver == "s3" and storage.s3 is not None:
        s3 = storage.s3
        params: dict[str, Any] = {"region": s3.region, "bucket": s3.bucket}
        if s3.region_endpoint is not None:
            params["regionendpoint"] = s3.region_endpoint
        if s3.root_directory is not None:
            params["rootdirectory"] = s3.root_directory
        params["secure"] = s3.secure
        section = {"s3": params}
    elif storage.driver == "inmemory":
        section = {"inmemory": {}}
    else:
        section = {"filesystem": {"rootdirectory": CONTAINER_DATA_DIR}}
    section["cache"] = {"blobdescriptor": "inmemory"}
    if registry.delete:
        section["delete"] = {"enabled": True}
    return section


def _tls(registry: Registry, version: Version) -> dict[str, Any] | None:
    tls = registry.tls
    if tls is None:
        return None
    section: dict[str, Any] = {}
    if tls.letsencrypt is not None:
        name = tls.letsencrypt.cache_file.rsplit("/", 1)[1]
        encrypt: dict[str, Any] = {
            "cachefile": f"{CONTAINER_LETSENCRYPT_DIR}/{name}",
            "email": tls.letsencrypt.email,
        }
        if tls.letsencrypt.hosts:
            encrypt["hosts"] = list(tls.letsencrypt.hosts)
        section["letsencrypt"] = encrypt
    else:
        section["certificate"] = CONTAINER_CERT
        section["key"] = CONTAINER_KEY
    if tls.minimum is not None:
        section["minimumtls"] = tls.minimum
    return section


def base_config(spec: Spec, version: Version) -> dict[str, Any]:
    """config.yml as data from the spec's fields, before registry.config."""
    registry = spec.registry
    headers: dict[str, list[str]] = {"X-Content-Type-Options": ["nosniff"]}
    if registry.cors.enabled:
        headers.update(
            {
                "Access-Control-Allow-Origin": _cors_origins(spec),
                "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_HEADERS,
                "Access-Control-Expose-Headers": CORS_EXPOSE,
            }
        )
    http: dict[str, Any] = {"addr": f":{CONTAINER_PORT}", "headers": headers}
    tls = _tls(registry, version)
    if tls is not None:
        http["tls"] = tls
    if registry.metrics.enabled:
        http["debug"] = {
            "addr": f":{CONTAINER_DEBUG_PORT}",
            "prometheus": {"enabled": True, "path": "/metrics"},
        }

    config: dict[str, Any] = {
        # The registry refuses anything but the string "0.1".
        "version": "0.1",
        "log": {"level": registry.log_level, "fields": {"service": "registry"}},
        "storage": _storage(registry),
        "http": http,
    }
    if registry.auth is not None:
        config["auth"] = {
            "htpasswd": {
                "realm": registry.auth.htpasswd.realm,
                "path": CONTAINER_HTPASSWD,
            }
        }
    if registry.proxy is not None:
        proxy: dict[str, Any] = {"remoteurl": registry.proxy.remote_url}
        if registry.proxy.ttl is not None:
            proxy["ttl"] = registry.proxy.ttl
        config["proxy"] = proxy
    if registry.storage.driver == "filesystem":
        config["health"] = {
            "storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}
        }
    return config


def build_config(spec: Spec, version: Version) -> dict[str, Any]:
    """config.yml as data: the spec's features, then registry.config merged."""
    return deep_merge(base_config(spec, version), spec.registry.config)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in: mappings recursively, the rest replaced."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _known_children(tree: Any) -> dict[str, Any] | None:
    return tree if isinstance(tree, dict) else None


def _check_key(
    key_path: tuple[str, ...], version: Version, where: Path_
) -> Iterator[Finding]:
    first = FIRST.get(key_path)
    last = LAST.get(key_path)
    dotted = ".".join(key_path)
    if first is not None and version < first:
        yield Finding(
            where,
            Severity.ERROR,
            "RG521",
            f"{dotted} needs registry {version_text(first)} or later; this spec "
            f"runs {version_text(version)}: remove it or use a newer image",
            at_key=True,
        )
    if last is not None and version > last:
        yield Finding(
            where,
            Severity.ERROR,
            "RG521",
            f"registry {version_text(version)} no longer reads {dotted} "
            "(removed in 3.0): remove it",
            at_key=True,
        )
    if key_path in MANAGED:
        yield Finding(where, Severity.ERROR, "RG523", f"{dotted}: {MANAGED[key_path]}")
    if key_path in OWNED:
        yield Finding(
            where,
            Severity.ERROR,
            "RG528",
            f"{dotted} is set by {OWNED[key_path]}: use that field, so that "
            "run.sh, verify.sh and the host files follow it",
            at_key=True,
        )
    if key_path in SECRETS:
        yield Finding(
            where,
            Severity.ERROR,
            "RG522",
            f"{dotted} would write a secret into config.yml: use "
            f"{SECRETS[key_path]} instead",
        )


def _check_value(
    key_path: tuple[str, ...], value: Any, where: Path_
) -> Iterator[Finding]:
    dotted = ".".join(key_path)
    if key_path in DURATIONS:
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield Finding(
                where,
                Severity.ERROR,
                "RG525",
                f"{dotted}: {value} has no unit and would mean nanoseconds: "
                f"write '{value}s', '{value}m' or '{value}h'",
            )
        elif isinstance(value, str) and not re.fullmatch(
            r"([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+", value
        ):
            yield Finding(
                where,
                Severity.ERROR,
                "RG525",
                f"{dotted}: '{value}' is not a Go duration: write a number "
                "with a unit, such as '30s' or '168h' (there is no 'd')",
            )
    choices = CHOICES.get(key_path)
    if choices is not None and value not in choices:
        yield Finding(
            where,
            Severity.ERROR,
            "RG530",
            f"{dotted}: the registry refuses {value!r}: write one of "
            f"{', '.join(choices)}",
        )
    if key_path == ("http", "headers") and isinstance(value, dict):
        for name, header in value.items():
            if not isinstance(header, list) or not all(
                isinstance(item, str) for item in header
            ):
                yield Finding(
                    (*where, name),
                    Severity.ERROR,
                    "RG530",
                    f"{dotted}.{name}: the registry reads each header as a "
                    f"list of strings: write {name}: ['value']",
                )
    if key_path in BOOLEANS and not isinstance(value, bool):
        yield Finding(
            where,
            Severity.ERROR,
            "RG526",
            f"{dotted}: must be true or false without quotes; the registry "
            f"refuses {value!r}",
        )


def check_config(
    extra: dict[str, Any], version: Version, base: Path_ = ("registry", "config")
) -> Iterator[Finding]:
    """Every key of ``registry.config`` checked against the version's keys."""
    yield from _walk(extra, KNOWN, (), version, base)


def _walk(
    node: dict[str, Any],
    tree: dict[str, Any],
    key_path: tuple[str, ...],
    version: Version,
    base: Path_,
) -> Iterator[Finding]:
    for key, value in node.items():
        path = (*key_path, key)
        where = (*base, *path)
        if key not in tree and "*" not in tree:
            close = nearest(key, (name for name in tree if name != "*"))
            hint = f": did you mean '{close}'?" if close else ""
            place = ".".join(key_path) or "the top level of config.yml"
            yield Finding(
                where,
                Severity.ERROR,
                "RG520",
                f"'{key}' is not a key the registry reads in {place} (it "
                f"would be silently ignored){hint}",
                at_key=True,
            )
            continue
        yield from _check_key(path, version, where)
        yield from _check_value(path, value, where)
        children = _known_children(tree.get(key))
        if children is not None and not isinstance(value, dict):
            yield Finding(
                where,
                Severity.ERROR,
                "RG529",
                f"{'.'.join(path)} is a section of keys in config.yml: write "
                "a mapping, such as {key: value}",
            )
        elif children is not None:
            yield from _walk(value, children, path, version, base)
        elif tree.get(key) == OPEN:
            yield from _secrets_in(value, path, base)


def _is_secret(key: str | int, value: Any) -> bool:
    """A value (or list of values, as headers are) under a secret's name.

    An absolute path names a file that holds the secret, which is no secret.
    """
    if not isinstance(key, str) or key.lower() not in SECRET_NAMES or not value:
        return False
    scalars = value if isinstance(value, list) else [value]
    return not any(
        isinstance(item, dict | list)
        or (isinstance(item, str) and re.fullmatch(values.PATH_PATTERN, item))
        for item in scalars
    )


def _secrets_in(node: Any, key_path: Path_, base: Path_) -> Iterator[Finding]:
    """A secret-looking parameter anywhere under a subtree regc does not know."""
    items: list[tuple[str | int, Any]]
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return
    for key, value in items:
        path = (*key_path, key)
        if not _is_secret(key, value):
            yield from _secrets_in(value, path, base)
            continue
        dotted = ".".join(str(part) for part in path)
        instead = SECRETS.get(tuple(str(part) for part in path))
        hint = f"use {instead} instead" if instead else "remove it"
        yield Finding(
            (*base, *path),
            Severity.ERROR,
            "RG522",
            f"{dotted} would write a secret into config.yml, which is "
            f"committed with the other artifacts: {hint}",
        )


def _tls_findings(spec: Spec, version: Version) -> Iterator[Finding]:
    tls = spec.registry.tls
    if tls is None:
        return
    where: Path_ = ("registry", "tls")
    has_files = tls.certificate is not None or tls.key is not None
    if tls.letsencrypt is None and (tls.certificate is None or tls.key is None):
        missing = "key" if tls.certificate is not None else "certificate"
        yield Finding(
            where,
            Severity.ERROR,
            "RG501",
            f"TLS needs both certificate and key: add {missing} (or use letsencrypt)",
        )
    if tls.letsencrypt is not None and has_files:
        yield Finding(
            (*where, "letsencrypt"),
            Severity.ERROR,
            "RG502",
            "give either certificate and key or letsencrypt, not both",
        )
    if tls.letsencrypt is not None and spec.registry.port != 443:
        port_given = "port" in spec.registry.model_fields_set
        yield Finding(
            ("registry", "port") if port_given else (*where, "letsencrypt"),
            Severity.WARNING,
            "RG503",
            "Let's Encrypt checks the host on port 443: publish the registry "
            "on port 443 or certificates will not be issued",
        )
    if tls.letsencrypt is not None:
        yield from _letsencrypt_findings(spec, version)
    if tls.minimum is not None and version < (2, 8):
        yield Finding(
            (*where, "minimum"),
            Severity.ERROR,
            "RG504",
            f"tls.minimum needs registry 2.8 or later; this spec runs "
            f"{version_text(version)}",
        )
    if tls.letsencrypt is not None and tls.letsencrypt.hosts and version < (2, 7):
        yield Finding(
            (*where, "letsencrypt", "hosts"),
            Severity.ERROR,
            "RG504",
            f"letsencrypt.hosts needs registry 2.7 or later; this spec runs "
            f"{version_text(version)}",
        )
    if tls.ca is not None:
        yield Finding(
            (*where, "ca"),
            Severity.WARNING,
            "RG515",
            "a private CA signed the registry's certificate: every Docker host "
            "must trust it (APPLY.md copies it to /etc/docker/certs.d/"
            "HOST:PORT/ca.crt), and so must the browsers that open Humpback",
        )


def _letsencrypt_findings(spec: Spec, version: Version) -> Iterator[Finding]:
    registry = spec.registry
    assert registry.tls is not None and registry.tls.letsencrypt is not None
    where: Path_ = ("registry", "tls", "letsencrypt")
    if version < (3, 0):
        yield Finding(
            where,
            Severity.ERROR,
            "RG532",
            f"registry {version_text(version)} asks Let's Encrypt for "
            "certificates over ACMEv1, which Let's Encrypt turned off in 2021 "
            "(distribution/distribution#3041): use registry 3 (image: "
            "registry:3.0.0), or give certificate and key",
        )
    cache_file = registry.tls.letsencrypt.cache_file
    folder = cache_file.rsplit("/", 1)[0] or "/"
    others = {
        "config_path": registry.config_path,
        "data_dir": registry.data_dir,
    }
    if registry.auth is not None:
        others["auth.htpasswd.path"] = registry.auth.htpasswd.path
    shared = sorted(name for name, path in others.items() if _within(path, folder))
    if folder.count("/") < 2 or shared:
        reason = (
            "it is a system folder"
            if folder.count("/") < 2
            else f"it also holds {', '.join(shared)}"
        )
        yield Finding(
            (*where, "cache_file"),
            Severity.ERROR,
            "RG533",
            f"run.sh mounts the folder of cache_file, {folder}, writable into "
            f"the container, and {reason}: keep the cache in a folder of its "
            "own, such as /var/lib/registry-letsencrypt/cache.json",
        )


def _within(path: str, folder: str) -> bool:
    """Whether the absolute ``path`` is ``folder`` or lies below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _version_findings(spec: Spec) -> Iterator[Finding]:
    registry = spec.registry
    if registry.version is None:
        return
    tagged = _parse(values.image_tag(registry.image) or "")
    given = _parse(registry.version)
    if tagged is not None and given is not None and tagged[0] != given[0]:
        yield Finding(
            ("registry", "version"),
            Severity.ERROR,
            "RG518",
            f"version {registry.version} disagrees with the image tag "
            f"({registry.image}): regc would write a {given[0]}.x config at "
            f"the {given[0]}.x path, which a {tagged[0]}.x image ignores; "
            "remove version or make it agree",
        )


def _replica_findings(spec: Spec) -> Iterator[Finding]:
    registry = spec.registry
    if registry.replicas < 2:
        return
    where: Path_ = ("registry", "replicas")
    if registry.storage.driver == "inmemory":
        yield Finding(
            where,
            Severity.ERROR,
            "RG519",
            "replicas cannot share inmemory storage: each would hold other "
            "images; use storage.driver: s3, or filesystem on a shared folder",
        )
    elif registry.storage.driver == "filesystem":
        yield Finding(
            where,
            Severity.WARNING,
            "RG519",
            f"{registry.replicas} replicas must see the same images: data_dir "
            f"({registry.data_dir}) has to be one shared file system (NFS, "
            "CephFS, ...) on every registry host, or use storage.driver: s3",
        )
    if registry.delete:
        yield Finding(
            ("registry", "delete"),
            Severity.WARNING,
            "RG519",
            "gc.sh stops only the replica on its own host: stop the other "
            "replicas before running it, or they keep writing to the storage "
            "while it collects",
        )


def _feature_findings(spec: Spec, version: Version) -> Iterator[Finding]:
    registry = spec.registry
    if registry.auth is not None and spec.humpback.enabled:
        yield Finding(
            ("registry", "auth"),
            Severity.ERROR,
            "RG506",
            HUMPBACK_CANNOT_LOG_IN,
        )
    if registry.proxy is not None:
        credentials = registry.proxy.username or registry.proxy.password
        if credentials and version < (3, 0):
            yield Finding(
                ("registry", "proxy"),
                Severity.WARNING,
                "RG517",
                "registry 2.x sends proxy credentials only to upstreams that "
                "use token auth (such as Docker Hub), not to basic-auth ones",
            )
        if registry.delete:
            yield Finding(
                ("registry", "delete"),
                Severity.ERROR,
                "RG507",
                "a pull-through cache cannot delete images: remove delete, or proxy",
            )
        else:
            yield Finding(
                ("registry", "proxy"),
                Severity.WARNING,
                "RG508",
                "a pull-through cache refuses pushes: Docker hosts can pull "
                "through it but not push to it",
            )
        if registry.proxy.ttl is not None and version < (3, 0):
            yield Finding(
                ("registry", "proxy", "ttl"),
                Severity.ERROR,
                "RG521",
                f"proxy.ttl needs registry 3.0 or later; this spec runs "
                f"{version_text(version)}",
            )
    if registry.replicas > 1 and registry.http_secret is None:
        yield Finding(
            ("registry", "replicas"),
            Severity.ERROR,
            "RG509",
            f"{registry.replicas} replicas need one shared secret, or uploads "
            "fail with 'blob upload unknown': add http_secret: {env: NAME}",
        )
    storage = registry.storage
    if storage.driver == "s3" and storage.s3 is None:
        yield Finding(
            ("registry", "storage", "driver"),
            Severity.ERROR,
            "RG510",
            "the s3 driver needs its settings: add storage.s3 with bucket and region",
        )
    if storage.driver != "s3" and storage.s3 is not None:
        yield Finding(
            ("registry", "storage", "s3"),
            Severity.ERROR,
            "RG510",
            f"storage.s3 is set but the driver is {storage.driver}: write "
            "driver: s3, or remove s3",
        )
    if storage.driver == "inmemory":
        yield Finding(
            ("registry", "storage", "driver"),
            Severity.WARNING,
            "RG511",
            "inmemory storage loses every image when the container stops",
        )
    if storage.driver != "filesystem" and "data_dir" in registry.model_fields_set:
        yield Finding(
            ("registry", "data_dir"),
            Severity.WARNING,
            "RG516",
            f"data_dir is not used with the {storage.driver} driver",
        )
    if registry.metrics.enabled and registry.metrics.port == registry.port:
        yield Finding(
            ("registry", "metrics", "port"),
            Severity.ERROR,
            "RG534",
            f"the debug port and the registry both want host port "
            f"{registry.port}: give metrics.port another one",
        )
    if registry.storage.driver == "filesystem" and _within(
        registry.config_path, registry.data_dir
    ):
        yield Finding(
            ("registry", "config_path"),
            Severity.ERROR,
            "RG535",
            f"config_path {registry.config_path} lies in data_dir "
            f"{registry.data_dir}, the registry's own storage: keep it outside, "
            "such as /etc/docker/registry/config.yml",
        )
    if registry.metrics.enabled and version < (2, 7):
        yield Finding(
            ("registry", "metrics", "enabled"),
            Severity.ERROR,
            "RG512",
            f"Prometheus metrics need registry 2.7 or later; this spec runs "
            f"{version_text(version)}",
        )
    if registry.delete and version < (2, 7):
        yield Finding(
            ("registry", "delete"),
            Severity.WARNING,
            "RG514",
            f"garbage-collect --delete-untagged needs registry 2.7; with "
            f"{version_text(version)} gc.sh frees only blobs of deleted "
            "manifests",
        )


def _replaced_sections(
    base: dict[str, Any], extra: dict[str, Any], key_path: tuple[str, ...]
) -> Iterator[Finding]:
    """A key of registry.config that would replace a section regc writes."""
    for key, value in extra.items():
        path = (*key_path, key)
        generated = base.get(key)
        if not isinstance(generated, dict):
            continue
        if isinstance(value, dict):
            yield from _replaced_sections(generated, value, path)
        else:
            yield Finding(
                ("registry", "config", *path),
                Severity.ERROR,
                "RG529",
                f"{'.'.join(path)}: regc writes a section of keys here "
                f"({', '.join(sorted(generated))}); {value!r} would replace it "
                "whole: give a mapping of the keys to add or change",
            )


def _merged_findings(spec: Spec, version: Version) -> Iterator[Finding]:
    base = base_config(spec, version)
    replaced = list(_replaced_sections(base, spec.registry.config, ()))
    if replaced:
        yield from replaced
        return
    merged = deep_merge(base, spec.registry.config)
    yield from _redis_findings(merged, version)
    if "auth" in merged and spec.registry.auth is None and spec.humpback.enabled:
        yield Finding(
            ("registry", "config", "auth"),
            Severity.ERROR,
            "RG506",
            HUMPBACK_CANNOT_LOG_IN,
            at_key=True,
        )
    storage = merged.get("storage", {})
    drivers = sorted(set(storage) & DRIVERS) if isinstance(storage, dict) else []
    if len(drivers) > 1:
        yield Finding(
            ("registry", "config", "storage"),
            Severity.ERROR,
            "RG527",
            f"config.yml would hold {len(drivers)} storage drivers "
            f"({', '.join(drivers)}); the registry takes exactly one: choose "
            "it with registry.storage.driver",
        )
    root = _dig(merged, "storage", "filesystem", "rootdirectory")
    if root is not None and (str(root).rstrip("/") or "/") != CONTAINER_DATA_DIR:
        yield Finding(
            ("registry", "config", "storage", "filesystem", "rootdirectory"),
            Severity.ERROR,
            "RG524",
            f"the storage root would be {root}, but run.sh mounts data_dir on "
            f"{CONTAINER_DATA_DIR}: images would land inside the container "
            "and vanish with it; remove this override",
        )


def _dig(node: Any, *keys: str) -> Any:
    """``node[key][key]...``; None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _redis_findings(merged: dict[str, Any], version: Version) -> Iterator[Finding]:
    if _dig(merged, "storage", "cache", "blobdescriptor") != "redis":
        return
    key = "addrs" if version >= (3, 0) else "addr"
    if not _dig(merged, "redis", key):
        yield Finding(
            ("registry", "config", "storage", "cache", "blobdescriptor"),
            Severity.ERROR,
            "RG531",
            f"a redis blob descriptor cache needs redis.{key} in registry.config "
            f"(registry {version_text(version)} panics without it), or write "
            "blobdescriptor: inmemory",
        )


def rule_groups(spec: Spec) -> list[Callable[[], Iterable[Finding]]]:
    """The registry's rules one group at a time, for a spec with a version.

    For lint_salvaged, which must tell which values each group read; the
    rules on the merged config are left out, since they read all of it and
    wait for the other rules to pass.
    """
    version = version_of(spec.registry)
    if version is None:
        return []
    return [
        lambda: _version_findings(spec),
        lambda: _tls_findings(spec, version),
        lambda: _feature_findings(spec, version),
        lambda: _replica_findings(spec),
        lambda: check_config(spec.registry.config, version),
    ]


def check_registry(spec: Spec) -> list[Finding]:
    """Every problem of the registry's features and of registry.config."""
    version = version_of(spec.registry)
    if version is None:
        tag = values.image_tag(spec.registry.image) or "no tag"
        return [
            Finding(
                ("registry", "image"),
                Severity.ERROR,
                "RG513",
                f"cannot tell the registry version from the image tag ({tag}): "
                "use a versioned tag such as registry:2.8.3, or set "
                "registry.version: '2.8.3'",
            )
        ]
    findings = [finding for group in rule_groups(spec) for finding in group()]
    if not any(f.severity is Severity.ERROR for f in findings):
        findings.extend(_merged_findings(spec, version))
    return findings
