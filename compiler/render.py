"""Render a plan into artifacts: paths under ``OUT/NAME/``, bytes and modes.

Structured formats (YAML, JSON) are serialized from data; text formats are
Jinja2 templates from ``targets/`` with StrictUndefined and explicit quoting
filters.  Rendering is pure: the same plan gives the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from . import __version__, quoting, templatecache
from .hosts import DaemonJson, DropIn, EnvironmentFile, HostPlan
from .resolve import Plan

EXECUTABLE = 0o755
REGULAR = 0o644
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    path: str
    content: bytes
    mode: int = REGULAR

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


# The templates ship as files of the regc.targets package.  A path beside its
# __init__ is all regc needs: importlib.resources would cost every run the
# import of its readers for zip imports, which an installed regc never is.
TARGETS = Path(str(importlib.import_module("regc.targets").__file__)).parent


def _load_template(name: str) -> str:
    return (TARGETS / name).read_text("utf-8")


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment, built once per process."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(quoting.FILTERS)
    # Compiled templates are kept between runs, checked against the source.
    env.bytecode_cache = templatecache.bytecode_cache(env)
    return env


def _template(name: str, plan: Plan, **context: Any) -> bytes:
    text = environment().get_template(name).render(plan=plan, **context)
    return text.encode("utf-8")


def _header(plan: Plan) -> str:
    return _template("header.j2", plan).decode("utf-8")


def _json(data: Any) -> bytes:
    return (
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    ).encode()


def _registry(plan: Plan) -> list[Artifact]:
    body = yaml.safe_dump(
        plan.registry_config, sort_keys=False, default_flow_style=False, width=1000
    )
    artifacts = [
        Artifact("registry/config.yml", (_header(plan) + body).encode("utf-8")),
        Artifact(
            "registry/run.sh",
            _template("registry/run.sh.j2", plan, run=plan.run),
            EXECUTABLE,
        ),
    ]
    if plan.gc is not None:
        gc = _template("registry/gc.sh.j2", plan, run=plan.run, gc=plan.gc)
        artifacts.append(Artifact("registry/gc.sh", gc, EXECUTABLE))
    if plan.htpasswd is not None:
        # Only bcrypt hashes, which the spec checked; never a password. The
        # registry's parser skips lines that begin with '#'.
        htpasswd = _header(plan) + plan.htpasswd
        artifacts.append(Artifact("registry/htpasswd", htpasswd.encode()))
    return artifacts


def _host_file(plan: Plan, host: HostPlan, file: Any) -> Artifact:
    path = f"hosts/{host.name}/{file.path}"
    if isinstance(file, EnvironmentFile):
        content = _template("hosts/environment.j2", plan, host=host, file=file)
    elif isinstance(file, DropIn):
        content = _template("hosts/drop-in.conf.j2", plan, host=host, file=file)
    elif isinstance(file, DaemonJson):
        content = _json({"insecure-registries": list(file.insecure_registries)})
    else:
        raise TypeError(f"no renderer for {type(file).__name__}")
    return Artifact(path, content)


def _manifest(plan: Plan, artifacts: list[Artifact]) -> Artifact:
    manifest = {
        "generator": f"regc {__version__}",
        "name": plan.name,
        "spec": {"file": plan.spec_file, "sha256": plan.spec_sha256},
        "artifacts": [
            {"path": a.path, "sha256": a.sha256, "mode": f"{a.mode:04o}"}
            for a in sorted(artifacts, key=lambda a: a.path)
        ],
    }
    return Artifact(MANIFEST, _json(manifest))


def render(plan: Plan) -> list[Artifact]:
    """Every artifact of ``plan``, sorted by path, the manifest included."""
    artifacts = _registry(plan)
    for host in plan.hosts:
        artifacts.extend(_host_file(plan, host, file) for file in host.files)
    artifacts.append(
        Artifact("verify.sh", _template("verify/verify.sh.j2", plan), EXECUTABLE)
    )
    artifacts.append(Artifact("humpback/system-config.json", _json(plan.humpback)))
    artifacts.append(
        Artifact(
            "humpback/apply.py", _template("humpback/apply.py.j2", plan), EXECUTABLE
        )
    )
    if any(host.method == "daemon-json" for host in plan.hosts):
        artifacts.append(
            Artifact(
                "apply/merge-daemon-json.py",
                _template("apply/merge-daemon-json.py.j2", plan),
                EXECUTABLE,
            )
        )
    artifacts.append(Artifact("APPLY.md", _template("APPLY.md.j2", plan)))

    artifacts.append(_manifest(plan, artifacts))
    return sorted(artifacts, key=lambda a: a.path)
