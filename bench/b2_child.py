"""One B2 measurement in a fresh interpreter: build the rows, send them once, report as JSON.

``python -m bench.b2_child ROLE URL ROWS BATCH`` with ROLE ``subject`` (the provider's create),
``journal`` (the same with the provider's in-flight journal on, as under ``pulumi up``) or
``baseline`` (a bare ``requests`` loop over the same batches). A fresh process per
measurement makes its peak RSS (VmHWM, a high-water mark that never goes down) mean "this run";
the mark is reset just before the send to also get the peak of the send alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

# Both roles import the same modules before building rows, so their resident sets start equal
# and the peak difference is what sending costs, not what importing pulumi costs.
import requests
from pulumi.dynamic import Config, ConfigureRequest

from datagol_pulumi.config import STACK_SCOPE_KEY
from datagol_pulumi.payload import trigger_path
from datagol_pulumi.provider import ExtractionRunProvider
from datagol_pulumi.runs import validated

from .common import TOKEN, run_spec, wire_headers


def build_rows(count: int) -> list[dict[str, Any]]:
    """Small dict rows, as a program would read them from a file or a query."""
    return [{"id": i, "name": f"row {i}", "amount": i * 1.5} for i in range(count)]


def encode_batch(rows: list[dict[str, Any]]) -> bytes:
    """One batch body as a plain client would write it: the standard json module.

    Sorted keys and compact separators give the provider's canonical bytes (B2 checks that
    they are equal), so both sides send the same thing whatever encoder the provider uses.
    """
    return json.dumps(
        {"selectAll": False, "rows": rows},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def max_rss_kib() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Reset this process's peak-RSS mark (VmHWM) so that it then measures the send alone."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _subject(url: str, inputs: dict[str, Any], stack: str | None = None) -> int:
    provider = ExtractionRunProvider()
    inputs = {"datagol:baseUrl": url, "datagol:token": TOKEN}
    if stack:
        # As under `pulumi up`: knowing its stack turns on the provider's in-flight journal
        # (its folder comes from DATAGOL_JOURNAL_DIR, which the parent points at a temp dir).
        inputs[STACK_SCOPE_KEY] = stack
    provider.configure(ConfigureRequest(Config(raw_config=inputs, project_name="bench")))
    # validated() as the engine's check step does before create (which validates again).
    # The run's URN, as the program passes it: it names the run's journal entry.
    urn = "urn:pulumi:bench::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::b2"
    outs = provider.create({**validated(inputs), "__urn": urn}).outs
    if outs.get("error"):
        raise RuntimeError(f"provider create failed: {outs['error']}")
    return len(outs["request_ids"])


def _baseline(url: str, inputs: dict[str, Any]) -> int:
    path = trigger_path(
        inputs["workspace_id"],
        inputs["extraction_id"],
        inputs["element_type"],
        inputs["element_id"],
    )
    target = f"{url}{path}?extractOnlyNew=false"
    headers = wire_headers()
    rows, size = inputs["rows"], inputs["batch_size"]
    sent = 0
    with requests.Session() as session:
        for start in range(0, len(rows), size):
            body = encode_batch(rows[start : start + size])
            response = session.post(target, data=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"baseline batch answered {response.status_code}")
            sent += 1
    return sent


def main(argv: list[str]) -> int:
    role, url, count, batch = argv[0], argv[1], int(argv[2]), int(argv[3])
    rows = build_rows(count)
    inputs = run_spec(0, mode="selected", rows=rows, batch_size=batch)
    peak_before_send = _status_kib("VmHWM")
    sends: dict[str, Callable[[str, dict[str, Any]], int]] = {
        "baseline": _baseline,
        "subject": _subject,
        "journal": lambda u, i: _subject(u, i, stack="organization/datagol-pulumi/bench"),
    }
    send = sends[role]
    can_reset = reset_peak()
    rss_before_send = _status_kib("VmRSS")
    started = time.perf_counter()
    batches = send(url, inputs)
    seconds = time.perf_counter() - started
    send_peak = _status_kib("VmHWM")
    if not can_reset or None in (peak_before_send, send_peak, rss_before_send):
        raise RuntimeError("needs Linux /proc/self/status and a writable /proc/self/clear_refs")
    report = {
        "role": role,
        "seconds": seconds,
        "batches": batches,
        # Peak RSS of this interpreter: imports, rows, then the send.
        "peak_kib": max(peak_before_send, send_peak),
        "rss_before_send_kib": rss_before_send,
        "send_peak_kib": send_peak,
        # For reference only: on exec Linux keeps the pre-exec image's peak (the forked copy of
        # the PARENT) in ru_maxrss, so it shows the bench parent's peak, not this child's.
        "ru_maxrss_kib": max_rss_kib(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
