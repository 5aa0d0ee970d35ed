"""The spec, ``registry.yaml``, as pydantic models.

Unknown keys are forbidden and types are strict: a port is an integer, not
``"5000"``, ``5000.5`` or ``yes``.  Every field has a description; they become
the hover text of editors through the exported JSON Schema.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from . import values

SCHEMA_ID = "https://regc.invalid/schemas/registry.schema.json"


def _pattern(pattern: str) -> dict[str, Any]:
    return {"pattern": pattern}


Name = Annotated[
    str,
    AfterValidator(values.check_name),
    Field(json_schema_extra=_pattern(values.NAME_PATTERN)),
]
ContainerName = Annotated[
    str,
    AfterValidator(values.check_container_name),
    Field(json_schema_extra=_pattern(values.CONTAINER_NAME_PATTERN)),
]
AbsolutePath = Annotated[
    str,
    AfterValidator(values.check_absolute_path),
    Field(json_schema_extra=_pattern(values.PATH_PATTERN)),
]
Image = Annotated[str, AfterValidator(values.check_image), Field(min_length=1)]
Server = Annotated[str, AfterValidator(values.check_server), Field(min_length=1)]
Origin = Annotated[str, AfterValidator(values.check_origin)]
Port = Annotated[int, Field(ge=1, le=65535)]
DockerVersion = Annotated[
    str,
    AfterValidator(values.check_docker_version),
    Field(json_schema_extra=_pattern(values.DOCKER_VERSION_PATTERN)),
]
Machine = Annotated[str, AfterValidator(values.check_machine), Field(min_length=1)]
EnvName = Annotated[
    str,
    AfterValidator(values.check_env_name),
    Field(json_schema_extra=_pattern(values.ENV_NAME_PATTERN)),
]

# Patterns of plain string fields, and what a value that misses one should be.
SAFE_TEXT_PATTERN = r"^[A-Za-z0-9 ._-]+$"
EMAIL_PATTERN = "^[^@\\s'\"$`\\\\]+@[A-Za-z0-9.-]+$"
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
REGION_PATTERN = r"^[a-z0-9-]+$"
REGISTRY_VERSION_PATTERN = r"^[23]\.[0-9]+(\.[0-9]+)?$"
PATTERN_HINTS = {
    SAFE_TEXT_PATTERN: "use letters, digits, spaces, '.', '_' and '-'",
    EMAIL_PATTERN: "write a mail address such as 'admin@example.com'",
    BUCKET_PATTERN: (
        "write a bucket name of 3 to 63 lower-case letters, digits, '.' and "
        "'-', starting and ending with a letter or digit"
    ),
    REGION_PATTERN: "write a region such as 'us-east-1'",
    REGISTRY_VERSION_PATTERN: (
        "write the registry's version, such as '2.8.3' or '3.0.0', in quotes"
    ),
}

# A Go duration: a number with a unit, such as 10s, 5m, 168h ("7d" panics).
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
# Only bcrypt entries work in the registry's htpasswd; others always get 401.
_BCRYPT = re.compile(r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$")
_USER = re.compile(r"^[A-Za-z0-9._@-]+$")


def _check_duration(value: str) -> str:
    if re.fullmatch(r"[0-9]+", value):
        raise ValueError(
            f"'{value}' has no unit: the registry would read nanoseconds; "
            f"write '{value}s', '{value}m' or '{value}h'"
        )
    if re.fullmatch(r"[0-9]+d", value):
        hours = int(value[:-1]) * 24
        raise ValueError(f"'{value}': Go durations have no days; write '{hours}h'")
    if not re.fullmatch(DURATION_PATTERN, value):
        raise ValueError(
            f"'{value}' is not a duration: write a number with a unit, "
            "such as '10s', '30m' or '168h'"
        )
    return value


def _check_url(value: str) -> str:
    if "://" not in value:
        raise ValueError(f"'{value}' needs a scheme: write 'https://{value}'")
    if not _URL.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a URL regc can pass on safely: write "
            "'https://host[:port][/path]' with letters, digits, '.', '-', "
            "'_', '~' and '/'"
        )
    return value.rstrip("/") if value.count("/") > 2 else value


def _check_bcrypt(value: str) -> str:
    if not _BCRYPT.fullmatch(value):
        raise ValueError(
            "not a bcrypt hash: the registry accepts only bcrypt entries "
            "($2y$...); make one with `htpasswd -nbB USER PASSWORD`"
        )
    return value


def _check_user(value: str) -> str:
    if not _USER.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a user name htpasswd can hold: use letters, "
            "digits, '.', '_', '@' and '-'"
        )
    return value


Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    Field(json_schema_extra=_pattern(DURATION_PATTERN)),
]
Url = Annotated[str, AfterValidator(_check_url)]
BcryptHash = Annotated[str, AfterValidator(_check_bcrypt)]
UserName = Annotated[str, AfterValidator(_check_user)]
SafeText = Annotated[
    str, Field(min_length=1, max_length=200, pattern=SAFE_TEXT_PATTERN)
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Cors(Model):
    """CORS headers, so that Humpback's pages in a browser can read the registry."""

    enabled: bool = Field(
        True,
        description=(
            "Send CORS headers. Humpback's registry browser runs in the "
            "administrator's browser and calls the registry directly, so "
            "without them its Hub pages stay empty."
        ),
    )
    allow_origins: list[Origin] | None = Field(
        None,
        min_length=1,
        description=(
            "Origins allowed to read the registry from a browser, such as "
            "'http://humpback.example.com:8012'. Default: humpback.url when "
            "it is set, otherwise '*'."
        ),
    )


class SecretRef(Model):
    """A secret, never written into an artifact: read when run.sh runs.

    Either from run.sh's environment or from a file on the registry host;
    exactly one of the two.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        json_schema_extra={"oneOf": [{"required": ["env"]}, {"required": ["file"]}]},
    )

    env: EnvName | None = Field(
        None,
        description=(
            "Name of the environment variable that holds the value when "
            "run.sh runs; run.sh stops if it is unset."
        ),
    )
    file: AbsolutePath | None = Field(
        None,
        description=(
            "Path of a file on the registry host that holds the value "
            "(trailing newlines are dropped), such as one a secrets manager keeps; "
            "run.sh stops if it cannot read it or it is empty."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError(
                "give the secret as either `env: NAME` (a variable of run.sh's "
                "environment) or `file: /PATH` (a file on the registry host)"
            )
        return self


class LetsEncrypt(Model):
    """Certificates from Let's Encrypt, obtained by the registry itself."""

    cache_file: AbsolutePath = Field(
        description=(
            "Host path of the file where the registry keeps its Let's Encrypt "
            "state. Without it the registry silently serves plain HTTP."
        )
    )
    email: str = Field(
        min_length=3,
        # No escaped quote in the class: JSON Schema regexes (ECMA-262 in
        # unicode mode) refuse an identity escape such as \".
        pattern=EMAIL_PATTERN,
        description="Contact address given to Let's Encrypt.",
    )
    hosts: list[Machine] | None = Field(
        None, description="Host names allowed to request certificates (2.7+)."
    )


class Tls(Model):
    """HTTPS for the registry: Docker hosts then need no insecure-registry flag."""

    certificate: AbsolutePath | None = Field(
        None, description="Host path of the certificate (PEM, chain included)."
    )
    key: AbsolutePath | None = Field(
        None, description="Host path of the certificate's private key (PEM)."
    )
    ca: AbsolutePath | None = Field(
        None,
        description=(
            "Path of the CA certificate that signed the registry's certificate, "
            "when no public CA did: Docker hosts must trust it "
            "(/etc/docker/certs.d/HOST:PORT/ca.crt) and verify.sh uses it."
        ),
    )
    minimum: Literal["tls1.0", "tls1.1", "tls1.2", "tls1.3"] | None = Field(
        None, description="Oldest TLS version accepted (registry 2.8 and later)."
    )
    letsencrypt: LetsEncrypt | None = Field(
        None, description="Let's Encrypt instead of certificate and key."
    )


class Htpasswd(Model):
    """Basic authentication from an htpasswd file of bcrypt entries."""

    path: AbsolutePath = Field(
        "/etc/docker/registry/htpasswd",
        description=(
            "Host path of the htpasswd file, mounted into the container. "
            "run.sh refuses to start without it (the registry would create "
            "one with a random password)."
        ),
    )
    users: dict[UserName, BcryptHash] | None = Field(
        None,
        description=(
            "Entries written to the htpasswd file by run.sh: user name to "
            "bcrypt hash ($2y$..., made with `htpasswd -nbB USER PASSWORD`). "
            "Without it, the file at path is yours to provide."
        ),
    )
    realm: SafeText = Field("Registry Realm", description="Realm of the basic auth.")


class Auth(Model):
    """Who may use the registry."""

    htpasswd: Htpasswd = Field(description="Basic authentication by htpasswd file.")


class Proxy(Model):
    """A pull-through cache of another registry: it refuses pushes and deletes."""

    remote_url: Url = Field(
        description="URL of the upstream registry, such as 'https://registry-1.docker.io'."
    )
    username: SecretRef | None = Field(None, description="Upstream user name.")
    password: SecretRef | None = Field(None, description="Upstream password.")
    ttl: Duration | None = Field(
        None, description="How long cached content is kept (registry 3.x), e.g. '168h'."
    )


class S3(Model):
    """Storage in an S3-compatible object store."""

    bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)] = Field(
        description="Bucket name."
    )
    region: Annotated[str, Field(pattern=REGION_PATTERN)] = Field(
        description=(
            "Region, such as 'us-east-1' (most S3-compatible stores take any)."
        )
    )
    region_endpoint: Url | None = Field(
        None,
        description="Endpoint of an S3-compatible store, such as 'http://minio:9000'.",
    )
    access_key: SecretRef | None = Field(None, description="Access key id.")
    secret_key: SecretRef | None = Field(None, description="Secret access key.")
    root_directory: AbsolutePath | None = Field(
        None, description="Prefix of the registry's objects in the bucket."
    )
    secure: bool = Field(True, description="Use HTTPS to reach the store.")


class Storage(Model):
    """Where the registry keeps images."""

    driver: Literal["filesystem", "s3", "inmemory"] = Field(
        "filesystem",
        description=(
            "filesystem (data_dir on the host), s3, or inmemory (lost on "
            "restart: for tests only)."
        ),
    )
    s3: S3 | None = Field(None, description="Settings of the s3 driver.")


class Metrics(Model):
    """Prometheus metrics on the registry's debug port (registry 2.7+)."""

    enabled: bool = Field(False, description="Serve /metrics on the debug port.")
    port: Port = Field(5001, description="Host port published for the debug server.")
    bind: Machine = Field(
        "127.0.0.1",
        description=(
            "Host address the debug port is published on. It also serves "
            "/debug/pprof and /debug/vars, so the default keeps it local: "
            "write the address Prometheus reaches, or 0.0.0.0 behind a firewall."
        ),
    )


class Registry(Model):
    """The registry server: its address and how its container runs."""

    server: Server = Field(
        description=(
            "Host name or IP address under which Docker hosts and Humpback "
            "reach the registry, such as '192.168.1.10'. No scheme, no port."
        ),
    )
    port: Port = Field(
        5000,
        description="Port published on the registry host (docker run -p PORT:5000).",
    )
    image: Image = Field(
        "registry:2.5.1",
        description=(
            "Registry image to run. Its tag decides the config dialect and "
            "where the image reads config.yml (2.x or 3.x)."
        ),
    )
    container_name: ContainerName = Field(
        "registry", description="Name of the registry container (docker run --name)."
    )
    restart: Literal["always", "unless-stopped", "on-failure", "no"] = Field(
        "always",
        description=(
            "Docker restart policy of the container. Quote 'no': YAML reads "
            "a bare no as false."
        ),
    )
    data_dir: AbsolutePath = Field(
        "/var/lib/registry",
        description=(
            "Host directory holding the images, mounted on the storage root "
            "inside the container."
        ),
    )
    config_path: AbsolutePath = Field(
        "/etc/docker/registry/config.yml",
        description=(
            "Host path where run.sh installs config.yml and from which it is "
            "mounted into the container."
        ),
    )
    log_level: Literal["error", "warn", "info", "debug"] = Field(
        "info", description="Registry log level ('warning' is not accepted by it)."
    )
    cors: Cors = Field(
        default_factory=Cors,
        description="CORS headers for Humpback's browser pages.",
    )
    version: Annotated[str, Field(pattern=REGISTRY_VERSION_PATTERN)] | None = Field(
        None,
        description=(
            "Registry version, in quotes, when the image tag does not say "
            "it (a digest, 'latest', a mirror's own tag), such as '2.8.3'."
        ),
    )
    delete: bool = Field(
        False,
        description=(
            "Allow deleting images (storage.delete.enabled); also writes "
            "registry/gc.sh to collect the freed space."
        ),
    )
    tls: Tls | None = Field(None, description="Serve HTTPS.")
    auth: Auth | None = Field(
        None,
        description=(
            "Require a login. Humpback 1.x cannot log in to a registry: "
            "set humpback.enabled: false with it."
        ),
    )
    http_secret: SecretRef | None = Field(
        None,
        description=(
            "Shared secret of all replicas (http.secret), from the "
            "environment of run.sh or a file on the registry host. Required "
            "when replicas is more than 1."
        ),
    )
    replicas: int = Field(
        1,
        ge=1,
        le=100,
        description="Number of registry instances behind one address.",
    )
    proxy: Proxy | None = Field(
        None, description="Run as a pull-through cache of another registry."
    )
    storage: Storage = Field(
        default_factory=Storage, description="Where images are kept."
    )
    metrics: Metrics = Field(default_factory=Metrics, description="Prometheus metrics.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Any other config.yml keys, merged last into the generated "
            "config. Checked against the keys the registry version knows."
        ),
    )


class Humpback(Model):
    """Humpback's System Config page (Humpback 1.x)."""

    enabled: bool = Field(
        True,
        description=(
            "Enable the private registry in Humpback (EnablePrivateRegistry): "
            "shows the Hub menu that browses this registry."
        ),
    )
    url: Origin | None = Field(
        None,
        description=(
            "Address of the Humpback web site, such as "
            "'http://humpback.example.com:8012'. Used as the CORS origin."
        ),
    )
    cluster_mode: bool = Field(
        False, description="Enable cluster mode (EnableClusterMode)."
    )
    center_api: Origin | None = Field(
        None,
        description=(
            "Base URL of humpback-center (HumpbackCenterAPI), required in "
            "cluster mode, such as 'http://192.168.1.20:8589'."
        ),
    )
    top_news: str = Field(
        "",
        max_length=500,
        description=(
            "Dashboard banner text (TopNews), at most 500 characters; "
            "Humpback renders it as HTML."
        ),
    )


class HostGroup(Model):
    """Docker hosts configured alike: one OS, one Docker version and package."""

    name: Name = Field(
        description="Name of the group: its folder under hosts/ in the output."
    )
    os: Literal[
        "centos6", "centos7", "ubuntu-upstart", "ubuntu-systemd", "debian", "any"
    ] = Field(
        description=(
            "How the hosts start Docker: centos6 (sysvinit, "
            "/etc/sysconfig/docker), centos7 (systemd), ubuntu-upstart (14.04), "
            "ubuntu-systemd (16.04 and later), debian, or any (configured by "
            "daemon.json only)."
        ),
    )
    docker: DockerVersion = Field(
        description=(
            "Docker version on these hosts, in quotes, as `docker version` "
            "prints it: '1.7.1', '1.13.1', '18.09.3', '24.0.7'. It decides the "
            "daemon command and whether daemon.json can be used."
        ),
    )
    package: Literal["distribution", "docker-engine", "docker-ce"] | None = Field(
        None,
        description=(
            "Package family where it changes the files: distribution (the "
            "OS's own docker or docker.io package), docker-engine or docker-ce "
            "(upstream). Required on centos7; debian defaults to distribution."
        ),
    )
    method: Literal["flags", "daemon-json"] | None = Field(
        None,
        description=(
            "How the daemon learns of the registry: flags (the variable its "
            "init script or unit reads) or daemon-json (/etc/docker/daemon.json, "
            "Docker 1.11 and later). Default: daemon-json on ubuntu-systemd, "
            "upstream debian and any; flags elsewhere. Never both on one host."
        ),
    )
    machines: list[Machine] = Field(
        default_factory=list,
        description=(
            "Host names or addresses of the machines in this group, for the "
            "commands of APPLY.md. A machine belongs to one group only."
        ),
    )


class Spec(Model):
    """A regc spec: one private registry, the Docker hosts that use it, Humpback."""

    model_config = ConfigDict(
        title="regc registry spec",
        json_schema_extra={"$id": SCHEMA_ID},
    )

    name: Name | None = Field(
        None,
        description=(
            "Name of this registry setup: the folder of its artifacts under "
            "the output directory. Default: the spec file's name without "
            "its extension."
        ),
    )
    registry: Registry = Field(description="The registry server.")
    hosts: list[HostGroup] | None = Field(
        None,
        min_length=1,
        description=(
            "Groups of Docker hosts that must trust the registry. Default: "
            "the folders centos6, centos7, ubuntu and daemon-json of the "
            "Humpback guide."
        ),
    )
    humpback: Humpback = Field(
        default_factory=Humpback,
        description="Humpback's System Config settings for this registry.",
    )
