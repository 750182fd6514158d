"""``python -m bench [B1 ... B6] [--no-record]``: run benchmarks, print, append to RESULTS.md.

Each benchmark measures its subject against a baseline in the same run and prints one block.
Exit status: 0 when every benchmark produced its measurement, PASS or MISS alike (a miss is a
finding, not a failure); 1 when one raised, or when a correctness check it makes failed
(verdict FAIL: e.g. a no-op ``up`` that sent requests), since then the figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from . import (
    b1_trigger,
    b2_batches,
    b3_concurrency,
    b4_noop,
    b5_seeding,
    b6_engine_path,
    b7_plugin,
    b8_create_path,
    b9_window,
    b10_bill,
    b11_extractions,
    b12_preview_reads,
)
from .common import ROOT, Result, cpu_count, log

BENCHES: dict[str, Callable[[], Result]] = {
    "B1": b1_trigger.run,
    "B2": b2_batches.run,
    "B3": b3_concurrency.run,
    "B4": b4_noop.run,
    "B5": b5_seeding.run,
    "B6": b6_engine_path.run,
    "B7": b7_plugin.run,
    "B8": b8_create_path.run,
    "B9": b9_window.run,
    "B10": b10_bill.run,
    "B11": b11_extractions.run,
    "B12": b12_preview_reads.run,
}
RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = """# Benchmark results

Appended by `make bench` (or `.venv/bin/python -m bench [B1 ... B6]`), one row per benchmark
per run; see the docstrings in `bench/b*.py` for what each measures. Every ratio is subject over
a baseline measured in the same run against the same local emulator process, median of
alternating repetitions. Commit marked `+dirty` means `datagol_pulumi/`, `__main__.py`,
`Pulumi.yaml` or `bench/` had uncommitted changes when it ran. The machine is shared: the load
column is the 1-minute load average when the run started (2 cores: above ~1 means contention).

| Date (UTC) | Bench | Commit | Cores | Memory | Load | Figures | Value | Target | Verdict |
|---|---|---|---|---|---|---|---|---|---|
"""


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=30
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def commit() -> str:
    short = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git(
        "status",
        "--porcelain",
        "--",
        "datagol_pulumi",
        "__main__.py",
        "Pulumi.yaml",
        "bench",
        ":(exclude)bench/RESULTS.md",
    )
    return f"{short}+dirty" if changed else short


def memory() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def record(results: Sequence[Result], load: float) -> None:
    """Append one row per result; creates the file with its header first."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    machine = (commit(), str(cpu_count()), memory(), f"{load:.2f}")
    rows = []
    for r in results:
        value = f"{r.headline} {r.show(r.value)}"
        cells = (date, r.name, *machine, r.summary, value, r.target_text, r.verdict)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |\n")
    new = not RESULTS.exists()
    with RESULTS.open("a", encoding="utf-8") as handle:
        if new:
            handle.write(HEADER)
        handle.writelines(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "names", nargs="*", metavar="B1..B6", help="benchmarks to run (default: all)"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    names = [n.upper() for n in args.names] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}")

    load = os.getloadavg()[0]
    started = time.monotonic()
    log(f"running {' '.join(names)} on {cpu_count()} cores, {memory()}, load {load:.2f}")
    results: list[Result] = []
    errors: list[str] = []
    for name in names:
        bench_started = time.monotonic()
        try:
            result = BENCHES[name]()
        except Exception:  # report it and go on: the other benchmarks still measure
            traceback.print_exc()
            errors.append(name)
            print(f"== {name}: ERROR (see the traceback above)\n", flush=True)
            continue
        results.append(result)
        print(result.block(), flush=True)
        print(f"  ({name} took {time.monotonic() - bench_started:.0f} s)\n", flush=True)

    if results and not args.no_record:
        record(results, load)
        log(f"appended {len(results)} row(s) to {RESULTS.relative_to(ROOT)}")
    failed = [r.name for r in results if r.verdict == "FAIL"]
    log(
        f"done in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{r.name} {r.verdict}" for r in results)
        + (f"; errors: {', '.join(errors)}" if errors else "")
    )
    return 1 if errors or failed else 0


if __name__ == "__main__":
    sys.exit(main())
