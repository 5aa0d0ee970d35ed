"""Compiled templates kept between runs, as Python keeps compiled modules.

Compiling regc's templates costs a build about half of what importing its
libraries does; loading them compiled costs almost nothing.  Jinja2 checks
each cached template against its source.  What else decides the compiled
code (the environment's syntax options, the versions of Jinja2 and Python)
names the cache's folder, so a change of any of them starts a new folder.

The folder is the user's own (``$XDG_CACHE_HOME/regc``, else
``~/.cache/regc``), and the cache is never an error: a folder that cannot be
made, is open to others, or a file that cannot be read or written means the
templates are compiled, as without a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

# Environment attributes that change the code a template compiles to.
_SYNTAX = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "autoescape",
    "is_async",
)


class _Cache(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:
            # A damaged or unreadable entry is compiled again, and replaced.
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def folder(environment: jinja2.Environment) -> Path:
    """Where templates compiled by ``environment`` are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = repr(
        (
            jinja2.__version__,
            sys.version_info[:2],
            [repr(getattr(environment, name, None)) for name in _SYNTAX],
            sorted(environment.extensions),
            environment.finalize is not None,
        )
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return Path(base) / "regc" / "templates" / digest


def bytecode_cache(environment: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """A cache for ``environment``'s compiled templates, or None if unsafe."""
    try:
        path = folder(environment)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = path.stat()
    except (OSError, RuntimeError):
        # RuntimeError: no home folder to find the cache in.
        return None
    # Cached code is run: only a folder no one else can write may hold it.
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        return None
    return _Cache(str(path))
