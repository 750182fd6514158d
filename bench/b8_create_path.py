"""B8 the create path: ``pulumi up --skip-preview`` creating N ExtractionRuns vs N trivial
dynamic resources that each send one bare POST, and where the difference goes.

Two programs, each create in a fresh project and file backend, against one emulator process:

* baseline: bench/bare_post_program.py, a provider (bench/bare_post_provider.py, copied beside
  it) whose ``create`` sends one bare ``requests.post`` of the trigger's bytes (same path, query,
  body, headers) and returns the request id; the runs' four ids as inputs (like B6's trivial
  resources). Its pickled provider holds nothing (it reads what it sends from BENCH_BARE_POST):
  until 2026-12-07 it held them, ~1.4 KB more state per resource than a trivial resource has,
  which made the baseline slower and the ratio ~0.2 lower than an independent harness's
  (docs/benchmarks.md, B8);
* subject:  ``__main__.py`` itself, N ExtractionRuns (mode full, not waiting) with its exports.

Timed, rotating, REPS creates of each: N=200 with checkpoints (the default); N=200 with
``PULUMI_SKIP_CHECKPOINTS=true`` (where the no-hook and no-bill programs below are timed too,
as diagnostics); N=100 with ``--parallel 1``. Every create must send exactly N POSTs, and both
sides must send the same (path, query, body) set.

Then one probed create of each, plus ``bench/runs_program.py`` (the runs without the exports),
``bench/runs_nohook_program.py`` (the subject without its after-create failure hook) and
``bench/b8_nobill_program.py`` (the subject whose provider's check leaves out the bill):
bench/probe splits the process tree's CPU into the program, the provider process (per Check and
Create call: the SDK's (de)serialization, ``get_provider``, the provider's own method) and the
rest (the Go engine and the hosts); a watcher counts the checkpoint's rewrites and their bytes.
And one profiled create of each: the program-side SDK functions and asyncio tasks per resource.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.runs import validated

from .b6_engine_path import Probe, _children_cpu, probed_up, profiled
from .common import (
    ROOT,
    Result,
    Samples,
    StateWatch,
    emulator_process,
    log,
    rotate,
    run_spec,
    stack_runs,
    wire_headers,
)
from .pulumi_cli import Project

BARE_ENV = "BENCH_BARE_POST"  # bench/bare_post_provider.py reads what it sends from there

RUNS = 200
SEQUENTIAL_RUNS = 100
REPS = 3
TARGET = 1.25
HERE = Path(__file__).parent
PROGRAMS = {
    "baseline": HERE / "bare_post_program.py",
    "bare runs": HERE / "runs_program.py",
    "no hook": HERE / "runs_nohook_program.py",
    "no bill": HERE / "b8_nobill_program.py",
    "subject": ROOT / "__main__.py",
}
TIMED = ("baseline", "subject")
#: Timed too as diagnostics: minimal ExtractionRuns (no exports, as a user's own program may
#: declare them); and where checkpoints are skipped (the engine's writes hide less there), what
#: the failure hook and the bill each cost in wall time.
DIAGNOSED = {"checkpoints": ("bare runs",), "skip": ("no hook", "no bill")}
#: Probed only: the bill's cost is in the provider process, which cProfile does not see.
PROFILED = ("baseline", "bare runs", "no hook", "subject")
#: The name bench/runs_nohook_program.py (and b8_nobill_program.py) runs the real program under.
NOHOOK_MAIN = "datagol_main.py"
SIDE_TYPES = (
    "pulumi-python:dynamic/datagol:ExtractionRun",
    "pulumi-python:dynamic/bench:BarePost",
)
VARIANTS = {
    "checkpoints": ({}, ()),
    "skip": ({"PULUMI_SKIP_CHECKPOINTS": "true"}, ()),
    "parallel 1": ({}, ("--parallel", "1")),
}


@dataclass
class Create:
    seconds: float
    cpu: float
    posts: int
    wire: Counter[tuple[str, str, str]]
    state_bytes: int
    resource_bytes: int


def bare_config(url: str) -> dict[str, object]:
    """What the baseline program sends: the provider's own request for a run, and its headers."""
    request = next(trigger_requests(validated(run_spec(0))))
    return {
        "url": url,
        "query": urlencode(request.query),
        "headers": wire_headers(),
        "body": request.data.decode(),
    }


def _wire(posts: list[dict]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (p["path"], json.dumps(p["query"], sort_keys=True), json.dumps(p["body"])) for p in posts
    )


class Bench:
    def __init__(self, emu) -> None:
        self.emu = emu

    def project(self, label: str, runs: int) -> Project:
        project = Project(self.emu.url)
        (project.workdir / "__main__.py").write_text(PROGRAMS[label].read_text())
        if label == "baseline":
            provider = HERE / "bare_post_provider.py"
            (project.workdir / provider.name).write_text(provider.read_text())
        if label in ("no hook", "no bill"):
            (project.workdir / NOHOOK_MAIN).write_text((ROOT / "__main__.py").read_text())
        if label == "no bill":
            provider = HERE / "b8_nobill_provider.py"
            (project.workdir / provider.name).write_text(provider.read_text())
        if label == "baseline":
            project.env[BARE_ENV] = json.dumps(bare_config(self.emu.url))
        project.set_runs(stack_runs(runs))
        return project

    def created(self, project: Project, runs: int, label: str) -> tuple[int, Counter, int, int]:
        posts = self.emu.control.requests(method="POST")
        bad = [p["status"] for p in posts if p["status"] != 200]
        if len(posts) != runs or bad:
            raise RuntimeError(
                f"B8 {label}: create sent {len(posts)} POSTs (expected {runs}), "
                f"{len(bad)} not answered 200"
            )
        state = json.loads(project.state_file.read_bytes())
        resources = state["checkpoint"]["latest"].get("resources", [])
        # The bytes one resource of this side adds to every checkpoint (indented, as written).
        ours = [json.dumps(r, indent=4) for r in resources if r["type"] in SIDE_TYPES]
        if len(ours) != runs:
            raise RuntimeError(f"B8 {label}: {len(ours)} resources in state, expected {runs}")
        per_resource = sum(len(text.encode()) for text in ours) // runs
        return len(posts), _wire(posts), project.state_file.stat().st_size, per_resource

    def create(self, label: str, variant: str, runs: int) -> Create:
        env, args = VARIANTS[variant]
        with self.project(label, runs) as project:
            project.env.update(env)
            self.emu.control.clear_requests()
            cpu = _children_cpu()
            seconds = project.up(*args)
            cpu = _children_cpu() - cpu
            return Create(seconds, cpu, *self.created(project, runs, label))

    def probed(self, label: str) -> tuple[Probe, int, int, int, int]:
        """Probe, checkpoint versions seen, their bytes, the state's bytes at the end, and the
        bytes of one resource of this side in it."""
        with self.project(label, RUNS) as project:
            self.emu.control.clear_requests()
            with StateWatch(project.state_file, interval=0.001) as watch:
                probe, _ = probed_up(project)
            _, _, size, per_resource = self.created(project, RUNS, label)
            written = sum(len(v) for _, v in watch.versions)
            return probe, len(watch.versions), written, size, per_resource

    def profiled(self, label: str) -> tuple[dict[str, float], int, int, int]:
        """The WATCHED functions and asyncio tasks (B6), and how often the SDK's
        ``wait_for_rpcs`` called ``asyncio.wait`` and how many done-callbacks that added: it
        waits on every pending output task again after each one completes."""
        with self.project(label, RUNS) as project:
            self.emu.control.clear_requests()
            _, stats = probed_up(project, profile=True)
            self.created(project, RUNS, label)
            assert stats is not None
            found, tasks = profiled(stats)
            waits = callbacks = 0
            for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
                if name == "wait" and filename.endswith("asyncio/tasks.py"):
                    waits += row[1]
                elif name == "<method 'add_done_callback' of '_asyncio.Task' objects>":
                    callbacks += row[1]
            return found, tasks, waits, callbacks


def run() -> Result:
    creates: dict[tuple[str, str], list[Create]] = {}
    with emulator_process() as emu:
        bench = Bench(emu)
        for variant in VARIANTS:
            runs = SEQUENTIAL_RUNS if variant == "parallel 1" else RUNS
            log(f"B8: {REPS} creates of {runs} resources per side, {variant}, rotating")
            timed = TIMED + DIAGNOSED.get(variant, ())
            for label in timed:
                creates[label, variant] = []

            def one(label: str, variant: str = variant, runs: int = runs) -> float:
                made = bench.create(label, variant, runs)
                creates[label, variant].append(made)
                log(f"B8:   {label} {variant}: {made.seconds:.2f} s")
                return made.seconds

            rotate(REPS, {label: lambda label=label: one(label) for label in timed})
        log("B8: one probed create of each program (with checkpoint watcher)")
        probes = {label: bench.probed(label) for label in PROGRAMS}
        log("B8: one profiled create of each program")
        profiles = {label: bench.profiled(label) for label in PROFILED}
    return _result(creates, probes, profiles)


def _ms(seconds: float, runs: int = RUNS) -> str:
    return f"{1000 * seconds / runs:.2f}"


def _median_us(probe: Probe, method: str, part: str) -> float:
    values = [c.get(part, 0.0) for c in probe.calls.get(method, [])]
    return 1e6 * statistics.median(values) if values else 0.0


def _result(
    creates: dict[tuple[str, str], list[Create]],
    probes: dict[str, tuple[Probe, int, int, int, int]],
    profiles: dict[str, tuple[dict[str, float], int, int, int]],
) -> Result:
    wall = {key: Samples([c.seconds for c in made]) for key, made in creates.items()}
    cpu = {key: Samples([c.cpu for c in made]) for key, made in creates.items()}
    ratios = {v: wall["subject", v].median / wall["baseline", v].median for v in VARIANTS}
    figures: dict[str, str] = {}
    for variant in VARIANTS:
        runs = SEQUENTIAL_RUNS if variant == "parallel 1" else RUNS
        for label in TIMED:
            figures[f"N={runs} {variant}: {label}"] = (
                f"{wall[label, variant].describe()}; CPU tree {cpu[label, variant].median:.2f} s"
                f"; {1000 * wall[label, variant].median / runs:.1f} ms per resource"
            )
        figures[f"N={runs} {variant}: subject / baseline"] = (
            f"wall {ratios[variant]:.3f}, CPU "
            f"{cpu['subject', variant].median / cpu['baseline', variant].median:.3f}"
        )
        for label in DIAGNOSED.get(variant, ()):
            figures[f"N={runs} {variant}: {label} / baseline (diagnostic)"] = (
                f"wall {wall[label, variant].median / wall['baseline', variant].median:.3f} "
                f"({wall[label, variant].describe()}), CPU "
                f"{cpu[label, variant].median / cpu['baseline', variant].median:.3f}"
            )
    for label in TIMED:
        figures[f"checkpoint cost (checkpoints - skip), {label}"] = (
            f"{wall[label, 'checkpoints'].median - wall[label, 'skip'].median:.2f} s"
        )
    base = probes["baseline"][0]
    for label, (probe, versions, written, size, per_resource) in probes.items():
        figures[f"probed create, {label}"] = (
            f"CPU tree {probe.tree_cpu:.2f} s: program {probe.program_cpu:.2f}, provider "
            f"{probe.provider_cpu:.2f}, engine and hosts {probe.rest_cpu:.2f}; checkpoint at "
            f"the end {size:,} B ({per_resource:,} B per resource entry); {versions} versions "
            f"seen while it ran, {written / 2**20:.1f} MiB"
        )
    for label in ("bare runs", "no hook", "no bill", "subject"):
        probe = probes[label][0]
        figures[f"extra CPU ms per resource, {label} vs baseline"] = (
            f"program {_ms(probe.program_cpu - base.program_cpu)}, provider "
            f"{_ms(probe.provider_cpu - base.provider_cpu)}, engine and hosts "
            f"{_ms(probe.rest_cpu - base.rest_cpu)} (tree {_ms(probe.tree_cpu - base.tree_cpu)})"
        )
    for method in ("Check", "Create"):
        for label in ("subject", "no bill", "baseline"):
            figures[f"{method} in the provider, {label}"] = probes[label][0].per_call(method)
    for label in PROFILED:
        found, tasks, waits, callbacks = profiles[label]
        figures[f"program ms per resource (cProfile), {label}"] = (
            f"asyncio tasks {tasks / RUNS:.0f}, asyncio.wait calls {waits / RUNS:.1f}, task "
            f"done-callbacks added {callbacks / RUNS:,.0f}; "
            + ", ".join(f"{k} {_ms(v)}" for k, v in sorted(found.items(), key=lambda kv: -kv[1]))
        )
    every = [c for made in creates.values() for c in made]
    wire_ok = all(creates["subject", v][0].wire == creates["baseline", v][0].wire for v in VARIANTS)
    checks = {
        "every create sent exactly N POSTs, all answered 200": all(
            c.posts in (RUNS, SEQUENTIAL_RUNS) for c in every
        ),
        "both sides sent the same (path, query, body) POSTs": wire_ok,
    }
    subject_create = _median_us(probes["subject"][0], "Create", "handler")
    baseline_create = _median_us(probes["baseline"][0], "Create", "handler")
    return Result(
        name="B8",
        measured=(
            f"`pulumi up` creating {RUNS} ExtractionRuns (mode full, not waiting) vs {RUNS} "
            "trivial dynamic resources sending one bare POST each"
        ),
        figures=figures,
        headline=f"subject / baseline wall at N={RUNS}, checkpoints on (median/median)",
        value=ratios["checkpoints"],
        target=TARGET,
        summary=(
            f"N={RUNS}: baseline {wall['baseline', 'checkpoints'].median:.2f} s, subject "
            f"{wall['subject', 'checkpoints'].median:.2f} s ({ratios['checkpoints']:.2f}); skip "
            f"checkpoints {wall['baseline', 'skip'].median:.2f} / "
            f"{wall['subject', 'skip'].median:.2f} s ({ratios['skip']:.2f}; no hook "
            f"{wall['no hook', 'skip'].median:.2f}, no bill {wall['no bill', 'skip'].median:.2f}"
            f"); --parallel 1 "
            f"N={SEQUENTIAL_RUNS} {wall['baseline', 'parallel 1'].median:.2f} / "
            f"{wall['subject', 'parallel 1'].median:.2f} s ({ratios['parallel 1']:.2f}); "
            f"state {probes['baseline'][4]:,} / {probes['subject'][4]:,} B per resource entry"
            f"; Create handler {baseline_create:,.0f} / {subject_create:,.0f} µs"
        ),
        checks=checks,
        notes=[
            "each create runs in a fresh project and backend; probed and profiled figures are "
            "from one create each and include the probe's overhead: compare them across "
            "programs, not with the timed figures",
            "bare runs = the subject's runs without __main__.py's stack exports; no hook = the "
            "subject without ExtractionRun's after-create failure hook; no bill = the subject "
            "whose provider's check does not count the runs (its Get Extractions read stays; "
            "diagnostics only)",
        ],
    )
