"""B3 waiting runs under a real ``pulumi up``: 32 ExtractionRuns vs one group vs the floor.

Every run takes 2 s in the emulator and waits for completion (polling every 0.2 s). Three
deployments, each a create in a fresh project and backend:

* runs:  32 ExtractionRuns (``datagol-pulumi:group: false``);
* group: one ExtractionRunGroup (``group: true``, ``maxConcurrency: 32``);
* empty: bench/empty_program.py, the same imports, config and DataGOL provider resource but no
  run (the real program refuses zero runs).

Floor = 2 s (one job, which no client can shorten) + the empty stack's ``up``.
"""

from __future__ import annotations

from .common import Result, Samples, emulator_process, log, stack_runs
from .pulumi_cli import Project

RUNS = 32
JOB_SECONDS = 2.0
POLL_SECONDS = 0.2
REPS = 3
TARGET = 1.5


def in_flight(arrivals: list[float]) -> int:
    """Most jobs running at once, from trigger arrival times (each job lasts JOB_SECONDS)."""
    return max((sum(1 for a in arrivals if t - JOB_SECONDS < a <= t) for t in arrivals), default=0)


def run() -> Result:
    samples = {"empty": Samples(), "group": Samples(), "runs": Samples()}
    concurrency: dict[str, list[int]] = {"group": [], "runs": []}
    with emulator_process(job_seconds=JOB_SECONDS) as emu:

        def deploy(kind: str) -> float:
            with Project(emu.url, empty=kind == "empty") as project:
                if kind != "empty":
                    project.set_runs(
                        stack_runs(
                            RUNS, 2, wait_for_completion=True, poll_interval_seconds=POLL_SECONDS
                        ),
                        group=kind == "group",
                        maxConcurrency=RUNS,
                    )
                emu.control.clear_requests()
                seconds = project.up()
                posts = emu.control.requests(method="POST")
                sent = len(posts)
            expected = 0 if kind == "empty" else RUNS
            if sent != expected:
                raise RuntimeError(
                    f"B3 {kind}: {sent} triggers reached the emulator, not {expected}"
                )
            if kind != "empty" and seconds < JOB_SECONDS:
                raise RuntimeError(f"B3 {kind}: up took {seconds:.2f} s, less than one job")
            if kind != "empty":
                concurrency[kind].append(in_flight([p["time"] for p in posts]))
            return seconds

        log("B3: warm-up up of an empty stack (first engine start is slower)")
        deploy("empty")
        order: list[str] = list(samples)
        for rep in range(REPS):
            # Rotate the order so that no kind always runs first or last in a repetition.
            for kind in order[rep % 3 :] + order[: rep % 3]:
                log(f"B3: rep {rep + 1}/{REPS}: pulumi up ({kind})")
                samples[kind].add(deploy(kind))

    empty, group, runs = samples["empty"], samples["group"], samples["runs"]
    floor = JOB_SECONDS + empty.median

    def vs_floor(samples: Samples) -> float:
        return samples.median / floor

    return Result(
        name="B3",
        measured=(
            f"{RUNS} runs of {JOB_SECONDS:g} s each, waited for, under `pulumi up` (create): "
            "32 ExtractionRuns vs one ExtractionRunGroup vs floor"
        ),
        figures={
            "empty stack up": empty.describe(),
            "floor (2 s + empty)": f"{floor:.3f} s",
            "group up": group.describe(),
            f"{RUNS} ExtractionRuns up": runs.describe(),
            f"{RUNS} runs / floor": f"{vs_floor(runs):.3f}",
            f"{RUNS} runs / group": f"{runs.median / group.median:.3f}",
            "most jobs in flight": f"group {max(concurrency['group'])}, {RUNS} runs "
            f"{max(concurrency['runs'])} (from trigger arrival times at the emulator)",
        },
        headline="group / floor",
        value=vs_floor(group),
        target=TARGET,
        summary=(
            f"empty {empty.median:.2f} s, floor {floor:.2f} s, group {group.median:.2f} s, "
            f"{RUNS} runs {runs.median:.2f} s ({vs_floor(runs):.2f}x floor, at most "
            f"{max(concurrency['runs'])} in flight)"
        ),
        notes=[
            "floor program = bench/empty_program.py: same imports, config reads and explicit "
            "DataGOL provider resource as __main__.py, zero runs"
        ],
    )
