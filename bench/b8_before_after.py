"""B8 before and after a change, in one run: ``python -m bench.b8_before_after <commit> [rounds]``.

The machine is shared and its load moves by more than a change to the create path is worth, so
the code of ``<commit>`` (``git archive`` of ``datagol_pulumi/`` into a temporary folder, put
first on the program's and provider's ``PYTHONPATH``) and this checkout's are timed in the
same rounds, alternating with B8's baseline (bench/bare_post_program.py): per round one
``up --skip-preview`` creating 200 resources of each side, in a fresh project and backend, the
order reversed every other round. Printed: wall and process-tree CPU per create, and the
medians over the rounds as ratios to the baseline's, for the minimal runs (bench/runs_program.py)
and the subject (``__main__.py`` with its exports), before (') and after.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from .b6_engine_path import _children_cpu
from .b8_create_path import RUNS, Bench
from .b10_bill import _export_package
from .common import emulator_process, log

#: (program, name, code of the commit?) in the order of a round.
SIDES = (
    ("baseline", "baseline", False),
    ("bare runs", "minimal runs before", True),
    ("bare runs", "minimal runs after", False),
    ("subject", "subject before", True),
    ("subject", "subject after", False),
)


def main(commit: str, rounds: int) -> None:
    created: dict[str, list[tuple[float, float]]] = {name: [] for _, name, _ in SIDES}
    with tempfile.TemporaryDirectory(prefix="bench-before-") as before, emulator_process() as emu:
        _export_package(commit, Path(before))
        bench = Bench(emu)
        for index in range(rounds):
            for label, name, old in SIDES if index % 2 == 0 else SIDES[::-1]:
                with bench.project(label, RUNS) as project:
                    if old:
                        project.env["PYTHONPATH"] = before
                    emu.control.clear_requests()
                    cpu = _children_cpu()
                    wall = project.up()
                    cpu = _children_cpu() - cpu
                    _, _, _, per_resource = bench.created(project, RUNS, name)
                created[name].append((wall, cpu))
                log(f"round {index}: {name} {wall:.2f} s, CPU {cpu:.2f} s, {per_resource:,} B")
    print(f"B8 before ({commit}) and after, {rounds} rounds of {RUNS} creates per side:")
    base = created["baseline"]
    for name, samples in created.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        low, high = min(w for w, _ in samples), max(w for w, _ in samples)
        # Each round's ratio to that round's baseline: the load moves less within a round.
        walls = statistics.median(w / b for (w, _), (b, _) in zip(samples, base, strict=True))
        cpus = statistics.median(c / b for (_, c), (_, b) in zip(samples, base, strict=True))
        print(
            f"  {name}: wall {wall:.2f} s ({low:.2f}-{high:.2f}), CPU {cpu:.2f} s; / baseline "
            f"(median of the rounds' ratios): wall {walls:.3f}, CPU {cpus:.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 6)
