"""B4 no-op ``pulumi up`` of 200 declared runs, and the state each run costs.

The 200-run stack (mode full, no rows, one ExtractionRun each) is created once; then its
second ``up`` must send nothing to DataGOL, and is timed against the no-op ``up`` of the empty
stack (bench/empty_program.py: same imports, config and provider resource, zero runs).
State per run = (``pulumi stack export`` bytes of the 200-run stack - the empty stack's) / 200.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .common import Result, Samples, alternate, emulator_process, log, stack_runs
from .pulumi_cli import Project

RUNS = 200
REPS = 3
TARGET_BYTES = 2048
RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
#: `pulumi stack export` indents with 4 spaces; a resource's keys sit 4 levels deep.
_KEY_DEPTH = 4


def _exported_size(value: Any, depth: int) -> int:
    """Bytes ``value`` takes in the export when it starts at nesting ``depth``."""
    text = json.dumps(value, indent=4)
    return len(text.encode()) + text.count("\n") * 4 * depth


def breakdown(export: dict[str, Any], runs: int) -> Counter[str]:
    """Bytes per run by resource key, plus the run's share of the stack's outputs."""
    sizes: Counter[str] = Counter()
    resources = export["deployment"].get("resources", [])
    for resource in resources:
        if resource["type"] == RUN_TYPE:
            for key, value in resource.items():
                # '"key": ' + value + ',\n' + the key line's indentation.
                sizes[key] += len(key) + 4 + _exported_size(value, _KEY_DEPTH) + 2
                sizes[key] += 4 * _KEY_DEPTH
        elif resource["type"] == "pulumi:pulumi:Stack":
            sizes["(stack outputs per run)"] += _exported_size(
                resource.get("outputs", {}), _KEY_DEPTH
            )
    return Counter({k: round(v / runs) for k, v in sizes.items()})


def run() -> Result:
    stray: list[str] = []
    with emulator_process() as emu, Project(emu.url, empty=True) as empty, Project(emu.url) as full:
        full.set_runs(stack_runs(RUNS))
        log("B4: create the empty stack and the 200-run stack (first ups, not compared)")
        empty.up()
        created = Samples([full.up()])
        if emu.post_count() != RUNS:
            raise RuntimeError(f"B4: the create sent {emu.post_count()} triggers, not {RUNS}")

        def noop(project: Project, label: str) -> float:
            emu.control.clear_requests()
            seconds = project.up()
            count = emu.request_count()
            if count:
                stray.append(f"{count} request(s) in a no-op up of the {label} stack")
            return seconds

        log(f"B4: {REPS} no-op ups per stack, alternating")
        base, subj = alternate(
            REPS, lambda: noop(empty, "empty"), lambda: noop(full, f"{RUNS}-run")
        )
        empty_bytes, full_bytes = empty.export_bytes(), full.export_bytes()
        parts = breakdown(json.loads(full.pulumi("stack", "export").stdout), RUNS)

        # For comparison only: the same runs as ONE ExtractionRunGroup resource.
        log("B4: the same 200 runs as one ExtractionRunGroup (state size only)")
        with Project(emu.url) as grouped:
            grouped.set_runs(stack_runs(RUNS), group=True, maxConcurrency=32)
            grouped.up()
            group_bytes = grouped.export_bytes()

    per_run = (full_bytes - empty_bytes) / RUNS
    top = ", ".join(f"{k} {v}" for k, v in parts.most_common(6))
    return Result(
        name="B4",
        measured=f"no-op `pulumi up` of {RUNS} runs (mode full) vs empty stack; state per run",
        figures={
            f"create of {RUNS} runs (info)": created.describe(),
            "no-op up, empty stack": base.describe(),
            f"no-op up, {RUNS} runs": subj.describe(),
            "no-op time ratio": f"{subj.median / base.median:.3f} (no target)",
            "requests in no-op ups": str(len(stray) and "; ".join(stray) or 0),
            "stack export bytes": f"empty {empty_bytes:,}, {RUNS} runs {full_bytes:,}",
            "per-run bytes by key": top,
            "as one group (info)": f"{(group_bytes - empty_bytes) / RUNS:,.0f} B per run "
            f"(export {group_bytes:,} B)",
        },
        headline="state bytes per run",
        value=per_run,
        target=TARGET_BYTES,
        unit="B",
        summary=(
            f"no-op up empty {base.median:.2f} s, {RUNS} runs {subj.median:.2f} s "
            f"({subj.median / base.median:.2f}x), 0 requests: {'yes' if not stray else 'NO'}; "
            f"export {full_bytes:,} B vs {empty_bytes:,} B; per run: "
            + ", ".join(f"{k} {v}" for k, v in parts.most_common(3))
            + f"; as one group {(group_bytes - empty_bytes) / RUNS:,.0f} B/run"
        ),
        checks={"zero requests reached the emulator in every no-op up": not stray},
        notes=[
            "per-run bytes by key are approximate (indentation estimated) and include the "
            "run's share of the stack outputs that __main__.py exports",
        ],
    )
