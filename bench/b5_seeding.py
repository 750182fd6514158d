"""B5 seeding at scale: ``pulumi up`` (create) of N runs, separate vs one group, file backend.

For each N (50, 200, 800 by default; ``BENCH_B5_RUNS=50,200`` chooses), three creates, each
in a fresh project and backend, mode full, no waiting:

* separate: N ExtractionRuns (``datagol-pulumi:group: false``), checkpoints on (the default);
* skip:     the same with ``PULUMI_SKIP_CHECKPOINTS=true`` (state written once, at the end);
* group:    one ExtractionRunGroup of the N runs (``maxConcurrency: 32``).

The engine rewrites the whole checkpoint after every step, so a separate create costs more per
run the more runs the stack holds; a group is one step. State per run = (``pulumi stack export``
bytes - the empty stack's) / N. Every create must send exactly N triggers and leave N runs in
state (skip included: its one write at the end must hold them all).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from datagol_pulumi.emulator import EmulatorControl

from .common import Result, emulator_process, log, run_spec
from .pulumi_cli import Project

DEFAULT_COUNTS = (50, 200, 800)
COUNTS_ENV = "BENCH_B5_RUNS"
KINDS = ("separate", "skip", "group")
RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"
#: A group of N runs must create faster than N separate runs at the largest N.
TARGET = 1.0
#: Above ~960 dynamic resources in one program the Pulumi SDK's serialize_provider fails with
#: RecursionError (it wraps the pickler once more per resource; see bench/b6_engine_path.py).
MAX_SEPARATE = 900


def counts() -> tuple[int, ...]:
    """The Ns to measure: ``$BENCH_B5_RUNS`` (comma-separated) or 50, 200, 800."""
    text = os.environ.get(COUNTS_ENV, "").strip()
    if not text:
        return DEFAULT_COUNTS
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"{COUNTS_ENV}={text!r}: expected counts such as 50,200,800") from None
    if not values or min(values) < 1 or max(values) > MAX_SEPARATE:
        raise ValueError(
            f"{COUNTS_ENV}={text!r}: every count must be 1 to {MAX_SEPARATE}; more separate "
            "ExtractionRuns in one program fail in the Pulumi SDK (RecursionError)"
        )
    return values


def _runs(n: int) -> dict[str, dict[str, object]]:
    specs = {}
    for index in range(n):
        spec = run_spec(index)
        del spec["workspace_id"]  # from datagol-pulumi:defaults, as a user would write it
        specs[f"run-{index:04d}"] = spec
    return specs


@dataclass
class Create:
    seconds: float
    posts: int
    runs_in_state: int
    export_bytes: int


def _runs_in_state(export: dict) -> int:
    """Runs the state records: one per ExtractionRun, or the keys of the group's results."""
    total = 0
    for resource in export["deployment"].get("resources", []):
        if resource["type"] == RUN_TYPE:
            total += 1
        elif resource["type"] == GROUP_TYPE:
            total += len(resource.get("outputs", {}).get("results", {}))
    return total


def create(url: str, emu_control: EmulatorControl, n: int, kind: str) -> Create:
    with Project(url) as project:
        project.set_runs(_runs(n), group=kind == "group", maxConcurrency=32)
        if kind == "skip":
            project.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        emu_control.clear_requests()
        seconds = project.up()
        posts = len(emu_control.requests(method="POST"))
        text = project.pulumi("stack", "export").stdout
    return Create(seconds, posts, _runs_in_state(json.loads(text)), len(text.encode()))


def run() -> Result:
    ns = counts()
    results: dict[tuple[int, str], Create] = {}
    with emulator_process() as emu:
        with Project(emu.url, empty=True) as empty:
            log("B5: empty stack (floor and state baseline)")
            empty_seconds = empty.up()
            empty_bytes = empty.export_bytes()
        for n in ns:
            for kind in KINDS:
                log(f"B5: pulumi up (create) of {n} runs, {kind}")
                results[n, kind] = create(emu.url, emu.control, n, kind)
                log(f"B5:   {results[n, kind].seconds:.1f} s")

    def per_run_bytes(n: int, kind: str) -> float:
        return (results[n, kind].export_bytes - empty_bytes) / n

    figures = {"empty stack up (floor)": f"{empty_seconds:.2f} s"}
    for n in ns:
        sep, skip, group = (results[n, k] for k in KINDS)
        figures[f"N={n}: separate / skip / group"] = (
            f"{sep.seconds:.2f} s / {skip.seconds:.2f} s / {group.seconds:.2f} s "
            f"({sep.seconds / group.seconds:.1f}x group)"
        )
        figures[f"N={n}: ms per run"] = (
            f"{1000 * sep.seconds / n:.1f} / {1000 * skip.seconds / n:.1f} / "
            f"{1000 * group.seconds / n:.1f}"
        )
        figures[f"N={n}: state per run"] = (
            f"separate {per_run_bytes(n, 'separate'):,.0f} B, "
            f"group {per_run_bytes(n, 'group'):,.0f} B"
        )
    checks = {
        f"every create sent exactly N triggers and recorded N runs (N in {list(ns)})": all(
            c.posts == n and c.runs_in_state == n for (n, _), c in results.items()
        )
    }
    top = max(ns)
    return Result(
        name="B5",
        measured=(
            f"`pulumi up` (create) of N runs, N in {', '.join(map(str, ns))}: separate "
            "ExtractionRuns, the same with PULUMI_SKIP_CHECKPOINTS=true, one ExtractionRunGroup"
        ),
        figures=figures,
        headline=f"group / separate at N={top}",
        value=results[top, "group"].seconds / results[top, "separate"].seconds,
        target=TARGET,
        summary="; ".join(
            f"N={n}: separate {results[n, 'separate'].seconds:.1f} s, skip "
            f"{results[n, 'skip'].seconds:.1f} s, group {results[n, 'group'].seconds:.1f} s, "
            f"{per_run_bytes(n, 'separate'):,.0f} / {per_run_bytes(n, 'group'):,.0f} B/run"
            for n in ns
        )
        + f"; empty {empty_seconds:.2f} s",
        checks=checks,
        notes=[
            "one create per N and kind (a create needs a fresh backend); state per run is "
            "separate / group, with the run's share of the stack outputs __main__.py exports",
        ],
    )
