"""B1 trigger overhead: the provider's create vs a bare ``requests`` POST of the same request.

Subject: ``ExtractionRunProvider().create(validated(inputs))``, i.e. what the engine makes the
provider do for one run (``check`` validates, then ``create`` validates again, sends, echoes).
Baseline: ``requests.Session().post`` of the same URL (query included), the same JSON bytes
and the same headers (Authorization included). Both talk to one emulator process.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import requests
from pulumi.dynamic import Config, ConfigureRequest

from datagol_pulumi.config import STACK_SCOPE_KEY
from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.provider import ExtractionRunProvider
from datagol_pulumi.runs import validated

from .common import (
    TOKEN,
    Result,
    Samples,
    emulator_process,
    log,
    rotate,
    run_spec,
    timed,
    wire_headers,
)

TRIGGERS = 200
REPS = 21
WARMUP = 20
TARGET = 1.15
BENCH_URN = "urn:pulumi:bench::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::b1"
#: Where the provider's in-flight journal goes (datagol_pulumi/journal.py).
JOURNAL_ENV = "DATAGOL_JOURNAL_DIR"


def _provider(url: str, stack: str | None = None) -> ExtractionRunProvider:
    provider = ExtractionRunProvider()
    # The provider resource's inputs, as the engine hands them to configure.
    inputs = {"datagol:baseUrl": url, "datagol:token": TOKEN}
    if stack:
        # Under a real `pulumi up` the provider also knows its stack, which turns on the
        # in-flight journal (a file written before and removed after every trigger).
        inputs[STACK_SCOPE_KEY] = stack
    provider.configure(ConfigureRequest(Config(raw_config=inputs, project_name="bench")))
    return provider


def _wire_view(record: dict[str, Any]) -> tuple[Any, ...]:
    """What the emulator saw of one request, minus what legitimately differs (ids, times)."""
    return (
        record["path"],
        record["query"],
        record["body"],
        record["body_bytes"],
        sorted(record["headers"].items()),
        record["auth"].get("token_sha256"),
        record["status"],
    )


def run() -> Result:
    inputs = run_spec(1)
    request = next(trigger_requests(validated(inputs)))
    with emulator_process() as emu, tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        url = f"{emu.url}{request.path}?{urlencode(request.query)}"
        headers = wire_headers()
        body = request.data
        # This process's CPU time per block: the client's own work, without the server's.
        cpu = {"bare": Samples(), "create": Samples(), "journal": Samples(), "alike": Samples()}

        def measure(side: str, action: Callable[[], None]) -> float:
            started_cpu = time.process_time()
            seconds = timed(action)
            cpu[side].add(time.process_time() - started_cpu)
            emu.control.clear_requests()  # keeps the emulator's record list short and flat
            return seconds

        def bare(count: int = TRIGGERS) -> float:
            with requests.Session() as session:

                def send_all() -> None:
                    for _ in range(count):
                        response = session.post(url, data=body, headers=headers)
                        if response.status_code != 200:
                            raise RuntimeError(f"baseline POST answered {response.status_code}")

                return measure("bare", send_all)

        def alike(count: int = TRIGGERS) -> float:
            """Bare requests with what the client must do too: timeouts, a capped streamed read."""
            with requests.Session() as session:

                def send_all() -> None:
                    for _ in range(count):
                        response = session.post(
                            url, data=body, headers=headers, timeout=(10, 60), stream=True
                        )
                        b"".join(response.iter_content(64 * 1024))
                        if response.status_code != 200:
                            raise RuntimeError(f"baseline POST answered {response.status_code}")

                return measure("alike", send_all)

        def create(count: int = TRIGGERS, stack: str | None = None) -> float:
            provider = _provider(emu.url, stack)

            # As under `pulumi up`: the program passes the run's URN, which names its journal
            # entry (validated() stands for the engine's check step).
            props = {**validated(inputs), "__urn": BENCH_URN}

            def create_all() -> None:
                for _ in range(count):
                    result = provider.create(props)
                    if result.outs.get("error") or not result.outs.get("request_id"):
                        raise RuntimeError(f"provider create failed: {result.outs}")

            try:
                return measure("journal" if stack else "create", create_all)
            finally:
                provider.client().close()

        def journaled(count: int = TRIGGERS) -> float:
            return create(count, stack="organization/datagol-pulumi/bench")

        # The journal's folder: a temporary one, never the user's ~/.local/state.
        saved_dir = os.environ.get(JOURNAL_ENV)
        os.environ[JOURNAL_ENV] = tmp
        try:
            log(f"B1: warm-up, then {REPS} x {TRIGGERS} triggers per side, rotating")
            # The warm-up also proves both sides put the same request on the wire.
            emu.control.clear_requests()
            _provider(emu.url).create(validated(inputs))
            requests.Session().post(url, data=body, headers=headers)
            seen = emu.control.requests(method="POST")
            same_request = len(seen) == 2 and _wire_view(seen[0]) == _wire_view(seen[1])
            bare(WARMUP), create(WARMUP), journaled(WARMUP), alike(WARMUP)
            for samples in cpu.values():
                samples.values.clear()
            sides = rotate(
                REPS, {"bare": bare, "create": create, "journal": journaled, "alike": alike}
            )
        finally:
            if saved_dir is None:
                os.environ.pop(JOURNAL_ENV, None)
            else:
                os.environ[JOURNAL_ENV] = saved_dir

    base, subj, jour, like = sides["bare"], sides["create"], sides["journal"], sides["alike"]
    ratio = subj.median / base.median
    per_trigger_us = 1e6 / TRIGGERS
    overhead_us = (subj.median - base.median) * per_trigger_us
    cpu_us = {side: samples.median * per_trigger_us for side, samples in cpu.items()}
    return Result(
        name="B1",
        measured=f"{TRIGGERS} sequential triggers: provider create vs bare requests POST",
        figures={
            "baseline (bare POST)": base.describe(),
            "subject (create)": subj.describe(),
            "per trigger": f"bare {base.median * per_trigger_us:.0f} us, create "
            f"{subj.median * per_trigger_us:.0f} us (+{overhead_us:.0f} us)",
            "client CPU per trigger": f"bare {cpu_us['bare']:.0f} us, create "
            f"{cpu_us['create']:.0f} us (ratio {cpu_us['create'] / cpu_us['bare']:.3f})",
            "ratio of mins": f"{subj.min / base.min:.3f}",
            "with journal (info)": f"{jour.describe()}; ratio {jour.median / base.median:.3f}, "
            f"CPU {cpu_us['journal']:.0f} us per trigger",
            "bare + timeouts + capped streamed read (info)": f"{like.describe()}; create / this "
            f"{subj.median / like.median:.3f}",
        },
        headline="ratio (median/median)",
        value=ratio,
        target=TARGET,
        summary=(
            f"{TRIGGERS} triggers: bare {base.median:.3f} s, create {subj.median:.3f} s "
            f"(+{overhead_us:.0f} us/trigger); with journal {jour.median:.3f} s "
            f"({jour.median / base.median:.2f}x)"
        ),
        checks={"both sides sent the same request (path, query, body, headers)": same_request},
        notes=[
            "subject = provider without a stack, as configured in the brief; 'with journal' = "
            "the same with datagol:stack set, as under `pulumi up` (journal in a temp folder)"
        ],
    )
