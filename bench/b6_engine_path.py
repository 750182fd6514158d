"""B6 cost per run on the engine's path: no-op ``pulumi up`` of 200 ExtractionRuns vs 200
trivial dynamic resources, and where the difference goes.

Three stacks of 200 resources against one emulator, created once:

* trivial: bench/trivial_program.py, a create-only provider, the runs' four ids as inputs;
* bare:    bench/runs_program.py, 200 ExtractionRuns (mode full) and no stack exports;
* runs:    ``__main__.py`` itself, the same runs with its six exported outputs per run.

Then (no-op ups only, none may send a request to DataGOL):

1. timed: REPS no-op ups of each, rotating; wall time and the CPU of the whole process tree
   (``RUSAGE_CHILDREN`` around the CLI: engine, language host, program, provider process);
2. probed: one no-op up of each with bench/probe on PYTHONPATH, which splits that CPU into the
   program process, the provider process (per Check and Diff call: the SDK's (de)serialization,
   ``get_provider``, the provider's own check/diff) and the rest (the Go engine and hosts);
3. profiled: one no-op up of each with cProfile in the program process: the program-side
   functions that differ, and how many asyncio tasks the SDK creates per resource;
4. in process, without a profiler: the SDK's per-resource ``resource_types`` and
   ``serialize_provider`` for ExtractionRun.
"""

from __future__ import annotations

import glob
import json
import os
import pstats
import resource
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import ROOT, Result, Samples, emulator_process, log, rotate, stack_runs
from .pulumi_cli import Project

RUNS = 200
REPS = 7
TARGET = 1.1
HERE = Path(__file__).parent
PROBE = HERE / "probe"
PROGRAMS = {
    "trivial": HERE / "trivial_program.py",
    "bare": HERE / "runs_program.py",
    "runs": ROOT / "__main__.py",
}
#: Program-side functions compared per resource: label -> (file suffix, function name).
WATCHED = {
    "SDK resource_types": ("pulumi/_types.py", "resource_types"),
    "SDK resolve_outputs": ("pulumi/runtime/rpc.py", "resolve_outputs"),
    "SDK wait_for_rpcs": ("pulumi/runtime/stack.py", "wait_for_rpcs"),
    "SDK serialize_properties": ("pulumi/runtime/rpc.py", "serialize_properties"),
    "SDK serialize_provider": ("pulumi/dynamic/dynamic.py", "serialize_provider"),
    "SDK engine log calls": ("grpc/_channel.py", "_blocking"),
    "ExtractionRun.__init__": ("datagol_pulumi/resource.py", "__init__"),
    "report_failure": ("datagol_pulumi/resource.py", "report_failure"),
    "with_provider": ("datagol_pulumi/resource.py", "with_provider"),
    "load_runs": ("datagol_pulumi/stack_config.py", "load_runs"),
}


@dataclass
class Probe:
    """One probed no-op up: CPU seconds by process, and the provider's calls by method."""

    tree_cpu: float
    program_cpu: float
    provider_cpu: float
    #: method -> one dict per call: "handler" and each part -> CPU seconds
    calls: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def rest_cpu(self) -> float:
        return self.tree_cpu - self.program_cpu - self.provider_cpu

    def per_call(self, method: str) -> str:
        """Median CPU µs per call of the handler and its parts; the first call separately."""
        calls = self.calls.get(method, [])
        if not calls:
            return "no calls"
        labels = sorted({k for c in calls for k in c}, key=lambda k: (k != "handler", k))
        medians = ", ".join(
            f"{k} {1e6 * statistics.median(c.get(k, 0.0) for c in calls):.0f}" for k in labels
        )
        return (
            f"{len(calls)} calls, median µs: {medians}; first call {1e6 * calls[0]['handler']:,.0f}"
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_up(project: Project, **env: str) -> tuple[float, float]:
    """Wall and process-tree CPU seconds of one ``pulumi up``, with ``env`` added."""
    saved = project.env
    project.env = {**saved, **env}
    try:
        cpu = _children_cpu()
        wall = project.up()
        return wall, _children_cpu() - cpu
    finally:
        project.env = saved


def probed_up(project: Project, profile: bool = False) -> tuple[Probe, pstats.Stats | None]:
    """One no-op up with bench/probe active (and cProfile in the program if ``profile``)."""
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as folder:
        env = {"PYTHONPATH": str(PROBE), "BENCH_PROBE_DIR": folder}
        if profile:
            env["BENCH_PROBE_PROFILE"] = "1"
        _, tree = measured_up(project, **env)
        programs = glob.glob(os.path.join(folder, "program-*.json"))
        providers = glob.glob(os.path.join(folder, "provider-*.jsonl"))
        if len(programs) != 1 or len(providers) != 1:
            raise RuntimeError(f"B6 probe: one program and one provider expected in {folder}")
        lines = [json.loads(line) for line in Path(providers[0]).read_text().splitlines()]
        calls: dict[str, list[dict[str, float]]] = defaultdict(list)
        for line in lines:
            calls[line["method"]].append({"handler": line["cpu"], **line["parts"]})
        stats = None
        if profile:
            stats = pstats.Stats(glob.glob(os.path.join(folder, "program-*.prof"))[0])
        probe = Probe(
            tree_cpu=tree,
            program_cpu=json.loads(Path(programs[0]).read_text())["cpu"],
            provider_cpu=max(line["process_cpu"] for line in lines),
            calls=dict(calls),
        )
        return probe, stats


def profiled(stats: pstats.Stats) -> tuple[dict[str, float], int]:
    """Cumulative seconds of the WATCHED functions, and the asyncio tasks created."""
    found: dict[str, float] = {}
    tasks = 0
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if name == "create_task" and filename.endswith("asyncio/base_events.py"):
            tasks += row[1]  # primitive call count
        for label, (suffix, function) in WATCHED.items():
            if filename.endswith(suffix) and name == function:
                found[label] = found.get(label, 0.0) + row[3]
    return found, tasks


def per_call_us(action: Callable[[], Any], calls: int = RUNS) -> float:
    """Median µs of ``action`` over 5 rounds of ``calls`` calls, in this process."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        rounds.append((time.perf_counter() - started) / calls)
    return 1e6 * statistics.median(rounds)


def in_process() -> dict[str, str]:
    """The SDK steps that depend on ExtractionRun's class and provider, without a profiler.

    ``serialize_provider`` wraps ``pickle._Pickler._batch_setitems`` once more on every call
    and never unwraps it, so each dynamic resource a program declares makes the next one's
    serialization slower, until the wrappers exceed the recursion limit. Measured here from a
    clean pickler, which is restored afterwards.
    """
    import pickle

    from pulumi import _types
    from pulumi.dynamic.dynamic import serialize_provider

    from datagol_pulumi import ExtractionRun, ExtractionRunProvider

    annotations = len(ExtractionRun.__annotations__)
    figures = {
        f"resource_types(ExtractionRun), {annotations} annotations": (
            f"{per_call_us(lambda: _types.resource_types(ExtractionRun)):,.0f} µs per resource"
        )
    }
    clean = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    try:
        times, failed_at = [], None
        for call in range(1, 5 * RUNS + 1):
            started = time.perf_counter()
            try:
                serialize_provider(ExtractionRunProvider())
            except RecursionError:
                failed_at = call
                break
            times.append(time.perf_counter() - started)
    finally:
        pickle._Pickler._batch_setitems = clean  # type: ignore[attr-defined]
    figures["serialize_provider(ExtractionRunProvider()), Nth call in one process"] = ", ".join(
        f"N={n} {1e6 * times[n - 1]:,.0f} µs" for n in (1, RUNS, 4 * RUNS) if n <= len(times)
    ) + (f"; RecursionError at N={failed_at}" if failed_at else "")
    return figures


def _ms(seconds: float) -> str:
    return f"{1000 * seconds / RUNS:.2f}"


def run() -> Result:
    stray: list[str] = []
    cpu = {label: Samples() for label in PROGRAMS}
    projects: dict[str, Project] = {}
    with emulator_process() as emu:
        try:
            for label, program in PROGRAMS.items():
                projects[label] = project = Project(emu.url)
                (project.workdir / "__main__.py").write_text(program.read_text())
                project.set_runs(stack_runs(RUNS))
                log(f"B6: create {RUNS} resources ({label}; not compared)")
                emu.control.clear_requests()
                project.up()
                expected = 0 if label == "trivial" else RUNS
                if emu.post_count() != expected:
                    raise RuntimeError(f"B6 {label}: create sent {emu.post_count()} triggers")

            def noop(label: str) -> float:
                emu.control.clear_requests()
                wall, tree = measured_up(projects[label])
                cpu[label].add(tree)
                if emu.request_count():
                    stray.append(f"{emu.request_count()} request(s) in a no-op up ({label})")
                return wall

            log(f"B6: {REPS} no-op ups of each, rotating")
            wall = rotate(REPS, {label: lambda label=label: noop(label) for label in PROGRAMS})
            log("B6: one probed and one profiled no-op up of each")
            emu.control.clear_requests()
            probes = {label: probed_up(p)[0] for label, p in projects.items()}
            profiles = {label: profiled(probed_up(p, True)[1]) for label, p in projects.items()}
            if emu.request_count():
                stray.append(f"{emu.request_count()} request(s) in the probed no-op ups")
            state = {label: p.export_bytes() for label, p in projects.items()}
        finally:
            for project in projects.values():
                project.close()
    micro = in_process()
    return _result(wall, cpu, probes, profiles, state, micro, stray)


def _result(
    wall: dict[str, Samples],
    cpu: dict[str, Samples],
    probes: dict[str, Probe],
    profiles: dict[str, tuple[dict[str, float], int]],
    state: dict[str, int],
    micro: dict[str, str],
    stray: list[str],
) -> Result:
    ratio = wall["runs"].median / wall["trivial"].median
    triv = probes["trivial"]
    figures: dict[str, str] = {
        f"no-op up, {label}": f"{wall[label].describe()}; CPU tree {cpu[label].describe()}"
        for label in PROGRAMS
    }
    figures["ratios runs / bare / trivial"] = (
        f"wall {ratio:.3f} / {wall['bare'].median / wall['trivial'].median:.3f}; CPU "
        f"{cpu['runs'].median / cpu['trivial'].median:.3f} / "
        f"{cpu['bare'].median / cpu['trivial'].median:.3f}"
    )
    figures["requests in no-op ups"] = "; ".join(stray) or "0"
    figures["state bytes per resource"] = ", ".join(
        f"{label} {size / RUNS:,.0f}" for label, size in state.items()
    )
    for label in ("bare", "runs"):
        probe = probes[label]
        figures[f"probed extra CPU ms per resource, {label} vs trivial"] = (
            f"program {_ms(probe.program_cpu - triv.program_cpu)}, provider "
            f"{_ms(probe.provider_cpu - triv.provider_cpu)}, engine and hosts "
            f"{_ms(probe.rest_cpu - triv.rest_cpu)} (tree {_ms(probe.tree_cpu - triv.tree_cpu)})"
        )
    for method in ("Check", "Diff"):
        for label in ("runs", "trivial"):
            figures[f"{method} in the provider, {label}"] = probes[label].per_call(method)
    for label in PROGRAMS:
        found, tasks = profiles[label]
        figures[f"program ms per resource (cProfile), {label}"] = (
            f"asyncio tasks {tasks / RUNS:.0f}; "
            + ", ".join(f"{k} {_ms(v)}" for k, v in sorted(found.items(), key=lambda kv: -kv[1]))
        )
    for what, text in micro.items():
        figures[f"in process: {what}"] = text
    extra = {label: probes[label].tree_cpu - triv.tree_cpu for label in ("bare", "runs")}
    return Result(
        name="B6",
        measured=f"no-op `pulumi up` of {RUNS} ExtractionRuns vs {RUNS} trivial dynamic resources",
        figures=figures,
        headline="runs / trivial wall (median/median)",
        value=ratio,
        target=TARGET,
        summary=(
            f"no-op up trivial {wall['trivial'].median:.2f} s, runs without exports "
            f"{wall['bare'].median:.2f} s, runs {wall['runs'].median:.2f} s; CPU tree "
            f"{cpu['trivial'].median:.2f} / {cpu['bare'].median:.2f} / {cpu['runs'].median:.2f} s;"
            f" extra CPU per run (probed) bare {_ms(extra['bare'])} ms, runs {_ms(extra['runs'])}"
            f" ms: program {_ms(probes['runs'].program_cpu - triv.program_cpu)}, provider "
            f"{_ms(probes['runs'].provider_cpu - triv.provider_cpu)}, engine "
            f"{_ms(probes['runs'].rest_cpu - triv.rest_cpu)}"
        ),
        checks={"zero requests reached the emulator in every no-op up": not stray},
        notes=[
            "bare = the runs without __main__.py's stack exports (bench/runs_program.py)",
            "probed and profiled figures are from one up each; the probe and cProfile add "
            "overhead, so compare them across stacks, not with the timed figures",
        ],
    )
