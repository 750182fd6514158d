"""An ExtractionRunGroup's runs: each key goes through the same lifecycle as one ExtractionRun.

A key is triggered when it is new or its run inputs changed, resent when its ledger holds batches
that never reached DataGOL, and carried over otherwise. One key's failure never hides another's
success, and a trigger refused before anything started never costs a key its previous results.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .client import DataGolClient
from .journal import InflightJournal
from .runs import carry_over, echo_inputs, has_pending, trigger_run
from .validation import changed_properties

#: Status of a new group member whose trigger was refused before anything could start; the next
#: ``pulumi up`` tries it again.
NOT_SENT = "NOT_SENT"
_RETRY = " Nothing was started; the next `pulumi up` tries this run again."


def reconcile_group(
    client: DataGolClient,
    runs: Mapping[str, Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
    *,
    max_concurrency: int,
    journal: InflightJournal | None = None,
    group: str | None = None,
    wait: bool = True,
    secret: Mapping[str, Collection[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Outputs per run key: trigger new, changed and unfinished runs concurrently, carry over
    the rest. ``group`` is the group's URN: with the key, it names each run in the journal.
    ``wait`` False leaves waiting to a completion step (see :func:`runs.trigger_run`).
    ``secret``: per key, the run's inputs that hold a secret (kept out of its messages)."""
    results: dict[str, dict[str, Any]] = {}
    plans: dict[str, tuple[int, Mapping[str, Any] | None]] = {}
    for key, inputs in runs.items():
        old = previous.get(key)
        if old is None:
            plans[key] = (1, None)
            continue
        replace, trigger, _ = changed_properties(old, inputs)
        if replace or trigger or old.get("status") == NOT_SENT:
            plans[key] = (int(old.get("run_count") or 0) + 1, None)
        elif has_pending(old):
            plans[key] = (int(old.get("run_count") or 1), old)  # the same run, continued
        else:
            results[key] = carry_over(inputs, old, (secret or {}).get(key, ()))

    def run_one(key: str) -> dict[str, Any]:
        run_count, resume = plans[key]
        try:
            return trigger_run(
                client,
                runs[key],
                run_count=run_count,
                journal=journal,
                run=f"{group}#{key}" if group else None,
                previous=resume,
                held=held,
                wait=wait,
                secret=(secret or {}).get(key, ()),
            )
        except Exception as exc:  # noqa: BLE001 - trigger_run raises only when nothing started
            return refused(runs[key], previous.get(key), f"{exc}{_RETRY}")

    # The engine records the group only once every run has answered: until then, a run that
    # answered must stay journaled, or a kill now would send it again.
    held: list[Path] = []
    if plans:
        with ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(plans)))) as pool:
            for key, outs in zip(plans, pool.map(run_one, plans), strict=True):
                results[key] = outs
    if journal is not None:
        for entry in held:
            journal.end(entry)
    return {key: results[key] for key in runs}


def refused(inputs: Mapping[str, Any], old: Mapping[str, Any] | None, error: str) -> dict[str, Any]:
    """A key whose trigger was refused before anything started.

    It keeps its previous results (and their echo of the inputs that produced them), so that
    reverting the key to what already ran sends nothing, while the new inputs, still different
    from that echo, are tried again by the next ``up``. A new key has nothing to keep.
    """
    operation_id = uuid.uuid4().hex
    if old is not None and old.get("status") != NOT_SENT:
        return {**old, "refused": error, "operation_id": operation_id}
    outs = echo_inputs(inputs)
    outs.update(
        request_id=None,
        request_ids=[],
        status=NOT_SENT,
        error=error,
        run_count=int((old or {}).get("run_count") or 0),
        batches=[],
        operation_id=operation_id,
    )
    return outs
