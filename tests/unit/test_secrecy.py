"""secrecy.py: which outputs a secret input makes secret, and reading that back from a state."""

from __future__ import annotations

from pulumi.runtime import rpc

from datagol_pulumi.secrecy import (
    ALL,
    SECRET_INPUTS_KEY,
    protect,
    protected_inputs,
    reprotects,
    secret_outputs,
)

OUTPUTS = {
    "where_clause": "ssn = '1'",
    "request_digest": "sha256:aa",
    "rows_digest": "sha256:bb",
    "row_count": 2,
    "batches": [{"state": "accepted", "rows": [0, 2]}],
    "request_id": "req-1",
    "status": "QUEUED",
    SECRET_INPUTS_KEY: ["rows"],
}


def test_a_secret_input_protects_its_echo_and_what_is_computed_from_it_only() -> None:
    outs = protect(OUTPUTS, {"rows"})
    wrapped = {k for k, v in outs.items() if rpc.is_rpc_secret(v)}
    assert wrapped == {"rows_digest", "row_count", "request_digest", "batches"}
    assert rpc.unwrap_rpc_secret(outs["row_count"]) == 2
    assert protect(OUTPUTS, {"where_clause"}).keys() == OUTPUTS.keys()
    assert {k for k, v in protect(OUTPUTS, {"where_clause"}).items() if rpc.is_rpc_secret(v)} == {
        "where_clause",
        "request_digest",
    }
    assert protect(OUTPUTS, set()) == OUTPUTS
    # Everything but the bookkeeping when the secret inputs are not known.
    every = protect(OUTPUTS, {ALL})
    assert {k for k, v in every.items() if not rpc.is_rpc_secret(v)} == {SECRET_INPUTS_KEY}
    # The fragments to mask are computed from whichever inputs are secret.
    assert secret_outputs({"triggers"}) == {"triggers", "masked_values"}
    assert secret_outputs(set()) == set()
    masked = protect({**OUTPUTS, "masked_values": ["SEC-1"]}, {"triggers"})
    assert rpc.unwrap_rpc_secret(masked["masked_values"]) == ["SEC-1"]


def test_a_state_counts_as_protected_for_an_input_only_when_all_its_outputs_are_secret() -> None:
    # A run's state echoes every input but rows.
    present = set(OUTPUTS) | {"workspace_id", "element_id", "mode", "batch_size", "triggers"}
    # As 0.2.0 left a secret where clause: its digest in clear.
    assert "where_clause" not in protected_inputs({"where_clause"}, present)
    read = protected_inputs({"where_clause", "request_digest"}, present)
    assert "where_clause" in read and "workspace_id" not in read and "mode" not in read
    assert "triggers" in protected_inputs({"triggers"}, present)
    rows = {"rows_digest", "row_count", "request_digest", "batches"}
    assert "rows" in protected_inputs(rows, present)
    assert "rows" not in protected_inputs(rows - {"batches"}, present)


def test_only_an_input_newly_secret_asks_for_an_update() -> None:
    assert not reprotects(set(), set())  # a 0.2.0 state without secrets: no change
    assert reprotects(set(), {"where_clause"})
    assert not reprotects({"where_clause"}, {"where_clause"})
    assert not reprotects({"where_clause", "rows"}, {"where_clause"})  # kept secret: harmless
    assert not reprotects({ALL}, {"rows"})
