"""Checks for the strings a spec passes on to shells, unit files and YAML.

Each check accepts only what its destination reads literally, so a value that
passes can be quoted once and never surprises: a container name, an image
reference, an absolute path, a host name.  Each raises ``ValueError`` with
what to write instead; the validator turns that into a positioned error.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# Docker's own rule for container names.
CONTAINER_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$"
PATH_PATTERN = r"^(/[A-Za-z0-9._+@-]+)+$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")

# The grammar of docker/distribution's reference package, written out.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
_IMAGE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$"
)
_ORIGIN = re.compile(
    rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$"
)


def check_name(value: str) -> str:
    if not re.match(NAME_PATTERN, value):
        raise ValueError(
            f"'{value}' is not a valid name: use lower-case letters, digits and "
            "'-', starting with a letter or digit, at most 63 characters"
        )
    return value


def check_container_name(value: str) -> str:
    if not re.match(CONTAINER_NAME_PATTERN, value):
        raise ValueError(
            f"'{value}' is not a valid container name: use at least two "
            "letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return value


def check_env_name(value: str) -> str:
    if not re.match(ENV_NAME_PATTERN, value):
        raise ValueError(
            f"'{value}' is not an environment variable name: use letters, "
            "digits and '_', not starting with a digit"
        )
    return value


def check_absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"'{value}' is not an absolute path: start it with '/'")
    normal = posixpath.normpath(value)
    if normal != value or value.startswith("//"):
        raise ValueError(f"'{value}' is not a normalized path: write '{normal}'")
    if not re.match(PATH_PATTERN, value):
        raise ValueError(
            f"'{value}' has characters a path here may not use: use letters, "
            "digits, '.', '_', '-', '+', '@' and '/' (no spaces, quotes, ':', "
            "'$' or ';')"
        )
    return value


def check_image(value: str) -> str:
    if not _IMAGE.match(value):
        raise ValueError(
            f"'{value}' is not a valid image reference: write it as docker "
            "does, such as 'registry:2.5.1' or 'mirror.example.com/library/"
            "registry:2.8.3' (lower-case repository names)"
        )
    return value


def image_tag(value: str) -> str | None:
    """The tag of a checked image reference, if it has one."""
    match = _IMAGE.match(value)
    return match.group("tag") if match else None


def check_origin(value: str) -> str:
    if value == "*":
        return value
    if value.endswith("/"):
        raise ValueError(f"'{value}' ends with '/': write '{value.rstrip('/')}'")
    if not _ORIGIN.match(value):
        raise ValueError(
            f"'{value}' is not an origin: write scheme, host and optional port, "
            "such as 'http://humpback.example.com:8012', or '*'"
        )
    return value


def check_server(value: str) -> str:
    """A host name or IP address, as Docker hosts and Humpback reach it.

    IPv6 addresses come back in their canonical form, since Docker matches
    insecure registries by exact text.
    """
    if "://" in value:
        scheme, rest = value.split("://", 1)
        raise ValueError(
            f"remove '{scheme}://': write only the host, such as "
            f"'{rest.split('/')[0].split(':')[0] or 'registry.example.com'}'; "
            "regc writes the scheme where one is needed"
        )
    if "/" in value:
        raise ValueError(
            f"'{value}' has a path: write only the host name or IP address"
        )
    if value.startswith("[") and value.endswith("]"):
        raise ValueError(f"write the IPv6 address without brackets: '{value[1:-1]}'")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if value.count(":") == 1:
        port = value.split(":")[1]
        if port.isdigit():
            raise ValueError(
                f"remove ':{port}' from the server: write the port as "
                f"`port: {port}` under registry"
            )
    if _DOTTED_NUMBERS.match(value):
        raise ValueError(f"'{value}' is not a valid IPv4 address")
    if len(value) > 253 or not _HOSTNAME.match(value):
        raise ValueError(
            f"'{value}' is not a host name or IP address: use letters, digits, "
            "'-' and '.', such as 'registry.example.com' or '192.168.1.10'"
        )
    return value


def host_port(server: str, port: int) -> str:
    """``HOST:PORT`` as Docker writes it, with brackets around IPv6."""
    if ":" in server:
        return f"[{server}]:{port}"
    return f"{server}:{port}"
