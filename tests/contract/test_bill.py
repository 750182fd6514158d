"""The bill (datagol_pulumi.bill) equals what the operations then send, against the emulator.

Each case computes what an operation will send the way ``check``/``diff`` do, then performs it
with the core (operations.*) and compares with the POSTs the emulator received: runs, requests
and rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import rpc

from datagol_pulumi import bill, operations
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.operations import Context
from tests.conftest import BASE_RUN, TOKEN, WORKSPACE_ID

ROWS = [{"id": i, "blob": "x" * (3000 if i == 4 else 1)} for i in range(10)]


def run(name: str, **extra: Any) -> dict[str, Any]:
    # One element per name: sent() counts runs by the element in the POST's path.
    return {**BASE_RUN, "element_id": f"el-{name}", **extra}


@pytest.fixture
def context(emulator: Emulator) -> Context:
    return Context({"datagol:baseUrl": emulator.url, "datagol:token": TOKEN})


def sent(emulator: Emulator) -> tuple[int, int, int]:
    posts = emulator.requests(method="POST")
    runs = {p["segments"][-2] for p in posts}
    return len(runs), len(posts), sum(len((p["body"] or {}).get("rows") or []) for p in posts)


def billed(targets: bill.Targets) -> tuple[int, int, int]:
    return tuple(sum(t[i] for t in targets.values()) for i in range(3))  # type: ignore[return-value]


def checked(news: dict[str, Any]) -> dict[str, Any]:
    inputs, failures = operations.check_run_inputs(news)
    assert not failures
    return inputs


def test_a_run_create_retrigger_setting_change_and_unsent_batches(
    context: Context, emulator: Emulator
) -> None:
    news = checked(run("a", mode="selected", rows=ROWS, batch_size=2))
    assert billed(bill.run_charge(None, news)) == (1, 5, 10)
    emulator.configure(max_body_bytes=1000)  # batch 3 refused, 4 and 5 not sent
    _, olds = operations.create_run(context, news)
    assert sent(emulator) == (1, 3, 4)  # the refused batch's body is not recorded
    emulator.configure(max_body_bytes=16 * 1024 * 1024)
    emulator.clear_requests()

    cases = [
        ({}, (1, 3, 6)),  # the same inputs: the batches that never reached DataGOL
        ({"timeout_seconds": 5}, (0, 0, 0)),  # a setting: nothing
        ({"triggers": {"v": "2"}}, (1, 5, 10)),  # a trigger: every batch again
        ({"triggers": {"v": "2"}, "batch_size": 5}, (0, 0, 0)),  # batch size is a setting
    ]
    for extra, expected in cases:
        news = checked(run("a", **{"mode": "selected", "rows": ROWS, "batch_size": 2, **extra}))
        diff = operations.diff_run(olds, news)
        assert billed(bill.run_charge(olds, news, replaced=bool(diff.replaces))) == expected
        if diff.changes:
            olds = operations.update_run(context, olds, news)
        assert sent(emulator) == expected, extra
        emulator.clear_requests()


def test_a_replacement_is_a_whole_new_run(context: Context, emulator: Emulator) -> None:
    _, olds = operations.create_run(context, checked(run("r")))
    emulator.clear_requests()
    news = checked(run("r", extraction_id="ext-2"))
    diff = operations.diff_run(olds, news)
    assert diff.replaces == ["extraction_id"]
    assert billed(bill.run_charge(olds, news, replaced=True)) == (1, 1, 0)
    # Without the replacement, the same inputs would look like an update that sends nothing.
    assert billed(bill.run_charge(olds, news)) == (0, 0, 0)


def test_a_group_counts_new_changed_and_unsent_keys_only(
    context: Context, emulator: Emulator
) -> None:
    def group(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        inputs, failures = operations.check_group_inputs({"runs": runs})
        assert not failures
        return inputs

    news = group({"k1": run("k1"), "k2": run("k2"), "k3": run("k3")})
    targets, keys, known = bill.group_charge(None, news)
    assert (billed(targets), sorted(keys), known) == ((3, 3, 0), ["k1", "k2", "k3"], True)
    _, olds = operations.create_group(context, news)
    assert sent(emulator) == (3, 3, 0)
    emulator.clear_requests()

    news = group(
        {
            "k1": run("k1", triggers={"v": "2"}),
            "k2": run("k2", timeout_seconds=9),
            "k4": run("k4", mode="selected", rows=[{"id": 1}, {"id": 2}], batch_size=1),
        }
    )
    targets, keys, _ = bill.group_charge(olds, news)
    assert billed(targets) == (2, 3, 2) and sorted(keys) == ["k1", "k4"]
    operations.update_group(context, olds, news)
    assert sent(emulator) == (2, 3, 2)


def test_a_group_whose_runs_are_unknown_in_preview_is_not_counted() -> None:
    targets, keys, known = bill.group_charge(None, {"runs": rpc.UNKNOWN})
    assert (targets, keys, known) == ({}, [], False)


def test_the_refusal_is_short_and_the_bill_names_count_limit_runs_and_ways_out() -> None:
    owner = Context()  # a provider configuration: its own count outside an engine
    for i in range(12):
        bill.account(owner, f"urn:x::r{i}", {"workspace w, extraction e": [1, 1, 0]}, 12)
    for name in ("g", "h"):  # every refused resource: the same short error
        with pytest.raises(bill.TriggerLimitExceeded) as refused:
            bill.account(
                owner, f"urn:x::{name}", {"workspace w, extraction e": [3, 4, 7]}, 12, ["a", "b"]
            )
        assert str(refused.value) == (
            "Not sent: this update is over the limit of 12 DataGOL runs per update "
            "(datagol:maxTriggersPerUpdate); the DataGOL bill of this update (under the stack) "
            "says how far it counted and the ways out"
        )
    # Refused, it counted nothing: a smaller change still fits.
    assert bill.account(owner, "urn:x::s", {}, 12) is None
    totals = bill._tally(owner).claim_summary()
    assert totals is not None and bill._tally(owner).claim_summary() is None  # said once
    text = bill.summary(totals, 12)
    assert text.splitlines()[:3] == [
        "DataGOL bill of this update (paid extraction jobs; limit 12, datagol:maxTriggersPerUpdate):",
        "  over the limit of 12 per update (datagol:maxTriggersPerUpdate): this update would "
        "trigger at least 15 DataGOL runs (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 and 5 more); "
        "the run that went over was not sent, nor anything after it",
        "  counted before the limit: 12 runs",
    ]
    assert "DATAGOL_MAX_TRIGGERS_PER_UPDATE=<runs> pulumi up" in text
    assert "pulumi config set datagol:maxTriggersPerUpdate <runs>" in text
    assert "--target" in text and "split the change" in text


def test_what_is_secret_in_a_run_stays_out_of_the_bill() -> None:
    from datagol_pulumi.operations import SECRET_KEYS_KEY
    from datagol_pulumi.secrecy import SECRET_INPUTS_KEY

    rows = {"mode": "selected", "rows": [{"id": 1}, {"id": 2}], "batch_size": 1}
    secret_run = {**checked(run("s", **rows)), SECRET_INPUTS_KEY: ["workspace_id", "rows"]}
    targets = bill.run_charge(None, secret_run)
    # Still counted as a run (the limit holds); where, how many requests and rows: not shown.
    assert targets == {"workspace [secret], extraction ext-1": [1, 0, 0, 1]}
    totals = bill.Totals()
    totals.add("urn:x::s", ["s"], {f"https://t{bill.TENANT_END}{t}": v for t, v in targets.items()})
    text = bill.summary(totals, 25)
    assert WORKSPACE_ID not in text and "2 requests" not in text
    assert "tenant https://t: 1 run with secret rows (requests and rows not shown)" in text

    inputs, failures = operations.check_group_inputs(
        {"runs": {"a": run("a", **rows), "b": run("b")}}
    )
    assert not failures
    targets, keys, _ = bill.group_charge(None, {**inputs, SECRET_KEYS_KEY: ["a"]})
    assert keys == ["a", "b"]
    assert targets == {
        "workspace [secret], extraction [secret]": [1, 0, 0, 1],
        f"workspace {WORKSPACE_ID}, extraction ext-1": [1, 1, 0, 0],
    }


def test_the_summary_totals_per_tenant_then_per_target_in_a_stable_order() -> None:
    owner = Context()
    tenants = {"https://b.example": "ext-2", "https://user:pw@a.example": "ext-1"}
    for i, (tenant, extraction) in enumerate(sorted(tenants.items()) * 2):
        target = {f"workspace w, extraction {extraction}": [1, 2, 3 * i]}
        bill.account(owner, f"urn:x::r{i}", target, 0, tenant=tenant)
    totals = bill._tally(owner).claim_summary()
    assert totals is not None and bill._tally(owner).claim_summary() is None  # said once
    assert bill.summary(totals, 0).splitlines() == [
        "DataGOL bill of this update (paid extraction jobs; no limit, "
        "datagol:maxTriggersPerUpdate):",
        "  total: 4 runs in 8 requests, 18 selected rows (r0, r1, r2, r3)",
        "  tenant https://a.example: 2 runs in 4 requests, 12 selected rows",
        "    workspace w, extraction ext-1: 2 runs in 4 requests, 12 selected rows",
        "  tenant https://b.example: 2 runs in 4 requests, 6 selected rows",
        "    workspace w, extraction ext-2: 2 runs in 4 requests, 6 selected rows",
    ]
