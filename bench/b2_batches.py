"""B2 large selected run: 100,000 rows in batches of 5,000, wall time and peak memory.

Subject: the provider's create of one ``selected`` run. Baseline: a bare ``requests`` loop
posting the same batches (same canonical JSON bytes, same headers). Each measurement runs in
a fresh child interpreter (``python -m bench.b2_child``) that builds the rows itself, so its
peak RSS belongs to that one run; the child reports its own timing, so interpreter start-up
is not counted.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from typing import Any

from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.runs import validated

from .b2_child import build_rows, encode_batch
from .common import ROOT, Result, Samples, emulator_process, log, rotate, run_spec

ROWS = 100_000
BATCH = 5_000
REPS = 5
TARGET = 1.2
#: Each batch is ~0.3 MB; the emulator's default cap (16 MiB) would do, this leaves no doubt.
MAX_BODY_BYTES = 256 * 1024 * 1024


def _child(role: str, url: str, rows: int, journal_dir: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.b2_child", role, url, str(rows), str(BATCH)],
        cwd=ROOT,
        env={**os.environ, "DATAGOL_JOURNAL_DIR": journal_dir},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.b2_child {role} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _rows_size() -> tuple[int, int]:
    """(bytes the rows occupy in memory, bytes of their canonical JSON)."""
    tracemalloc.start()
    rows = build_rows(ROWS)
    in_memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    json_bytes = len(json.dumps(rows, sort_keys=True, separators=(",", ":")).encode())
    return in_memory, json_bytes


def _same_bytes() -> bool:
    """True when the baseline's batches are byte for byte the bodies the provider sends."""
    rows = build_rows(ROWS)
    inputs = validated(run_spec(0, mode="selected", rows=rows, batch_size=BATCH))
    sent = [request.data for request in trigger_requests(inputs)]
    ours = [encode_batch(rows[i : i + BATCH]) for i in range(0, ROWS, BATCH)]
    return sent == ours


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def run() -> Result:
    batches = -(-ROWS // BATCH)
    reports: dict[str, list[dict[str, Any]]] = {"baseline": [], "subject": [], "journal": []}
    with (
        emulator_process(max_body_bytes=MAX_BODY_BYTES) as emu,
        tempfile.TemporaryDirectory(prefix="bench-journal-") as journal_dir,
    ):

        def measure(role: str) -> float:
            report = _child(role, emu.url, ROWS, journal_dir)
            if report["batches"] != batches:
                raise RuntimeError(f"{role} sent {report['batches']} batches, not {batches}")
            reports[role].append(report)
            # The emulator keeps every body it received; dropping them keeps its memory and
            # its garbage collector's work the same for every repetition.
            emu.control.reset()
            emu.control.configure(max_body_bytes=MAX_BODY_BYTES)
            return float(report["seconds"])

        log(f"B2: warm-up, then {REPS} child processes per side, rotating")
        _child("subject", emu.url, BATCH, journal_dir)  # page cache for the imports; not counted
        emu.control.reset()
        emu.control.configure(max_body_bytes=MAX_BODY_BYTES)
        rotate(REPS, {role: functools.partial(measure, role) for role in reports})

    base = Samples([r["seconds"] for r in reports["baseline"]])
    subj = Samples([r["seconds"] for r in reports["subject"]])
    jour = Samples([r["seconds"] for r in reports["journal"]])

    def med(role: str, key: str) -> float:
        return statistics.median(r[key] for r in reports[role])

    peak_b, peak_s = med("baseline", "peak_kib"), med("subject", "peak_kib")
    # What the send itself adds on top of the resident set it started from.
    send_b = med("baseline", "send_peak_kib") - med("baseline", "rss_before_send_kib")
    send_s = med("subject", "send_peak_kib") - med("subject", "rss_before_send_kib")
    start_b = med("baseline", "rss_before_send_kib")
    start_s = med("subject", "rss_before_send_kib")
    ru_b, ru_s = med("baseline", "ru_maxrss_kib"), med("subject", "ru_maxrss_kib")
    rows_bytes, json_bytes = _rows_size()  # after the children: keeps this process small
    same_bytes = _same_bytes()
    ratio = subj.median / base.median
    return Result(
        name="B2",
        measured=f"{ROWS:,} selected rows in batches of {BATCH:,}: provider create vs bare loop",
        figures={
            "baseline (bare loop)": base.describe(),
            "subject (create)": subj.describe(),
            "rows in memory": f"{rows_bytes / 2**20:.1f} MiB (tracemalloc); as JSON "
            f"{json_bytes / 2**20:.1f} MiB",
            "peak RSS baseline": f"{_mib(peak_b)} (before send {_mib(start_b)}, send +{_mib(send_b)})",
            "peak RSS subject": f"{_mib(peak_s)} (before send {_mib(start_s)}, send +{_mib(send_s)})",
            "peak RSS ratio": f"{peak_s / peak_b:.3f} (send increment ratio {send_s / max(send_b, 1):.1f})",
            "ru_maxrss (see note)": f"baseline {_mib(ru_b)}, subject {_mib(ru_s)}",
            "ratio of mins": f"{subj.min / base.min:.3f}",
            "with journal (info)": f"{jour.describe()}; ratio {jour.median / base.median:.3f}",
        },
        headline="wall ratio (median/median)",
        value=ratio,
        target=TARGET,
        summary=(
            f"bare {base.median:.2f} s, create {subj.median:.2f} s; peak RSS bare "
            f"{_mib(peak_b)} (send +{_mib(send_b)}), create {_mib(peak_s)} (send "
            f"+{_mib(send_s)}); rows {rows_bytes / 2**20:.1f} MiB; with journal "
            f"{jour.median:.2f} s ({jour.median / base.median:.1f}x)"
        ),
        checks={"baseline batches are byte-identical to the provider's bodies": same_bytes},
        notes=[
            "subject = provider without a stack, as configured in the brief; 'with journal' = "
            "datagol:stack set as under `pulumi up` (journal in a temp folder)",
            "RSS = VmHWM of each child (median over children), before-send = VmRSS once the "
            "rows exist, send = peak reset via /proc/self/clear_refs then read after the send. "
            "Both roles import the same modules, so the difference is what sending costs.",
            "ru_maxrss is not used: after fork+exec Linux reports the pre-exec image's peak, "
            "i.e. this bench process's, in the child's ru_maxrss.",
        ],
    )
