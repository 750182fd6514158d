"""B9 the window a killed runner can still cost: from a trigger POST reaching DataGOL to the
stack's state on disk holding that run's request id.

Until the checkpoint holds the request id, only this runner's in-flight journal knows the run
was accepted: a runner killed in that window (and a different runner's next ``up``, which never
sees that journal) finds no record of it in the state. ``pulumi up --skip-preview`` of runs that
wait for completion (the real CLI, file backend, ``__main__.py``), one fresh project per case:

* single:      one waited ExtractionRun;
* group-100:   one waited ExtractionRunGroup of 100 runs, ``max_concurrency`` 16;
* group-800:   the same with 800 runs;
* single-slow: one waited ExtractionRun whose POST the emulator answers 0.5 s late;
* single, no hook and group-800, no hook: diagnostics, the same program without the failure hook
  (bench/runs_nohook_program.py), which the engine runs before it checkpoints the step.

The emulator records each request's arrival (``time``, wall clock, after the body was read) and
the request id it issued; a thread in the bench stats the stack's checkpoint file
(``<backend>/.pulumi/stacks/<project>/<stack>.json``) every POLL seconds and, whenever it
changed, reads it: the window of a run = first version holding its request id - its POST's
arrival. Each figure is an upper bound, at most one poll (plus the read) late. The emulator's jobs
take JOB_SECONDS, so a window shorter than that shows the id was recorded before the run ended.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from .b8_create_path import NOHOOK_MAIN
from .common import ROOT, Result, StateWatch, emulator_process, log, stack_runs
from .pulumi_cli import Project

POLL = 0.002
JOB_SECONDS = 1.0
SLOW_ANSWER = 0.5
CONCURRENCY = 16
WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.2}
#: case -> (runs, as a group)
CASES = {
    "single": (1, False),
    "group-100": (100, True),
    "group-800": (800, True),
    "single-slow": (1, False),
    "single, no hook": (1, False),
    "group-800, no hook": (800, True),
}
HERE = Path(__file__).parent


@dataclass
class Window:
    runs: int
    windows: list[float]
    #: First to last POST arrival: how long triggering took.
    trigger_span: float
    #: Most runs accepted by DataGOL but not yet in the state file at one moment.
    exposed: int
    up_seconds: float
    versions: int
    polls: int
    missing: int

    @property
    def median(self) -> float:
        return statistics.median(self.windows)

    @property
    def max(self) -> float:
        return max(self.windows)


def _exposed(posted: list[float], recorded: list[float]) -> int:
    """The most runs that were posted but not yet recorded at any one moment."""
    events = sorted([(t, 1) for t in posted] + [(t, -1) for t in recorded])
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return most


def measure(emu, case: str) -> Window:
    runs, group = CASES[case]
    with Project(emu.url) as project:
        if case.endswith("no hook"):
            # Diagnostic: the same program without the failure hook the engine runs after the
            # step (bench/runs_nohook_program.py).
            program = (HERE / "runs_nohook_program.py").read_text()
            (project.workdir / "__main__.py").write_text(program)
            (project.workdir / NOHOOK_MAIN).write_text((ROOT / "__main__.py").read_text())
        project.set_runs(stack_runs(runs, width=3, **WAIT), group=group, maxConcurrency=CONCURRENCY)
        emu.control.clear_requests()
        emu.control.clear_faults()
        if case == "single-slow":
            emu.control.add_fault(status=None, delay=SLOW_ANSWER, method="POST")
        with StateWatch(project.state_file, interval=POLL) as watch:
            seconds = project.up()
        posts = emu.control.requests(method="POST")
        emu.control.clear_faults()
    ids = {p["request_id"]: p["time"] for p in posts if p["request_id"]}
    if len(posts) != runs or len(ids) != runs:
        raise RuntimeError(
            f"B9 {case}: {len(posts)} POSTs, {len(ids)} request ids; {runs} expected"
        )
    seen = watch.first_seen()
    missing = [rid for rid in ids if rid not in seen]
    windows = [seen[rid] - t for rid, t in ids.items() if rid in seen]
    return Window(
        runs=runs,
        windows=windows,
        trigger_span=max(ids.values()) - min(ids.values()),
        exposed=_exposed(list(ids.values()), [seen[rid] for rid in ids if rid in seen]),
        up_seconds=seconds,
        versions=len(watch.versions),
        polls=watch.polls,
        missing=len(missing),
    )


def run() -> Result:
    results: dict[str, Window] = {}
    with emulator_process(job_seconds=JOB_SECONDS) as emu:
        for case in CASES:
            log(f"B9: {case}")
            results[case] = measure(emu, case)
            w = results[case]
            log(f"B9:   window median {1000 * w.median:.0f} ms, max {1000 * w.max:.0f} ms")
    figures: dict[str, str] = {}
    for case, w in results.items():
        figures[f"{case} ({w.runs} run{'s' if w.runs > 1 else ''})"] = (
            f"window median {1000 * w.median:.0f} ms, max {1000 * w.max:.0f} ms, min "
            f"{1000 * min(w.windows):.0f} ms; POSTs over {1000 * w.trigger_span:.0f} ms; at most "
            f"{w.exposed} accepted run(s) not yet in state; up {w.up_seconds:.2f} s; "
            f"{w.versions} checkpoint versions seen in {w.polls:,} polls"
        )
    one, g100, g800, slow, one_bare, g800_bare = (results[c] for c in CASES)
    added = g800.runs - g100.runs
    figures[f"group growth {g100.runs} -> {g800.runs} runs"] = (
        f"median x{g800.median / g100.median:.1f}, max x{g800.max / g100.max:.1f} "
        f"({1000 * (g800.max - g100.max) / added:.2f} ms more max window per added run)"
    )
    figures["slow answer adds (single-slow - single, median)"] = (
        f"{1000 * (slow.median - one.median):.0f} ms for a {1000 * SLOW_ANSWER:.0f} ms delay"
    )
    figures["the failure hook's share (with - without, median / min window)"] = (
        f"single {1000 * (one.median - one_bare.median):.0f} ms; group-800 "
        f"{1000 * (g800.median - g800_bare.median):.0f} / "
        f"{1000 * (min(g800.windows) - min(g800_bare.windows)):.0f} ms: the window includes the "
        "after-create hook's run in the program"
    )
    checks = {
        "every case: N POSTs, every request id found in the state file": all(
            w.missing == 0 for w in results.values()
        ),
        f"single: recorded before the run could finish (window < job {JOB_SECONDS:g} s)": (
            one.max < JOB_SECONDS
        ),
    }
    return Result(
        name="B9",
        measured=(
            "time from a trigger POST reaching DataGOL to its request id being in the stack's "
            "checkpoint file, waited runs, `pulumi up` (file backend)"
        ),
        figures=figures,
        headline="single waited run, window (ms, median)",
        value=1000 * one.median,
        target=0.0,
        unit="ms",
        summary="; ".join(
            f"{case}: median {1000 * w.median:.0f} ms, max {1000 * w.max:.0f} ms"
            for case, w in results.items()
        ),
        checks=checks,
        informational=True,
        notes=[
            f"the state file is polled every {1000 * POLL:g} ms: each window is at most that "
            "(plus one read) longer than the true one",
            f"groups: max_concurrency {CONCURRENCY}; a group is checkpointed once all its POSTs "
            "are answered, so its first run waits for the whole trigger phase",
            f"emulator jobs take {JOB_SECONDS:g} s; runs poll every "
            f"{WAIT['poll_interval_seconds']} s",
        ],
    )
