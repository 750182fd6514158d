"""B10 what counting the bill costs: no-op ``pulumi preview`` of 200 runs, with and without it.

Issue 18 counts, in ``check`` and ``diff``, the runs each operation of an update will send. A
no-op must not pay for that. One stack of 200 ExtractionRuns (mode full, bench/runs_program.py,
which both packages can run) is created once; then its no-op preview is timed, rotating, with
this checkout's package (the count, default limit) and with the package as it was before the
count (``git archive`` of the commit before it, put first on PYTHONPATH, so that the program and
the provider process import it instead).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from .common import ROOT, Result, alternate, emulator_process, log, stack_runs
from .pulumi_cli import Project

RUNS = 200
REPS = 5
TARGET = 1.05
#: The last commit without the count (its parent is where bill.py first appears).
BILL_FILE = "datagol_pulumi/bill.py"
PROGRAM = Path(__file__).with_name("runs_program.py")


def _baseline_commit() -> str:
    # BENCH_B10_BASELINE=<commit>: compare with that package instead (e.g. main before a change
    # to the preview's path: issue 22 holds a no-op preview within 1.05x of it).
    if os.environ.get("BENCH_B10_BASELINE"):
        return os.environ["BENCH_B10_BASELINE"]
    first = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", BILL_FILE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    return f"{first}^"


def _export_package(commit: str, into: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "datagol_pulumi"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run() -> Result:
    stray: list[str] = []
    commit = _baseline_commit()
    with (
        tempfile.TemporaryDirectory(prefix="bench-b10-") as baseline,
        emulator_process() as emu,
        Project(emu.url) as project,
    ):
        _export_package(commit, Path(baseline))
        if not os.environ.get("BENCH_B10_BASELINE") and (Path(baseline) / BILL_FILE).exists():
            raise RuntimeError(f"B10: {commit} already counts the bill")
        # One program for both sides, which both packages can run (B6's runs without exports).
        shutil.copy(PROGRAM, project.workdir / "__main__.py")
        project.set_runs(stack_runs(RUNS))
        log(f"B10: create the {RUNS}-run stack (not compared)")
        project.up()
        if emu.post_count() != RUNS:
            raise RuntimeError(f"B10: the create sent {emu.post_count()} triggers, not {RUNS}")
        with_count = {
            k: v for k, v in project.env.items() if k != "DATAGOL_MAX_TRIGGERS_PER_UPDATE"
        }
        without = {**project.env, "PYTHONPATH": baseline}

        def preview(env: dict[str, str], label: str) -> float:
            emu.control.clear_requests()
            saved, project.env = project.env, env
            try:
                seconds, output = project.preview()
            finally:
                project.env = saved
            if emu.request_count():
                stray.append(f"{emu.request_count()} request(s) in a no-op preview {label}")
            if "DataGOL" in output or "to update" in output or "to create" in output:
                stray.append(f"a no-op preview {label} showed a change or a bill")
            return seconds

        log(f"B10: {REPS} no-op previews with and without the count, alternating")
        base, subj = alternate(
            REPS, lambda: preview(without, "without"), lambda: preview(with_count, "with")
        )

    ratio = subj.median / base.median
    return Result(
        name="B10",
        measured=f"no-op `pulumi preview` of {RUNS} runs: with the bill vs without ({commit})",
        figures={
            f"no-op preview, {RUNS} runs, without the count": base.describe(),
            f"no-op preview, {RUNS} runs, with the count (limit 25)": subj.describe(),
            "with / without, fastest of each (info)": f"{subj.min / base.min:.3f}",
            "requests or changes in no-op previews": "; ".join(stray) or "none",
        },
        headline="with / without wall (median/median)",
        value=ratio,
        target=TARGET,
        summary=(
            f"no-op preview {RUNS} runs: without {base.median:.2f} s, with {subj.median:.2f} s; "
            f"0 requests: {'yes' if not stray else 'NO'}"
        ),
        checks={"no no-op preview sent a request, changed or billed anything": not stray},
        notes=["a no-op diff finds no change, so the count is never reached: the ratio is noise"],
    )
