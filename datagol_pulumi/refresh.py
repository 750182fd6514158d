"""``pulumi refresh`` of a run: its batches' statuses read from Poll Status, nothing sent.

Its messages are masked with the fragments the run recorded (``masked_values``), as every
process that reads a run's status does: the one that sent it may be long gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .client import DataGolClient
from .client.masking import masking, recorded_fragments
from .completion import failure_text
from .errors import ApiError
from .ledger import ACCEPTED, Ledger


def refresh_status(client: DataGolClient, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs with every batch's status read from Poll Status (never triggers, never waits).

    Only runs that wait for completion track their status; a fire-and-forget run's refresh
    sends nothing at all. Problems a status cannot resolve (batches that may have started or
    were never sent) are kept, so a partial run reads back as partial.
    """
    outs = dict(outputs)
    if not outs.get("wait_for_completion"):
        return outs
    # The fragments the run recorded: this process may not be the one that sent it.
    with masking(recorded_fragments(outs)):
        return _read(client, outs)


def _read(client: DataGolClient, outs: dict[str, Any]) -> dict[str, Any]:
    ledger = Ledger.from_outputs(outs)
    for batch in ledger.batches:
        if batch.state != ACCEPTED or not batch.request_id:
            continue
        try:
            status = client.poll_status(batch.request_id)
        except ApiError as exc:
            if exc.status == 404:  # request logs expire; what state says is all there is
                continue
            raise
        batch.status = status.status or batch.status
        outs["message"] = status.message or outs.get("message")
        if status.final:
            batch.outcome = status.outcome
            batch.error = (
                None
                if status.outcome == "succeeded"
                else failure_text(batch.request_id, status.status, status.message)
            )
    outs.update(
        batches=ledger.to_output(),
        request_ids=ledger.request_ids(),
        status=ledger.status(),
        error=ledger.error(),
    )
    return outs
