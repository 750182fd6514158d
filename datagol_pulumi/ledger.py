"""The record of what one run sent: one entry per batch, kept in the run's outputs (``batches``).

Every accepted trigger is a paid job and DataGOL has no idempotency key, so this record is what
the provider's promise rests on: whatever may have reached DataGOL is recorded, and nothing
recorded is sent again on its own. A batch (a run without ``batch_size`` is one batch) is

* ``accepted``: DataGOL answered 2xx; its request id when the answer carried one;
* ``ambiguous``: the request may have reached DataGOL, but no answer says what happened (a 5xx,
  a timeout, a dropped connection, any unexpected error once it may have left): never sent
  again on its own;
* ``refused``: DataGOL answered that it started nothing (400, 404, 413, ...);
* ``unsent``: never sent, because an earlier batch of the same operation failed.

The next ``pulumi up`` sends the refused and unsent batches, and only those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .payload import TriggerRequest, rows_request, trigger_requests

ACCEPTED = "accepted"
AMBIGUOUS = "ambiguous"
REFUSED = "refused"
UNSENT = "unsent"
#: Batches that never reached DataGOL: the only ones a later `pulumi up` sends on its own.
PENDING = (REFUSED, UNSENT)

RESEND_HINT = (
    " The run is recorded in the stack, so the next `pulumi up` does not send it again; "
    "change this run's `triggers` to send it again on purpose."
)
PENDING_HINT = " The next `pulumi up` sends the batches that were not sent, and only those."


@dataclass
class Batch:
    """One request of a run, and what is known of it."""

    state: str
    #: [start, stop) of the rows this batch carries; None when the run sends no rows.
    rows: tuple[int, int] | None = None
    request_id: str | None = None
    #: The last status DataGOL reported for it, and its classification once final.
    status: str | None = None
    outcome: str | None = None
    #: Why this batch is not (yet) a success; None once it is.
    error: str | None = None

    def to_output(self) -> dict[str, Any]:
        # None fields are left out: the record is in state once per run.
        values = {
            "state": self.state,
            "rows": list(self.rows) if self.rows else None,
            "request_id": self.request_id,
            "status": self.status,
            "outcome": self.outcome,
            "error": self.error,
        }
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_output(cls, value: Mapping[str, Any]) -> Batch:
        rows = value.get("rows")
        return cls(
            state=str(value.get("state")),
            rows=(int(rows[0]), int(rows[1])) if rows else None,  # numbers arrive as floats
            request_id=value.get("request_id"),
            status=value.get("status"),
            outcome=value.get("outcome"),
            error=value.get("error"),
        )


class Ledger:
    """The batches of one run, in order."""

    def __init__(self, batches: Iterable[Batch]) -> None:
        self.batches = list(batches)

    @classmethod
    def plan(cls, inputs: Mapping[str, Any]) -> Ledger:
        """Every batch of a new run, none sent yet."""
        rows = inputs.get("rows")
        if inputs.get("mode") != "selected" or not isinstance(rows, list):
            return cls([Batch(UNSENT)])
        size = inputs.get("batch_size") or len(rows) or 1
        return cls(
            Batch(UNSENT, (start, min(start + size, len(rows))))
            for start in range(0, len(rows), size)
        )

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> Ledger:
        """The record in a run's outputs; state written before it existed is read safely."""
        recorded = outputs.get("batches")
        if isinstance(recorded, list):
            return cls(Batch.from_output(b) for b in recorded if isinstance(b, Mapping))
        # Older state: one request id per batch sent, None where an answer was missing. Its
        # errors (e.g. a batch refused mid-run) cannot be placed, so they stay on a batch that
        # is never resent and never resolved.
        error = outputs.get("error")
        first = outputs.get("request_id")
        request_ids = outputs.get("request_ids") or ([first] if first else [])
        batches = [
            Batch(ACCEPTED, request_id=rid) if rid else Batch(AMBIGUOUS, error=error)
            for rid in request_ids
        ]
        if error and not any(b.error for b in batches):
            if outputs.get("status") in ("PARTIAL", "UNKNOWN") or not batches:
                batches.append(Batch(AMBIGUOUS, error=str(error)))
            else:  # a wait that failed or timed out: a later refresh may resolve it
                batches[-1].error = str(error)
        return cls(batches)

    def to_output(self) -> list[dict[str, Any]]:
        return [b.to_output() for b in self.batches]

    def pending(self) -> list[int]:
        return [i for i, b in enumerate(self.batches) if b.state in PENDING]

    def resplit(self, batch_size: int | None) -> None:
        """Split pending batches larger than ``batch_size``: lowering it after a 413 helps."""
        if not batch_size:
            return
        batches: list[Batch] = []
        for batch in self.batches:
            if batch.state not in PENDING or batch.rows is None:
                batches.append(batch)
                continue
            start, stop = batch.rows
            batches.extend(
                Batch(batch.state, (a, min(a + batch_size, stop)), error=batch.error)
                for a in range(start, stop, batch_size)
            )
        self.batches = batches

    def request(self, index: int, inputs: Mapping[str, Any]) -> TriggerRequest:
        """The exact request of batch ``index`` for these inputs."""
        rows = self.batches[index].rows
        if rows is None:
            return next(trigger_requests(inputs))
        return rows_request(inputs, *rows)

    def name(self, index: int) -> str:
        """How messages name a batch: "batch 3 of 5", or nothing for a single request."""
        return f"batch {index + 1} of {len(self.batches)}" if len(self.batches) > 1 else ""

    # -- what the run as a whole reports -------------------------------------------------------

    def request_ids(self) -> list[str | None]:
        """One per batch that may have reached DataGOL: its id, or None when unknown."""
        return [b.request_id for b in self.batches if b.state in (ACCEPTED, AMBIGUOUS)]

    def status(self) -> str | None:
        states = {b.state for b in self.batches}
        accepted = [b for b in self.batches if b.state == ACCEPTED]
        if states - {ACCEPTED}:
            return "PARTIAL" if accepted else "UNKNOWN"
        failed = [b for b in accepted if b.outcome == "failed"]
        if failed:
            return failed[0].status
        pending = [b for b in accepted if b.outcome != "succeeded"]
        last = (pending or accepted or [None])[-1]
        return (last.status or "TRIGGERED") if last else None

    def error(self) -> str | None:
        """Every problem not resolved yet, batch by batch, and what the next `up` does."""
        count = len(self.batches)
        problems: list[str] = []
        for index, batch in enumerate(self.batches):
            if batch.error:
                text = batch.error if batch.error.endswith(".") else batch.error + "."
                problems.append(f"Batch {index + 1} of {count}: {text}" if count > 1 else text)
        if not problems:
            return None
        unsent = [i + 1 for i, b in enumerate(self.batches) if b.state == UNSENT and not b.error]
        if unsent:
            span = (
                f"Batch {unsent[0]} of {count} was"
                if len(unsent) == 1
                else f"Batches {unsent[0]}-{unsent[-1]} of {count} were"
            )
            problems.append(f"{span} not sent.")
        ids = [b.request_id or "no request id" for b in self.batches if b.state == ACCEPTED]
        if count > 1 and len(ids) < count:
            problems.insert(
                0, f"{len(ids)} of {count} batches accepted ({', '.join(ids) or 'none'})."
            )
        text = " ".join(problems)
        if any(b.state == AMBIGUOUS or (b.state == ACCEPTED and b.error) for b in self.batches):
            text += RESEND_HINT
        if self.pending():
            text += PENDING_HINT
        return text
