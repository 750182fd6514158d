"""Shared bench plumbing: the emulator as a separate process, timing statistics, results.

The emulator always runs as its own process (the ``datagol-emulator`` CLI) so that the
client-side wall times measure the client; the server's work overlaps on the other core the
same way for baseline and subject.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagol_pulumi.emulator import EmulatorControl

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_ID = "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f"
TOKEN = "bench-token"
#: The console script installed in the venv next to the interpreter running the bench.
EMULATOR_CLI = Path(sys.executable).parent / "datagol-emulator"


@dataclass
class EmulatorProcess:
    """A running ``datagol-emulator`` child process and a control client for it."""

    url: str
    control: EmulatorControl
    process: subprocess.Popen[bytes]

    def post_count(self) -> int:
        return len(self.control.requests(method="POST"))

    def request_count(self) -> int:
        """Every API request received (control-API calls are never recorded)."""
        return len(self.control.requests())


@contextmanager
def emulator_process(job_seconds: float = 0.0, **settings: Any) -> Iterator[EmulatorProcess]:
    """Start the emulator CLI on a free loopback port; ``settings`` go to /_emulator/config."""
    with tempfile.TemporaryDirectory(prefix="bench-emu-") as tmp:
        port_file = Path(tmp) / "port"
        log = open(Path(tmp) / "emulator.log", "wb")  # noqa: SIM115 - closed in finally
        command = [
            str(EMULATOR_CLI if EMULATOR_CLI.exists() else "datagol-emulator"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--token",
            TOKEN,
            "--job-seconds",
            str(job_seconds),
        ]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "datagol-emulator did not start: "
                        + (Path(tmp) / "emulator.log").read_text(errors="replace")
                    )
                time.sleep(0.02)
            url = f"http://127.0.0.1:{int(port_file.read_text().strip())}"
            control = EmulatorControl(url).wait_ready()
            if settings:
                control.configure(**settings)
            yield EmulatorProcess(url, control, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


@dataclass
class Samples:
    """Repeated measurements of one quantity (seconds, unless said otherwise)."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    def describe(self, unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
        return (
            f"median {self.median * scale:.{digits}f} {unit}, min {self.min * scale:.{digits}f} "
            f"{unit} (n={len(self.values)})"
        )


def timed(action: Callable[[], Any]) -> float:
    """Wall seconds of one call."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def rotate(reps: int, sides: dict[str, Callable[[], float]]) -> dict[str, Samples]:
    """Run every side ``reps`` times, rotating which goes first in each repetition.

    Rotating (ABC, BCA, CAB, ...) spreads slow drift (other load on the machine, page cache,
    emulator state) evenly over the sides instead of charging it to whichever runs last.
    """
    samples = {name: Samples() for name in sides}
    names = list(sides)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].add(sides[name]())
    return samples


def alternate(
    reps: int, baseline: Callable[[], float], subject: Callable[[], float]
) -> tuple[Samples, Samples]:
    """:func:`rotate` for a baseline and a subject."""
    both = rotate(reps, {"baseline": baseline, "subject": subject})
    return both["baseline"], both["subject"]


@dataclass
class Result:
    """One benchmark's outcome: printed as a block and appended as a row of RESULTS.md."""

    name: str
    measured: str
    #: label -> human-readable figure, printed in order.
    figures: dict[str, str]
    #: The one figure the target applies to (a ratio for B1-B3, bytes per run for B4).
    headline: str
    value: float
    target: float
    #: "x" for a ratio, else the unit of ``value``.
    unit: str = "x"
    #: Short figures for the RESULTS.md row (the block has the full ones).
    summary: str = ""
    #: Correctness conditions beyond ``value <= target`` (label -> held).
    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: A measurement without a pass/fail target (verdict INFO; ``target`` is not shown).
    informational: bool = False

    @property
    def verdict(self) -> str:
        if not all(self.checks.values()):
            return "FAIL"  # a correctness condition, not a speed target, did not hold
        if self.informational:
            return "INFO"
        return "PASS" if self.value <= self.target else "MISS"

    @property
    def target_text(self) -> str:
        return "none (informational)" if self.informational else f"<= {self.show(self.target)}"

    def show(self, value: float) -> str:
        return f"{value:.3f}" if self.unit == "x" else f"{value:,.0f} {self.unit}"

    def block(self) -> str:
        labels = [*self.figures, self.headline, "target", "verdict", "check"]
        width = max(len(k) for k in labels)
        lines = [f"== {self.name}: {self.measured}"]
        lines += [f"  {k:<{width}}  {v}" for k, v in self.figures.items()]
        lines.append(f"  {self.headline:<{width}}  {self.show(self.value)}")
        lines.append(f"  {'target':<{width}}  {self.target_text}")
        for label, ok in self.checks.items():
            lines.append(f"  {'check':<{width}}  {label}: {'ok' if ok else 'FAILED'}")
        lines.append(f"  {'verdict':<{width}}  {self.verdict}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps only the result blocks."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_spec(index: int, **extra: Any) -> dict[str, Any]:
    """One run's inputs (mode full unless ``extra`` says otherwise) with a distinct element."""
    return {
        "workspace_id": WORKSPACE_ID,
        "extraction_id": "ext-bench",
        "element_type": "COLUMN",
        "element_id": f"col-{index}",
        **extra,
    }


def stack_runs(count: int, width: int = 3, **extra: Any) -> dict[str, dict[str, Any]]:
    """``count`` runs for the program's ``datagol-pulumi:runs``, named ``run-NNN``; the workspace
    comes from ``datagol-pulumi:defaults``, as a user would write it."""
    specs = {}
    for index in range(count):
        spec = run_spec(index, **extra)
        del spec["workspace_id"]
        specs[f"run-{index:0{width}d}"] = spec
    return specs


def wire_headers() -> dict[str, str]:
    """The headers the provider's client sends with a trigger, for the bare baselines.

    Its session sets User-Agent and Accept, the client adds Content-Type and Authorization per
    request, and requests adds Accept-Encoding and Connection on both sides alike.
    """
    from datagol_pulumi.client import USER_AGENT

    return {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {TOKEN}",
    }


def cpu_count() -> int:
    return os.cpu_count() or 1


#: A request id as the emulator (and DataGOL) issue them: a UUID.
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class StateWatch:
    """Watches one file (a stack's checkpoint) from a thread: every ``interval`` seconds a
    ``stat``; when inode, mtime or size changed, the file is read and kept with the time of
    the poll that saw the change (``time.time()``, the emulator's request clock).

    The hot loop only stats, so it costs little CPU; the contents are searched afterwards.
    A version that lives shorter than one interval can be missed, never mis-timed: each time
    is an upper bound, at most one interval (plus the read) after the write.
    """

    def __init__(self, path: Path, interval: float = 0.002) -> None:
        self.path = path
        self.interval = interval
        self.versions: list[tuple[float, bytes]] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="state-watch", daemon=True)

    def __enter__(self) -> StateWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        last: tuple[int, int, int] | None = None
        while True:
            stopping = self._stop.is_set()  # one more look after stop: the final write
            self.polls += 1
            try:
                info = os.stat(self.path)
            except FileNotFoundError:
                info = None
            if info is not None:
                key = (info.st_ino, info.st_mtime_ns, info.st_size)
                if key != last:
                    seen = time.time()
                    try:
                        data = self.path.read_bytes()
                    except FileNotFoundError:
                        data = None
                    if data is not None:
                        self.versions.append((seen, data))
                        last = key
            if stopping:
                return
            self._stop.wait(self.interval)

    def first_seen(self) -> dict[str, float]:
        """Request id (any UUID in the file) -> when the file was first seen holding it."""
        seen: dict[str, float] = {}
        for when, data in self.versions:
            for match in set(_UUID.findall(data)):
                seen.setdefault(match.decode(), when)
        return seen
