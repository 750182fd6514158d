"""B12 the preview's Get Extractions reads: a preview of 200 new runs over 20 elements, with the
reads (one per element) against the same preview with them off (DATAGOL_SKIP_PREVIEW_READS).

Both previews are of a stack never deployed (200 creates), alternating; the emulator lists the
runs' extraction for every element, so the reads pass as a real tenant's would. Each preview
must send no POST; the one with reads must read each element exactly once.
"""

from __future__ import annotations

from .common import Result, alternate, emulator_process, log, stack_runs
from .pulumi_cli import Project

RUNS = 200
ELEMENTS = 20
REPS = 7
TARGET = 1.15


def run() -> Result:
    runs = stack_runs(RUNS)
    for index, spec in enumerate(runs.values()):
        spec["element_id"] = f"col-{index % ELEMENTS}"
    listed = {f"COLUMN/col-{i}": [{"id": "ext-bench", "title": "Bench"}] for i in range(ELEMENTS)}
    problems: list[str] = []
    with emulator_process(element_extractions=listed) as emu, Project(emu.url) as project:
        project.set_runs(runs)

        def preview(skip: bool) -> float:
            emu.control.clear_requests()
            project.env["DATAGOL_SKIP_PREVIEW_READS"] = "true" if skip else "false"
            seconds, _ = project.preview()
            requests = emu.control.requests()
            posts = [r for r in requests if r["method"] == "POST"]
            reads = sorted(r["path"] for r in requests if r["method"] == "GET")
            expected = 0 if skip else ELEMENTS
            if posts or len(reads) != expected or len(set(reads)) != len(reads):
                problems.append(
                    f"{'off' if skip else 'on'}: {len(posts)} POSTs, {len(reads)} reads "
                    f"({len(set(reads))} elements), expected {expected}"
                )
            return seconds

        log(f"B12: {REPS} previews of {RUNS} new runs over {ELEMENTS} elements, reads off/on")
        off, on = alternate(REPS, lambda: preview(True), lambda: preview(False))
    ratio = on.median / off.median
    return Result(
        name="B12",
        measured=f"preview of {RUNS} new runs over {ELEMENTS} elements, reads on vs off",
        figures={
            "preview, reads off": off.describe(),
            "preview, reads on": on.describe(),
            "problems": "; ".join(problems) or "none",
        },
        headline="reads on / off",
        value=ratio,
        target=TARGET,
        summary=f"off {off.median:.2f} s, on {on.median:.2f} s ({ratio:.3f}x)",
        checks={"no POST; one read per element with reads on, none off": not problems},
    )
