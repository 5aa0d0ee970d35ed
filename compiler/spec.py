"""The spec, ``registry.yaml``, as pydantic models.

Unknown keys are forbidden and types are strict: a port is an integer, not
``"5000"``, ``5000.5`` or ``yes``.  Every field has a description; they become
the hover text of editors through the exported JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
        default_factory=Cors,  # type: ignore[arg-type]
        description="CORS headers for Humpback's browser pages.",
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
    humpback: Humpback = Field(
        default_factory=Humpback,  # type: ignore[arg-type]
        description="Humpback's System Config settings for this registry.",
    )
