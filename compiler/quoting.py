"""Quoting filters for the text formats regc renders.

Values reaching these filters were validated by the spec's models; a filter
that still meets a character its format cannot hold literally raises
``ValueError``, which is a bug in regc, never an escape into something else.
"""

from __future__ import annotations

import json
import re

_SH_SAFE = re.compile(r"^[A-Za-z0-9_./:@%+=,-]+$")
# Characters that keep their meaning inside double quotes in sh, bash and
# systemd's EnvironmentFile parser, or end the line.
_ENV_UNSAFE = re.compile(r'["\\$`\n\r\x00]')
_UNIT_UNSAFE = re.compile(r'[\\\n\r\x00"\']')


def sh(value: object) -> str:
    """One shell word with the literal text of ``value``."""
    text = str(value)
    if _SH_SAFE.fullmatch(text):
        return text
    if "\x00" in text:
        raise ValueError(f"NUL byte in a shell value: {text!r}")
    return "'" + text.replace("'", "'\"'\"'") + "'"


def env_value(value: object) -> str:
    """A double-quoted value read alike by sh, bash and systemd."""
    text = str(value)
    if _ENV_UNSAFE.search(text):
        raise ValueError(f"value cannot be written to an environment file: {text!r}")
    return f'"{text}"'


def unit_value(value: object) -> str:
    """A unit file setting's value; '%' is doubled so systemd keeps it."""
    text = str(value)
    if _UNIT_UNSAFE.search(text):
        raise ValueError(f"value cannot be written to a unit file: {text!r}")
    return text.replace("%", "%%")


def py(value: object) -> str:
    """A Python literal (for Python 2.7 and 3) of a string, bool or list of strings."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return json.dumps(list(value))
    raise ValueError(f"no Python literal for {value!r}")


def remote(host: object) -> str:
    """A host as ssh, scp and rsync take it before ':' (IPv6 in brackets)."""
    text = str(host)
    return f"[{text}]" if ":" in text else text


FILTERS = {
    "sh": sh,
    "env_value": env_value,
    "unit_value": unit_value,
    "py": py,
    "remote": remote,
}
