"""The ledger through the SDK's dynamic-provider gRPC server, as `pulumi up` drives it.

Each test reproduces one way a run used to be lost, sent twice or reported wrongly, and counts
the requests the emulator received.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto

from datagol_pulumi import ExtractionRunGroupProvider
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.journal import RunInProgressError
from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.runs import run_identity, validated
from tests.conftest import WORKSPACE_ID
from tests.contract.test_dynamic_server import PROVIDER, configure, props, struct

RUN_URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::{}"
GROUP_URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRunGroup::g"
GROUP_PROVIDER = serialize_provider(ExtractionRunGroupProvider())
#: Ten rows in five batches of two; batch 3 carries a row too large for a small body limit.
ROWS = [{"id": i, "blob": "x" * (3000 if i == 4 else 1)} for i in range(10)]
DEEP = "[" * 100_000 + "]" * 100_000  # a 2xx answer nested deeper than the recursion limit


def run(name: str = "orders", **extra: Any) -> dict[str, Any]:
    return {
        "workspace_id": WORKSPACE_ID,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": f"col-{name}",
        "__provider": PROVIDER,
        "__urn": RUN_URN.format(name),
        **extra,
    }


def check(stub, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    checked = stub.Check(
        proto.CheckRequest(
            urn=news.get("__urn", GROUP_URN), olds=struct(olds or {}), news=struct(news)
        )
    )
    assert list(checked.failures) == []
    return checked.inputs


def posts(emulator: Emulator) -> list[dict[str, Any]]:
    return emulator.requests(method="POST")


def test_batch_refused_mid_run_stays_partial_through_refresh_and_only_it_is_sent_later(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    emulator.configure(max_body_bytes=1000)
    urn = RUN_URN.format("orders")
    inputs = check(
        server,
        run(
            mode="selected",
            rows=ROWS,
            batch_size=2,
            wait_for_completion=True,
            poll_interval_seconds=0.05,
        ),
    )
    created = server.Create(proto.CreateRequest(urn=urn, properties=inputs))
    outs = props(created.properties)
    assert [p["status"] for p in posts(emulator)] == [200, 200, 413]
    assert outs["status"] == "PARTIAL"
    assert [b["state"] for b in outs["batches"]] == [
        "accepted",
        "accepted",
        "refused",
        "unsent",
        "unsent",
    ]
    assert (
        "Batch 3 of 5: refused" in outs["error"]
        and "Batches 4-5 of 5 were not sent" in outs["error"]
    )
    emulator.clear_requests()

    # Refresh polls both request ids and keeps what no status can resolve.
    read = server.Read(proto.ReadRequest(id=created.id, urn=urn, properties=created.properties))
    refreshed = props(read.properties)
    polled = emulator.requests(method="GET")
    assert sorted(g["path"].rsplit("/", 1)[-1] for g in polled) == sorted(outs["request_ids"])
    assert posts(emulator) == []
    assert refreshed["status"] == "PARTIAL"
    assert refreshed["error"] == outs["error"]
    assert [b.get("status") for b in refreshed["batches"][:2]] == ["COMPLETED", "COMPLETED"]
    emulator.clear_requests()

    # The next up: the plan shows an update, which sends exactly batches 3 to 5.
    diff = server.Diff(proto.DiffRequest(id=created.id, urn=urn, olds=read.properties, news=inputs))
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    emulator.configure(max_body_bytes=16 * 1024 * 1024)
    updated = server.Update(
        proto.UpdateRequest(id=created.id, urn=urn, olds=read.properties, news=inputs)
    )
    assert [p["body"]["rows"] for p in posts(emulator)] == [ROWS[4:6], ROWS[6:8], ROWS[8:10]]
    final = props(updated.properties)
    assert final["status"] == "COMPLETED" and final["error"] == ""
    assert final["request_ids"][:2] == outs["request_ids"]
    assert final["request_ids"][2:] == [p["request_id"] for p in posts(emulator)]
    assert final["run_count"] == 1  # the same run, completed
    emulator.clear_requests()
    same = server.Diff(
        proto.DiffRequest(id=created.id, urn=urn, olds=updated.properties, news=inputs)
    )
    assert same.changes == proto.DiffResponse.DIFF_NONE
    assert emulator.requests() == []


def test_a_later_failed_batch_is_not_hidden_by_refresh(emulator: Emulator, make_provider) -> None:
    provider = make_provider()
    emulator.configure(job_seconds=0.3)
    original = provider.client().trigger

    def trigger(request, **kwargs):  # batch 2's job fails at DataGOL, batch 1's completes
        if len(posts(emulator)) == 1:
            emulator.configure(failing_extractions=["ext-1"])
        return original(request, **kwargs)

    provider.client().trigger = trigger
    spec = run(mode="selected", rows=ROWS[:4], batch_size=2, wait_for_completion=True)
    inputs = validated({**spec, "timeout_seconds": 0.01})
    created = provider.create(inputs)
    first, second = [p["request_id"] for p in posts(emulator)]
    assert "did not finish within" in created.outs["error"]
    emulator.clear_requests()
    time.sleep(0.4)
    refreshed = provider.read(created.id, created.outs).outs
    assert sorted(g["path"].rsplit("/", 1)[-1] for g in emulator.requests()) == sorted(
        [first, second]
    )
    assert refreshed["status"] == "FAILED"
    assert f"Run {second} finished with status FAILED" in refreshed["error"]
    assert "did not finish" not in refreshed["error"]  # resolved by the status read


def test_an_unexpected_error_after_the_post_is_recorded_and_never_resent(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    urn = RUN_URN.format("orders")
    inputs = check(server, run())
    emulator.add_fault(status=200, body=DEEP)
    created = server.Create(proto.CreateRequest(urn=urn, properties=inputs))
    outs = props(created.properties)
    assert len(posts(emulator)) == 1
    assert outs["status"] in ("UNKNOWN", "TRIGGERED")  # recorded either way, never raised
    emulator.clear_requests()
    diff = server.Diff(
        proto.DiffRequest(id=created.id, urn=urn, olds=created.properties, news=inputs)
    )
    assert diff.changes == proto.DiffResponse.DIFF_NONE
    assert emulator.requests() == []


def group(runs: dict[str, Any]) -> dict[str, Any]:
    return {"runs": runs, "__provider": GROUP_PROVIDER, "__urn": GROUP_URN, "__secret_keys": []}


def test_group_keeps_a_keys_results_when_its_new_trigger_is_refused(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    original = {"a": run("a", mode="filter", where_clause="x = 1"), "b": run("b")}
    for spec in original.values():
        del spec["__provider"], spec["__urn"]
    inputs = check(server, group(original))
    created = server.Create(proto.CreateRequest(urn=GROUP_URN, properties=inputs))
    before = props(created.properties)["results"]
    emulator.clear_requests()

    changed = {**original, "a": {**original["a"], "where_clause": "x = 2"}}
    new_inputs = check(server, group(changed))
    emulator.add_fault(status=400, body='{"message": "bad where clause"}')
    updated = server.Update(
        proto.UpdateRequest(id=created.id, urn=GROUP_URN, olds=created.properties, news=new_inputs)
    )
    assert len(posts(emulator)) == 1
    after = props(updated.properties)
    assert after["triggered_keys"] == []
    assert after["results"]["a"]["request_id"] == before["a"]["request_id"]
    assert after["results"]["a"]["where_clause"] == "x = 1"
    assert "bad where clause" in after["results"]["a"]["refused"]
    emulator.clear_requests()

    # Reverting the key to the spec that already ran sends nothing; the new spec is retried.
    back = server.Diff(
        proto.DiffRequest(id=created.id, urn=GROUP_URN, olds=updated.properties, news=inputs)
    )
    assert back.changes == proto.DiffResponse.DIFF_NONE
    again = server.Diff(
        proto.DiffRequest(id=created.id, urn=GROUP_URN, olds=updated.properties, news=new_inputs)
    )
    assert again.changes == proto.DiffResponse.DIFF_SOME
    assert emulator.requests() == []


def test_group_records_every_key_when_one_fails_unexpectedly(server, emulator: Emulator) -> None:
    configure(server, emulator)
    runs = {k: run(k) for k in "abc"}
    for spec in runs.values():
        del spec["__provider"], spec["__urn"]
    inputs = check(server, group(runs))
    emulator.add_fault(status=200, body=DEEP, path_contains="/col-b/")
    created = server.Create(proto.CreateRequest(urn=GROUP_URN, properties=inputs))
    results = props(created.properties)["results"]
    sent = {p["path"].split("/")[-2]: p for p in posts(emulator)}
    assert sorted(sent) == ["col-a", "col-b", "col-c"]
    assert results["a"]["request_id"] == sent["col-a"]["request_id"]
    assert results["c"]["request_id"] == sent["col-c"]["request_id"]
    emulator.clear_requests()
    diff = server.Diff(
        proto.DiffRequest(id=created.id, urn=GROUP_URN, olds=created.properties, news=inputs)
    )
    assert diff.changes == proto.DiffResponse.DIFF_NONE


def test_two_runs_with_identical_inputs_in_one_stack_both_trigger(
    server, emulator: Emulator, tmp_path, monkeypatch
) -> None:
    # The journal is on, as under `pulumi up`: the provider knows its stack.
    args = {
        "datagol:baseUrl": emulator.url,
        "datagol:token": "test-token",
        "datagol:stack": "o/p/s",
    }
    server.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))
    emulator.add_fault(status=None, delay=0.5, count=2)  # both triggers in flight at once
    same = {k: v for k, v in run().items() if k != "__urn"}
    results: dict[str, Any] = {}

    def create(name: str) -> None:
        inputs = check(server, {**same, "__urn": RUN_URN.format(name)})
        results[name] = props(
            server.Create(
                proto.CreateRequest(urn=RUN_URN.format(name), properties=inputs)
            ).properties
        )

    threads = [threading.Thread(target=create, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = posts(emulator)
    assert len(sent) == 2
    assert sorted(r["request_id"] for r in results.values()) == sorted(
        p["request_id"] for p in sent
    )
    assert all(r["error"] == "" and r["status"] == "QUEUED" for r in results.values())


def test_any_exception_once_a_post_left_is_recorded_on_its_batch(
    emulator: Emulator, make_provider
) -> None:
    provider = make_provider()
    original = provider.client().trigger

    def trigger(request, **kwargs):  # a bug after the answer arrived
        original(request, **kwargs)
        raise KeyError("requestId")

    provider.client().trigger = trigger
    spec = run(mode="selected", rows=ROWS[:4], batch_size=2)
    created = provider.create(validated(spec))
    assert len(posts(emulator)) == 1  # batch 2 was never sent after the failure
    outs = created.outs
    assert [b["state"] for b in outs["batches"]] == ["ambiguous", "unsent"]
    assert "unexpected error once the request may have been sent (KeyError" in outs["error"]
    assert outs["status"] == "UNKNOWN"
    emulator.clear_requests()
    provider.client().trigger = original
    # The next up sends batch 2 only; batch 1 may have started a job and is never resent.
    updated = provider.update(created.id, outs, validated(spec)).outs
    assert [p["body"]["rows"] for p in posts(emulator)] == [ROWS[2:4]]
    assert [b["state"] for b in updated["batches"]] == ["ambiguous", "accepted"]
    assert updated["status"] == "PARTIAL"


def test_a_run_another_live_process_is_triggering_is_not_sent(
    emulator: Emulator, make_provider, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("DATAGOL_JOURNAL_DIR", str(tmp_path))
    provider = make_provider(stack="o/p/s")
    journal = provider.instance.journal()
    urn = RUN_URN.format("orders")
    inputs = validated(run())
    # This test's process owns the entry: alive, and triggering the same run right now.
    journal.begin(journal.path(urn), urn, run_identity(inputs), "op-elsewhere")
    with pytest.raises(RunInProgressError, match="is triggering run .* right now"):
        provider.create({**inputs, "__urn": urn})
    assert emulator.requests() == []
    journal.end(journal.path(urn))
    provider.create({**inputs, "__urn": urn})
    assert len(posts(emulator)) == 1
    journal.release()  # the engine closes the provider once it recorded the answer
    assert list(tmp_path.iterdir()) == []


def test_a_run_cut_off_during_its_wait_is_reattached_by_request_id_not_sent_again(
    emulator: Emulator, make_provider, tmp_path, monkeypatch
) -> None:
    # The provider of an earlier `up` sent the POST, noted the request id, and died while
    # waiting. The next attempt adopts that request id and waits for it: no second paid job.
    monkeypatch.setenv("DATAGOL_JOURNAL_DIR", str(tmp_path))
    emulator.configure(job_seconds=0.3)
    provider = make_provider(stack="o/p/s")
    urn = RUN_URN.format("orders")
    inputs = validated(run(wait_for_completion=True, poll_interval_seconds=0.05))
    journal = provider.instance.journal()
    entry = journal.path(urn)
    journal.begin(entry, urn, run_identity(inputs), "op-earlier")
    accepted = provider.instance.client().trigger(next(trigger_requests(inputs)))
    journal.note(entry, [{"state": "accepted", "request_id": accepted.request_id}])
    journal.close(entry)
    first, note = entry.read_text().split("\n")  # the entry, then the noted answer
    record = json.loads(first)
    record["owner"]["start"] = "1"  # its pid, but not the process that wrote it: dead
    entry.write_text(json.dumps(record) + "\n" + note)

    created = provider.create({**inputs, "__urn": urn})
    outs = created.outs
    assert len(posts(emulator)) == 1  # the earlier attempt's, and only it
    assert emulator.requests(method="GET")  # it polled the adopted request id
    assert outs["request_id"] == accepted.request_id
    assert outs["status"] == "COMPLETED" and outs["error"] == ""
    journal.release()
    assert list(tmp_path.iterdir()) == []
