"""The ledger's own rules: what is pending, how it is split, what a run reports, old state."""

from __future__ import annotations

from datagol_pulumi.ledger import ACCEPTED, AMBIGUOUS, REFUSED, UNSENT, Batch, Ledger
from datagol_pulumi.resource import failure_of_operation
from datagol_pulumi.validation import check_run
from tests.conftest import BASE_RUN

ROWS = [{"id": i} for i in range(7)]
SELECTED = check_run({**BASE_RUN, "mode": "selected", "rows": ROWS, "batch_size": 3})[0]


def test_plan_covers_every_row_once_in_order() -> None:
    ledger = Ledger.plan(SELECTED)
    assert [b.rows for b in ledger.batches] == [(0, 3), (3, 6), (6, 7)]
    assert [ledger.request(i, SELECTED).body["rows"] for i in range(3)] == [
        ROWS[0:3],
        ROWS[3:6],
        ROWS[6:7],
    ]
    assert ledger.pending() == [0, 1, 2]
    assert [b.rows for b in Ledger.plan({**BASE_RUN, "mode": "full"}).batches] == [None]


def test_lowering_batch_size_splits_only_what_was_not_sent() -> None:
    ledger = Ledger(
        [Batch(ACCEPTED, (0, 3), "r1"), Batch(REFUSED, (3, 6), error="413"), Batch(UNSENT, (6, 7))]
    )
    ledger.resplit(2)
    assert [(b.state, b.rows) for b in ledger.batches] == [
        (ACCEPTED, (0, 3)),
        (REFUSED, (3, 5)),
        (REFUSED, (5, 6)),
        (UNSENT, (6, 7)),
    ]


def test_round_trip_through_outputs_keeps_every_field() -> None:
    ledger = Ledger(
        [
            Batch(ACCEPTED, (0, 3), "r1", "COMPLETED", "succeeded"),
            Batch(AMBIGUOUS, (3, 6), error="HTTP 502"),
        ]
    )
    # Numbers come back from the engine as floats.
    raw = [{**b, "rows": [float(x) for x in b["rows"]]} for b in ledger.to_output()]
    assert Ledger.from_outputs({"batches": raw}).batches == ledger.batches


def test_the_run_reports_partial_until_every_batch_is_accepted() -> None:
    ledger = Ledger(
        [Batch(ACCEPTED, (0, 3), "r1", "COMPLETED", "succeeded"), Batch(AMBIGUOUS, (3, 6))]
    )
    assert ledger.status() == "PARTIAL"
    assert ledger.request_ids() == ["r1", None]
    ledger = Ledger([Batch(ACCEPTED, None, "r1", "FAILED", "failed", error="Run r1 failed.")])
    assert ledger.status() == "FAILED"
    assert ledger.error().startswith("Run r1 failed.")
    assert "does not send it again" in ledger.error()


def test_old_state_partial_runs_are_never_resent_nor_resolved() -> None:
    old = {"request_ids": ["r1", "r2"], "status": "PARTIAL", "error": "batch 3 of 5 failed"}
    ledger = Ledger.from_outputs(old)
    assert ledger.pending() == []  # what was not sent cannot be placed: never sent on its own
    assert ledger.status() == "PARTIAL"
    assert "batch 3 of 5 failed" in ledger.error()
    timed_out = {"request_ids": ["r1"], "status": "RUNNING", "error": "did not finish"}
    [batch] = Ledger.from_outputs(timed_out).batches
    assert (batch.state, batch.error) == (ACCEPTED, "did not finish")  # refresh may resolve it


def test_failures_are_reported_by_operation_not_by_clock() -> None:
    old = {"operation_id": "op-1", "error": "Run r1 finished with status FAILED."}
    assert failure_of_operation(dict(old), old) is None  # carried over: reported already
    new = {"operation_id": "op-2", "error": "Run r2 finished with status FAILED."}
    assert failure_of_operation(new, old) == new["error"]
    assert failure_of_operation({**old, "operation_id": "op-3", "refused": "HTTP 400"}, old) == (
        "HTTP 400"
    )
    assert failure_of_operation({"error": "from state older than operation ids"}, {}) is None
