"""How fast regc's command line is, against the cost of importing its libraries.

Run it from anywhere with the Python that has regc installed:

    .venv/bin/python benchmarks/bench.py [--repeat 7] [--specs 1000]

Each figure is the median wall time of separate runs of a fresh process, all
timed from this one process.  The floor, ``python -c "import typer, pydantic,
yaml, jinja2"``, is measured in the same session, interleaved with the runs it
is compared with, so that the ratios hold on a slow or a busy machine alike.
"Cold" means a new process writing into a fresh output folder; the operating
system's file cache, Python's bytecode cache and regc's compiled templates
(regc.templatecache) are warm, as they are on the second commit of a day.
The benchmark byte-compiles regc's own modules first, as ``pip install``
does for a regular install: in an editable install under
``PYTHONDONTWRITEBYTECODE=1`` Python would otherwise compile them from
source in every run, which no installed regc does.
Each figure shows the median, which the targets judge, and the minimum, the
least disturbed by other work on the machine.

The targets are those of the issue that introduced this benchmark; the script
exits 1 when one is missed.  It is not a test: timings are for people to read.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "examples" / "minimal.yaml"
FULL = ROOT / "examples" / "full.yaml"

FLOOR_CODE = "import typer, pydantic, yaml, jinja2"
# Ratios to the floor, and seconds for the many-spec build.
BUILD_RATIO_TARGET = 1.3
CHECK_RATIO_TARGET = 0.6
MANY_SECONDS_TARGET = 5.0
# One run of a command must never take this long; a hang is a failure.
RUN_TIMEOUT = 300.0


def regc_command() -> list[str]:
    """The ``regc`` console script beside this Python, as users run it."""
    script = Path(sys.executable).with_name("regc")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "regc"]


def compile_regc(python: str) -> None:
    """Byte-compile the regc package that ``python`` imports, where it lies."""
    where = subprocess.run(
        [python, "-c", "import regc, os; print(os.path.dirname(regc.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    compileall.compile_dir(where, quiet=1)


def timed(command: Sequence[str], cwd: Path) -> float:
    """Wall seconds of one run of ``command``; aborts the benchmark if it fails."""
    start = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(
            f"bench: {' '.join(command[:3])} ... exited {result.returncode}:\n"
            f"{result.stderr}"
        )
    return elapsed


def spec_text(index: int) -> str:
    """A varied, valid spec: every tenth one has every field, like full.yaml."""
    if index % 10 == 0:
        return FULL.read_text("utf-8").replace(
            "name: hub-prod", f"name: hub-{index:04d}"
        )
    return (
        "registry:\n"
        f"  server: registry-{index:04d}.example.com\n"
        f"  port: {5000 + index % 1000}\n"
        "humpback:\n"
        f"  url: http://humpback-{index:04d}.example.com:8012\n"
    )


def write_specs(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True)
    names = []
    for index in range(count):
        name = f"registry-{index:04d}.yaml"
        (folder / name).write_text(spec_text(index), encoding="utf-8")
        names.append(f"{folder.name}/{name}")
    return names


@dataclass
class Figure:
    """One line of the report: a command's times, and how they compare."""

    label: str
    times: list[float]
    floor: list[float] | None = None
    target: str = ""
    # Judged on the median: True met, False missed, None not judged.
    met: bool | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def ratio(self, pick: Callable[[list[float]], float]) -> str:
        if self.floor is None:
            return ""
        return f"{pick(self.times) / pick(self.floor):5.2f}"

    def line(self) -> str:
        verdict = {None: "", True: "ok", False: "MISSED"}[self.met]
        return (
            f"{self.label:<46} {self.median:7.3f} {min(self.times):7.3f} "
            f"{self.ratio(statistics.median):>6} {self.ratio(min):>6}  "
            f"{self.target:<9} {verdict}"
        ).rstrip()


HEADER = (
    f"{'':<46} {'median':>7} {'min':>7} {'ratio to floor':>13}  target\n"
    f"{'':<46} {'s':>7} {'s':>7} {'median':>6} {'min':>6}"
)


def sample(
    runs: dict[str, Callable[[int], float]], repeat: int
) -> dict[str, list[float]]:
    """Times of each run, the runs interleaved so that drift hits all alike."""
    for run in runs.values():
        run(-1)  # warm the bytecode and file caches; not counted
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for index in range(repeat):
        for label, run in runs.items():
            samples[label].append(run(index))
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure")
    parser.add_argument("--specs", type=int, default=1000, help="specs in one call")
    parser.add_argument(
        "--many-repeat", type=int, default=3, help="runs of the many-spec build"
    )
    args = parser.parse_args(argv)

    regc = regc_command()
    python = sys.executable
    compile_regc(python)
    work = Path(tempfile.mkdtemp(prefix="regc-bench-"))
    try:
        current = work / "current"
        timed([*regc, "build", str(MINIMAL), "--out", str(current)], work)

        def floor(index: int) -> float:
            return timed([python, "-c", FLOOR_CODE], work)

        def build(index: int) -> float:
            out = work / f"build-{index}"
            return timed([*regc, "build", str(MINIMAL), "--out", str(out)], work)

        def check(index: int) -> float:
            return timed([*regc, "check", str(MINIMAL), "--out", str(current)], work)

        small = sample({"floor": floor, "build": build, "check": check}, args.repeat)

        specs = write_specs(work / "specs", args.specs)
        timed([*regc, "build", *specs, "--out", "many-current"], work)

        def many_build(index: int) -> float:
            return timed([*regc, "build", *specs, "--out", f"many-{index}"], work)

        def many_check(index: int) -> float:
            return timed([*regc, "check", *specs, "--out", "many-current"], work)

        many = sample({"build": many_build, "check": many_check}, args.many_repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor_times = small["floor"]
    floor_median = statistics.median(floor_times)
    build_ratio = statistics.median(small["build"]) / floor_median
    check_ratio = statistics.median(small["check"]) / floor_median
    figures = [
        Figure("floor: import typer, pydantic, yaml, jinja2", floor_times),
        Figure(
            "regc build minimal.yaml, fresh output",
            small["build"],
            floor_times,
            f"<= {BUILD_RATIO_TARGET}",
            build_ratio <= BUILD_RATIO_TARGET,
        ),
        Figure(
            "regc check minimal.yaml, output current",
            small["check"],
            floor_times,
            f"<= {CHECK_RATIO_TARGET}",
            check_ratio <= CHECK_RATIO_TARGET,
        ),
        Figure(
            f"regc build {args.specs} specs in one call",
            many["build"],
            target=f"<= {MANY_SECONDS_TARGET:g} s",
            met=statistics.median(many["build"]) <= MANY_SECONDS_TARGET,
        ),
        Figure(f"regc check {args.specs} specs, output current", many["check"]),
    ]
    print(
        f"regc benchmark: {args.repeat} runs each ({args.many_repeat} for "
        f"{args.specs} specs); Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; {' '.join(regc)}"
    )
    print(HEADER)
    for figure in figures:
        print(figure.line())
    return 0 if all(figure.met is not False for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
