"""The plugin's ExtractionRunCompletion over gRPC: the run returns once answered, it waits.

The installed pulumi-resource-datagol, driven as the engine drives it (camelCase, floats,
secrets as secrets), against the emulator, counting each call's requests.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime import proto, rpc

from datagol_pulumi.emulator import Emulator
from tests.conftest import sent, struct
from tests.contract.test_plugin import (
    GROUP_URN,
    RUN,
    URN,
    configure,
    plugin,  # noqa: F401 - the fixture
    props,
)

COMPLETION_URN = "urn:pulumi:dev::proj::datagol:index:ExtractionRunCompletion::done"
FAST = {"pollIntervalSeconds": 0.05}


def checked(stub: Any, urn: str, news: dict[str, Any]) -> dict[str, Any]:
    reply = stub.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    assert list(reply.failures) == [], reply.failures
    return props(reply.inputs)


def create(stub: Any, urn: str, news: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    reply = stub.Create(proto.CreateRequest(urn=urn, properties=struct(checked(stub, urn, news))))
    return reply.id, props(reply.properties)


def diff(stub: Any, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    return stub.Diff(proto.DiffRequest(urn=urn, id="x", olds=struct(olds), news=struct(news)))


def polled(emulator: Emulator) -> list[str]:
    return [r["path"].rsplit("/", 1)[-1] for r in sent(emulator) if r["method"] == "GET"]


def secret_at(message: Any, *path: str) -> bool:
    """Whether the value at ``path`` of a Struct is sent as a secret (the SDK's deserialiser
    marks a whole map secret when one of its values is, so the wire is read instead)."""
    value = message.fields[path[0]]
    for key in path[1:]:
        value = value.struct_value.fields[key]
    sig = value.struct_value.fields.get(rpc._special_sig_key)
    return sig is not None and sig.string_value == rpc._special_secret_sig


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper removed."""
    if rpc.is_rpc_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def failure_of(call: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.details()


def test_the_run_returns_once_answered_and_the_completion_waits_for_its_request_id(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=0.3)
    _, run = create(plugin, URN, RUN)
    # The run's create did not wait: the engine checkpoints its request id before any poll.
    assert polled(emulator) == [] and run["status"] == "QUEUED"
    target = run["completionTarget"]
    assert target["requestIds"] == [run["requestId"]] and target["operationId"]
    assert target["waitForCompletion"] is False

    done_id, done = create(plugin, COMPLETION_URN, {"run": target, **FAST})
    assert done_id.startswith("completion-")
    assert done["status"] == "COMPLETED" and done["error"] == "" and done["finishedAt"]
    assert done["requestIds"] == [run["requestId"]] and done["results"] == {}
    assert done["operationId"] == target["operationId"] and done["durationSeconds"] > 0
    assert len(emulator.requests(method="POST")) == 1  # the completion never triggers
    assert set(polled(emulator)) == {run["requestId"]}
    emulator.clear_requests()

    # Nothing new to await: no change, nothing read. A re-triggered run: an update that waits.
    news = {"run": target, **FAST}
    assert diff(plugin, COMPLETION_URN, done, news).changes == proto.DiffResponse.DIFF_NONE
    again = props(
        plugin.Update(
            proto.UpdateRequest(
                urn=URN, id="r", olds=struct(run), news=struct({**RUN, "triggers": {"n": 2.0}})
            )
        ).properties
    )
    news = {"run": again["completionTarget"], **FAST}
    changed = diff(plugin, COMPLETION_URN, done, news)
    assert changed.changes == proto.DiffResponse.DIFF_SOME and list(changed.diffs) == ["run"]
    updated = props(
        plugin.Update(
            proto.UpdateRequest(
                urn=COMPLETION_URN, id=done_id, olds=struct(done), news=struct(news)
            )
        ).properties
    )
    assert updated["requestIds"] == [again["requestId"]] != done["requestIds"]
    assert [r["method"] for r in sent(emulator)][0] == "POST"
    assert polled(emulator) and set(polled(emulator)) == {again["requestId"]}


def test_a_failed_run_fails_the_completion_each_time_and_is_never_sent_again(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=0, failing_extractions=["ext-1"])
    _, run = create(plugin, URN, RUN)
    news = {"run": run["completionTarget"], **FAST}
    for _ in range(2):  # nothing recorded: each attempt reads the status again
        text = failure_of(lambda: create(plugin, COMPLETION_URN, news))
        assert f"Run {run['requestId']} finished with status FAILED" in text
        assert "stop awaiting it with this ExtractionRunCompletion" in text
        assert "wait_for_completion" not in text and "Traceback" not in text
    assert len(emulator.requests(method="POST")) == 1
    assert polled(emulator) == [run["requestId"]] * 2


def test_a_run_not_finished_in_time_is_awaited_again_with_the_completions_timeout(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=1.0)
    _, run = create(plugin, URN, {**RUN, "timeoutSeconds": 60.0})
    target = run["completionTarget"]
    text = failure_of(
        lambda: create(plugin, COMPLETION_URN, {"run": target, "timeoutSeconds": 0.2})
    )
    assert "did not finish within 0.2 s" in text and "raise timeoutSeconds" in text
    assert text.count("nothing is sent") == 1
    _, done = create(plugin, COMPLETION_URN, {"run": target, **FAST})  # the run's 60 s
    assert done["status"] == "COMPLETED"
    assert len(emulator.requests(method="POST")) == 1


def test_a_group_completion_records_each_key_and_names_the_one_that_failed(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=0, failing_extractions=["ext-bad"])
    secret = rpc.wrap_rpc_secret("status = 'open'")
    runs = {
        "a": {**RUN, "elementId": "a"},
        "b": {**RUN, "elementId": "b", "extractionId": "ext-bad"},
        "c": {**RUN, "elementId": "c", "whereClause": secret},
    }
    reply = plugin.Create(
        proto.CreateRequest(
            urn=GROUP_URN, properties=struct(checked(plugin, GROUP_URN, {"runs": runs}))
        )
    )
    # A run input is secret, so the group's results are (and so the completion's, below).
    assert rpc.is_rpc_secret(props(reply.properties)["results"])
    results = reveal(props(reply.properties)["results"])
    whole = plugin.Create(
        proto.CreateRequest(
            urn=COMPLETION_URN,
            properties=struct({"runs": rpc.wrap_rpc_secret({"a": results["a"]}), **FAST}),
        )
    )
    assert secret_at(whole.properties, "results", "a")
    text = failure_of(lambda: create(plugin, COMPLETION_URN, {"runs": results, **FAST}))
    assert "1 run(s) did not complete" in text and "b: Run " in text and "a: " not in text

    # Keys picked one by one (runs: {a: ${seed.results["a"]}, ...}): each keeps its secrecy.
    without_b = {"a": results["a"], "c": rpc.wrap_rpc_secret(results["c"])}
    news = {"runs": without_b, "maxConcurrency": 2.0, **FAST}
    reply = plugin.Create(proto.CreateRequest(urn=COMPLETION_URN, properties=struct(news)))
    done = props(reply.properties)
    # Key c's run holds a secret: its record, and the summary over it, are kept secret.
    assert secret_at(reply.properties, "results", "c")
    assert not secret_at(reply.properties, "results", "a")
    assert secret_at(reply.properties, "status") and rpc.is_rpc_secret(done["status"])
    plain = reveal(props(reply.properties))
    assert plain["status"] == "COMPLETED" and plain["operationId"] == ""
    assert set(plain["results"]) == {"a", "c"}
    ids = {k: reveal(v)["requestIds"] for k, v in without_b.items()}
    assert plain["results"]["a"]["requestIds"] == ids["a"]
    assert sorted(plain["requestIds"]) == sorted(ids["a"] + ids["c"])
    assert len(emulator.requests(method="POST")) == 3
    assert "status = 'open'" not in str(props(reply.properties))


def test_secret_rows_keep_the_whole_target_and_the_completions_record_secret(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=0)
    rows = rpc.wrap_rpc_secret([{"id": "r1"}])
    news = {**RUN, "mode": "selected", "whereClause": None, "rows": rows}
    reply = plugin.Create(
        proto.CreateRequest(urn=URN, properties=struct(checked(plugin, URN, news)))
    )
    # It carries the fragments to mask ("r1"): secret as a whole, since the YAML host hands a
    # secret nested in an object over as {} (and every SDK marks the whole object secret).
    assert secret_at(reply.properties, "completionTarget")
    assert not secret_at(reply.properties, "requestIds")
    # A refresh keeps it so.
    read = plugin.Read(
        proto.ReadRequest(urn=URN, id=reply.id, properties=reply.properties, inputs=struct(news))
    )
    assert secret_at(read.properties, "completionTarget")
    # The engine hands the completion the run's output as it is.
    news = struct({})
    news.fields["run"].CopyFrom(reply.properties.fields["completionTarget"])
    done = plugin.Create(proto.CreateRequest(urn=COMPLETION_URN, properties=news))
    assert secret_at(done.properties, "status")  # what awaited a secret run stays secret
    assert reveal(props(done.properties))["status"] == "COMPLETED"
    assert "r1" not in str(reveal(props(done.properties)))


def test_a_state_from_before_the_completion_sees_no_change_and_its_wait_is_taken_as_done(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    # A 0.2 plugin stack: the run waited inside its own create, and its state has no
    # completionTarget. Its next `up` neither diffs nor sends; a completion added for it later
    # takes the status the run recorded, with no request.
    configure(plugin, emulator)
    emulator.configure(job_seconds=0)
    waited = {**RUN, "waitForCompletion": True, **FAST}
    _, run = create(plugin, URN, waited)
    assert run["status"] == "COMPLETED"
    old_state = {k: v for k, v in run.items() if k != "completionTarget"}
    emulator.clear_requests()
    same = diff(plugin, URN, old_state, checked(plugin, URN, waited))
    assert same.changes == proto.DiffResponse.DIFF_NONE
    _, done = create(plugin, COMPLETION_URN, {"run": run["completionTarget"]})
    assert done["status"] == "COMPLETED"
    assert sent(emulator) == []


def test_check_names_what_a_completion_needs_before_any_request(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)

    def failures(news: dict[str, Any]) -> dict[str, str]:
        reply = plugin.Check(
            proto.CheckRequest(urn=COMPLETION_URN, olds=struct({}), news=struct(news))
        )
        return {f.property: f.reason for f in reply.failures}

    # What YAML passes for a run whose state predates completionTarget: nothing.
    missing = failures({"timeoutSeconds": 10.0})
    assert "run: ${<run>.completionTarget}" in missing["run"]
    assert "set waitForCompletion false on it" in missing["run"]
    assert "runs" in failures({"run": {"operationId": "o"}, "runs": {}})
    assert "completionTarget" in failures({"run": {"requestId": "x"}})["run"]
    bad = failures({"runs": {"a": 3.0}, "timeoutSeconds": -1.0, "maxConcurrency": 1.5})
    assert set(bad) == {"runs.a", "timeoutSeconds", "maxConcurrency"}
    assert failures({"run": rpc.UNKNOWN}) == {}  # a preview of a run about to be created
    assert sent(emulator) == []


def test_a_preview_of_a_run_triggered_again_plans_an_update_of_its_completion(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    emulator.configure(job_seconds=0)
    _, run = create(plugin, URN, RUN)
    _, done = create(plugin, COMPLETION_URN, {"run": run["completionTarget"], **FAST})
    emulator.clear_requests()
    for news in (
        {"run": rpc.UNKNOWN},
        {"run": {**run["completionTarget"], "operationId": rpc.UNKNOWN}},
    ):
        assert diff(plugin, COMPLETION_URN, done, news).changes == proto.DiffResponse.DIFF_SOME
    assert sent(emulator) == []


def test_a_secret_literal_quoted_by_a_failure_is_masked_with_what_the_run_recorded(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    clause = "ssn = '123-45-6789'"
    emulator.configure(job_seconds=0, failing_extractions=["ext-1"], failure_reason=clause)
    secret_run = {**RUN, "mode": "filter", "whereClause": rpc.wrap_rpc_secret(clause)}
    _, run = create(plugin, URN, secret_run)
    # The target carries the fragments to mask, so it is a secret as a whole (the YAML host
    # would hand a secret nested in it over as {}); the engine passes it on as it was sent.
    assert rpc.is_rpc_secret(run["completionTarget"])
    target = reveal(run["completionTarget"])
    assert "123-45-6789" in target["maskedValues"]
    news = {"run": rpc.wrap_rpc_secret(target), **FAST}
    text = failure_of(lambda: create(plugin, COMPLETION_URN, news))
    assert "finished with status FAILED: Extraction failed: [secret]" in text, text
    assert "123-45-6789" not in text
