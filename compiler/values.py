"""Checks for the strings a spec passes on to shells, unit files and YAML.

Each check accepts only what its destination reads literally, so a value that
passes can be quoted once and never surprises: a container name, an image
reference, an absolute path, a host name.  Each raises ``ValueError`` with
what to write instead; the validator turns that into a positioned error.

Patterns are matched against the whole value (``re.fullmatch``): with
``re.match``, ``$`` also matches before a final newline, and a name ending in
a newline would pass.  The ``*_PATTERN`` strings keep ``^...$`` because the
JSON Schema uses them too.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# Docker's own rule for container names.
CONTAINER_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$"
# Longest file or folder name (Linux), and image repository (Docker).
MAX_NAME_BYTES = 255
MAX_REPOSITORY_LENGTH = 255
PATH_PATTERN = r"^(/[A-Za-z0-9._+@-]+)+$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
DOCKER_VERSION_PATTERN = r"^[0-9]{1,2}\.[0-9]{1,2}(\.[0-9]{1,2})?(-ce|-ee)?$"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")
# The last part of a name that is a number to inet_aton: decimal or hex.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
# Values are echoed in messages; past this length only their start is shown.
_SHOWN_LENGTH = 60

# The grammar of docker/distribution's reference package, written out.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?"
_IMAGE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$",
    # Docker's \w is ASCII: a tag with 'é' is refused by docker pull.
    re.ASCII,
)
_ORIGIN = re.compile(
    rf"^https?://(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?$"
)


def _show(value: str) -> str:
    """``value`` quoted for a message, shortened when long."""
    if len(value) > _SHOWN_LENGTH:
        value = value[: _SHOWN_LENGTH - 3] + "..."
    return f"'{value}'"


def _instead(candidate: str, valid: bool) -> str:
    """``: did you mean 'CANDIDATE'?`` when that repair is valid, else nothing."""
    return f": did you mean {_show(candidate)}?" if valid and candidate else ""


def check_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        repaired = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63]
        raise ValueError(
            f"{_show(value)} is not a valid name: use lower-case letters, digits "
            "and '-', starting with a letter or digit, at most 63 characters"
            + _instead(repaired, bool(re.fullmatch(NAME_PATTERN, repaired)))
        )
    return value


def check_container_name(value: str) -> str:
    if len(value) > MAX_NAME_BYTES:
        raise ValueError(
            f"the container name is {len(value)} characters long: keep it "
            f"under {MAX_NAME_BYTES}"
        )
    if not re.fullmatch(CONTAINER_NAME_PATTERN, value):
        repaired = re.sub(r"[^a-zA-Z0-9_.-]+", "-", value).strip("-_.")
        raise ValueError(
            f"{_show(value)} is not a valid container name: use at least two "
            "letters, digits, '_', '.' or '-', starting with a letter or digit"
            + _instead(repaired, bool(re.fullmatch(CONTAINER_NAME_PATTERN, repaired)))
        )
    return value


def check_env_name(value: str) -> str:
    if not re.fullmatch(ENV_NAME_PATTERN, value):
        raise ValueError(
            f"{_show(value)} is not an environment variable name: use letters, "
            "digits and '_', not starting with a digit"
        )
    return value


def _is_clean_path(value: str) -> bool:
    return (
        bool(re.fullmatch(PATH_PATTERN, value)) and posixpath.normpath(value) == value
    )


def check_absolute_path(value: str) -> str:
    if not value.startswith("/"):
        # A relative path would be relative to wherever run.sh is started, so
        # only a plain 'var/lib/x' is repaired, never './x' or '~/x'.
        repaired = "/" + value
        raise ValueError(
            f"{_show(value)} is not an absolute path: start it with '/'"
            + _instead(repaired, value[:1] not in ".~" and _is_clean_path(repaired))
        )
    normal = "/" + posixpath.normpath(value).lstrip("/")
    if normal == "/":
        raise ValueError(
            f"{_show(value)} is the root folder: name a folder below it, such as "
            "'/srv/registry'"
        )
    if normal != value:
        raise ValueError(
            f"{_show(value)} is not a normalized path: write {_show(normal)}"
        )
    if not re.fullmatch(PATH_PATTERN, value):
        raise ValueError(
            f"{_show(value)} has characters a path here may not use: use "
            "letters, digits, '.', '_', '-', '+', '@' and '/' (no spaces, "
            "quotes, ':', '$' or ';')"
        )
    longest = max(value.split("/"), key=len)
    if len(longest) > MAX_NAME_BYTES:
        raise ValueError(
            f"'{longest[:20]}...' is {len(longest)} characters long: a file "
            f"or folder name holds at most {MAX_NAME_BYTES}"
        )
    return value


def check_image(value: str) -> str:
    if not _IMAGE.fullmatch(value):
        lower = value.lower()
        raise ValueError(
            f"{_show(value)} is not a valid image reference: write it as docker "
            "does, such as 'registry:2.5.1' or 'mirror.example.com/library/"
            "registry:2.8.3' (lower-case repository names)"
            + _instead(lower, lower != value and bool(_IMAGE.fullmatch(lower)))
        )
    repository = value.split("@")[0]
    tag = image_tag(value)
    if tag is not None:
        repository = repository[: -len(tag) - 1]
    if len(repository) > MAX_REPOSITORY_LENGTH:
        raise ValueError(
            f"the image's repository is {len(repository)} characters long: "
            f"Docker refuses more than {MAX_REPOSITORY_LENGTH}"
        )
    return value


def image_tag(value: str) -> str | None:
    """The tag of a checked image reference, if it has one."""
    match = _IMAGE.fullmatch(value)
    return match.group("tag") if match else None


def check_docker_version(value: str) -> str:
    if not re.fullmatch(DOCKER_VERSION_PATTERN, value):
        raise ValueError(
            f"{_show(value)} is not a Docker version: write it as `docker version` "
            "prints it, in quotes, such as '1.13.1' or '24.0.7'"
        )
    return value


def docker_version(value: str) -> tuple[int, int, int]:
    """A checked Docker version as (major, minor, patch)."""
    numbers = value.split("-")[0].split(".")
    major, minor = int(numbers[0]), int(numbers[1])
    patch = int(numbers[2]) if len(numbers) > 2 else 0
    return (major, minor, patch)


def _ip_address(value: str) -> str | None:
    """The canonical text of an IP address, or None if ``value`` is not one."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # Python accepts a zone after '%' with any characters in it, newlines
    # too; a zone means something on one host only, never to Docker hosts.
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None:
        raise ValueError(
            f"{_show(value)} has a zone ('%{address.scope_id}'), which only one "
            f"host understands: write the address without it, "
            f"'{value.split('%')[0]}'"
        )
    return str(address)


def check_machine(value: str) -> str:
    """A machine's host name or address, as ssh and rsync take it."""
    address = _ip_address(value)
    if address is not None:
        return address
    if len(value) > 253 or not _HOSTNAME.fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a host name or IP address: write the name or "
            "address ssh uses for the machine, such as 'web1.example.com'"
        )
    return value


def check_origin(value: str) -> str:
    if value == "*":
        return value
    if value.endswith("/"):
        raise ValueError(
            f"{_show(value)} ends with '/': write {_show(value.rstrip('/'))}"
        )
    if not _ORIGIN.fullmatch(value):
        if "://" in value:
            scheme, rest = value.split("://", 1)
            repaired = f"{scheme}://{re.split(r'[/?#]', rest)[0]}"
        else:
            repaired = f"http://{value}"
        raise ValueError(
            f"{_show(value)} is not an origin: write scheme, host and optional "
            "port, such as 'http://humpback.example.com:8012', or '*'"
            + _instead(repaired, bool(_ORIGIN.fullmatch(repaired)))
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
            f"remove {_show(scheme + '://')}: write only the host, such as "
            f"{_show(_host_of(rest) or 'registry.example.com')}; regc writes "
            "the scheme where one is needed"
        )
    if "/" in value:
        raise ValueError(
            f"{_show(value)} has a path: write only the host name or IP address"
            + _instead(value.split("/")[0], True)
        )
    if value.startswith("[") and value.endswith("]"):
        raise ValueError(
            f"write the IPv6 address without brackets: {_show(value[1:-1])}"
        )
    address = _ip_address(value)
    if address is not None and ipaddress.ip_address(address).is_unspecified:
        raise ValueError(
            f"{_show(value)} means every address of a host, which no other host "
            "can reach it at: write the registry host's own address or name"
        )
    if address is not None:
        return address
    if value.count(":") == 1:
        port = value.split(":")[1]
        if port.isdigit():
            raise ValueError(
                f"remove ':{port}' from the server: write the port as "
                f"`port: {port}` under registry"
            )
    if _DOTTED_NUMBERS.fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a valid IPv4 address: write four numbers "
            "from 0 to 255, such as '192.168.1.10'"
        )
    if len(value) > 253 or not _HOSTNAME.fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a host name or IP address: use letters, digits, "
            "'-' and '.', such as 'registry.example.com' or '192.168.1.10'"
        )
    if _NUMERIC_LABEL.fullmatch(value.rsplit(".", 1)[-1]):
        # Resolvers read '0x7f.1' or '10.1' as an IPv4 address (inet_aton).
        raise ValueError(
            f"{_show(value)} is neither a host name (its last part reads as "
            "a number) nor an IPv4 address: write four numbers from 0 to 255, "
            "such as '192.168.1.10', or the host's name"
        )
    if value != value.lower():
        raise ValueError(
            f"write the host name in lower case, {_show(value.lower())}: Docker "
            "matches insecure registries by their exact text"
        )
    return value


def _host_of(authority: str) -> str:
    """The host of ``HOST[:PORT][/PATH]``, IPv6 brackets removed."""
    authority = re.split(r"[/?#]", authority)[0]
    if authority.startswith("[") and "]" in authority:
        return authority[1 : authority.index("]")]
    return authority.split(":")[0]


def host_port(server: str, port: int) -> str:
    """``HOST:PORT`` as Docker writes it, with brackets around IPv6."""
    if ":" in server:
        return f"[{server}]:{port}"
    return f"{server}:{port}"
