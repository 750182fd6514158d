"""The provider as `pulumi up` runs it: pickled, then served by the Pulumi SDK's own
dynamic-provider server (`python -m pulumi.dynamic`) in a separate process, over gRPC.

This proves what in-process tests cannot: the provider unpickles by reference from the
package, receives its settings through Configure (not its constructor), and each RPC makes
exactly the requests the lifecycle promises.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc

from datagol_pulumi import ExtractionRunGroupProvider, ExtractionRunProvider
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.payload import rows_digest
from datagol_pulumi.runs import RUN_OUTPUTS
from datagol_pulumi.validation import RUN_PROPERTIES
from tests.conftest import TOKEN, WORKSPACE_ID, reads, sent, struct
from tests.contract.conftest import dynamic_server

URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::orders"
PROVIDER = serialize_provider(ExtractionRunProvider())
RUN = {
    "workspace_id": WORKSPACE_ID,
    "extraction_id": "ext-1",
    "element_type": "folder",
    "element_id": "a/b",
    "mode": "filter",
    "where_clause": "x = 1",
    "__provider": PROVIDER,
}


def props(message: Any) -> dict[str, Any]:
    return rpc.deserialize_properties(message)


def configure(stub, emulator: Emulator, token: str = TOKEN) -> None:
    args = {"datagol:baseUrl": emulator.url, "datagol:token": rpc.wrap_rpc_secret(token)}
    stub.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))


def test_full_lifecycle_through_the_sdk_dynamic_server(server, emulator: Emulator) -> None:
    assert len(PROVIDER) < 200  # pickled by reference: no code, no settings in state
    configure(server, emulator)

    checked = server.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN)))
    assert list(checked.failures) == []
    inputs = props(checked.inputs)
    assert inputs["element_type"] == "FOLDER"
    assert inputs["__provider"] == PROVIDER

    created = server.Create(proto.CreateRequest(urn=URN, properties=struct(inputs)))
    outs = props(created.properties)
    [post] = sent(emulator)
    assert post["path"].endswith("/extraction/ext-1/FOLDER/a%2Fb/run")
    assert post["query"] == {"extractOnlyNew": "false"}
    assert post["body"] == {"selectAll": True, "whereClause": "x = 1"}
    assert post["auth"]["valid"] is True
    assert created.id == post["request_id"] == outs["request_id"]
    emulator.clear_requests()

    same = server.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=checked.inputs)
    )
    assert same.changes == proto.DiffResponse.DIFF_NONE

    changed_inputs = {**inputs, "where_clause": "x = 2"}
    diff = server.Diff(
        proto.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=struct(changed_inputs)
        )
    )
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    moved = server.Diff(
        proto.DiffRequest(
            id=created.id,
            urn=URN,
            olds=created.properties,
            news=struct({**inputs, "element_id": "c"}),
        )
    )
    assert list(moved.replaces) == ["element_id"]
    assert sent(emulator) == []

    updated = server.Update(
        proto.UpdateRequest(
            id=created.id, urn=URN, olds=created.properties, news=struct(changed_inputs)
        )
    )
    [post] = sent(emulator)
    assert post["body"] == {"selectAll": True, "whereClause": "x = 2"}
    assert props(updated.properties)["run_count"] == 2
    emulator.clear_requests()

    # Refresh and delete of a run that does not wait send nothing at all.
    read = server.Read(proto.ReadRequest(id=created.id, urn=URN, properties=updated.properties))
    assert props(read.properties)["request_id"] == props(updated.properties)["request_id"]
    server.Delete(proto.DeleteRequest(id=created.id, urn=URN, properties=updated.properties))
    assert sent(emulator) == []


def test_check_failure_reaches_the_engine_with_its_property(server, emulator: Emulator) -> None:
    configure(server, emulator)
    checked = server.Check(
        proto.CheckRequest(urn=URN, olds=struct({}), news=struct({**RUN, "element_type": "TABLE"}))
    )
    assert [(f.property, "COLUMN, FILE, FOLDER" in f.reason) for f in checked.failures] == [
        ("element_type", True)
    ]
    assert sent(emulator) == []


def test_wrong_token_fails_check_then_create_without_echoing_it(server, emulator: Emulator) -> None:
    configure(server, emulator, token="not-the-token-42")
    # check (the preview) reads Get Extractions once: DataGOL refuses the token, nothing sent.
    with pytest.raises(grpc.RpcError) as refused:
        server.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN)))
    assert "DataGOL refused the credentials" in refused.value.details()
    assert "not-the-token-42" not in refused.value.details()
    assert sent(emulator) == [] and [r["status"] for r in reads(emulator)] == [401]

    # The read turned off: check passes, and create fails at its POST, as before.
    emulator.clear_requests()
    args = {
        "datagol:baseUrl": emulator.url,
        "datagol:token": rpc.wrap_rpc_secret("not-the-token-42"),
        "datagol:skipPreviewReads": "true",
    }
    with dynamic_server() as other:  # another provider process, as the next command starts
        other.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))
        inputs = props(
            other.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN))).inputs
        )
        with pytest.raises(grpc.RpcError) as info:
            other.Create(proto.CreateRequest(urn=URN, properties=struct(inputs)))
    details = info.value.details()
    assert "datagol:token" in details
    assert "not-the-token-42" not in details
    assert len(emulator.requests()) == 1
    # The message alone: no traceback, no SDK frame (datagol_pulumi.sdk_errors).
    assert details.startswith("DataGOL refused the credentials"), details
    assert "Traceback" not in details and "__main__.py" not in details


def test_an_error_datagol_describes_shows_its_message_and_codes_without_frames(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    envelope = {
        "success": False,
        "error": {
            "statusCode": 400,
            "requestId": "log-77",
            "message": "Extraction ext-1 is disabled",
            "errorCodes": ["EXTRACTION_DISABLED", "E4001"],
        },
        "data": None,
    }
    emulator.add_fault(status=400, body=envelope, method="POST")
    inputs = props(check(server, RUN).inputs)
    with pytest.raises(grpc.RpcError) as info:
        server.Create(proto.CreateRequest(urn=URN, properties=struct(inputs)))
    details = info.value.details()
    assert "Extraction ext-1 is disabled" in details
    assert "EXTRACTION_DISABLED, E4001" in details
    assert "Traceback" not in details and "File " not in details, details
    assert "log-77" not in details or "request id" not in details.lower()


# -- What the engine really sends: unknowns at preview, every number a float -------------------

GROUP_URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRunGroup::g"
GROUP_PROVIDER = serialize_provider(ExtractionRunGroupProvider())


def check(stub, news: dict[str, Any], olds: dict[str, Any] | None = None, urn: str = URN):
    return stub.Check(proto.CheckRequest(urn=urn, olds=struct(olds or {}), news=struct(news)))


def test_unknown_inputs_pass_check_and_plan_a_change_without_a_request(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    # rpc.UNKNOWN is what the program sends for an Output not known at preview; the server
    # hands check and diff a pulumi.output.Unknown object for it.
    for prop in ("element_id", "workspace_id", "mode", "where_clause", "triggers"):
        checked = check(server, {**RUN, prop: rpc.UNKNOWN})
        assert list(checked.failures) == [], prop
        assert checked.inputs.fields[prop].string_value == rpc.UNKNOWN
    rows = check(
        server,
        {**RUN, "mode": "selected", "where_clause": None, "rows": [{"id": rpc.UNKNOWN}]},
    )
    assert list(rows.failures) == []

    # What is already known to be wrong is still refused, next to an unknown.
    bad = check(server, {**RUN, "element_id": rpc.UNKNOWN, "element_type": "TABLE"})
    assert [f.property for f in bad.failures] == ["element_type"]

    created = server.Create(proto.CreateRequest(urn=URN, properties=check(server, RUN).inputs))
    emulator.clear_requests()
    news = {**props(check(server, RUN).inputs), "element_id": rpc.UNKNOWN}
    diff = server.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=struct(news))
    )
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == ["element_id"]
    news = {**props(check(server, RUN).inputs), "where_clause": rpc.UNKNOWN}
    diff = server.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=struct(news))
    )
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    assert list(diff.replaces) == []
    assert sent(emulator) == []


def test_unknown_runs_of_a_group_pass_check(server, emulator: Emulator) -> None:
    configure(server, emulator)
    run = {k: v for k, v in RUN.items() if k != "__provider"}
    for runs in (
        rpc.UNKNOWN,
        {"a": rpc.UNKNOWN},
        {"a": {**run, "element_id": rpc.UNKNOWN}, "b": run},
    ):
        checked = check(server, {"runs": runs, "__provider": GROUP_PROVIDER}, urn=GROUP_URN)
        assert list(checked.failures) == [], runs
    bad = check(
        server,
        {
            "runs": {"a": {**run, "element_id": rpc.UNKNOWN, "mode": "nope"}},
            "__provider": GROUP_PROVIDER,
        },
        urn=GROUP_URN,
    )
    assert [f.property for f in bad.failures] == ["runs.a.mode"]
    assert sent(emulator) == []


def test_whole_numbers_reach_datagol_as_integers(server, emulator: Emulator) -> None:
    configure(server, emulator)
    run = {
        **RUN,
        "element_id": 7781,
        "mode": "selected",
        "where_clause": None,
        "rows": [{"id": 1, "big": 2**53, "ratio": 0.5, "nested": {"n": [3]}}],
        "triggers": {"release": 2},
        "batch_size": 10,
    }
    checked = check(server, run)
    assert list(checked.failures) == []
    inputs = props(checked.inputs)
    assert inputs["element_id"] == "7781"
    created = server.Create(proto.CreateRequest(urn=URN, properties=checked.inputs))
    [post] = sent(emulator)
    assert post["path"].endswith("/extraction/ext-1/FOLDER/7781/run")
    # Compared as JSON text: 1 == 1.0 in Python, but not on DataGOL's wire.
    assert json.dumps(post["body"], sort_keys=True) == json.dumps(
        {"selectAll": False, "rows": [{"id": 1, "big": 2**53, "ratio": 0.5, "nested": {"n": [3]}}]},
        sort_keys=True,
    )
    emulator.clear_requests()
    # The state holds floats again (the engine's numbers); the next diff is still a no-op.
    again = server.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=checked.inputs)
    )
    assert again.changes == proto.DiffResponse.DIFF_NONE
    assert sent(emulator) == []


def test_rows_hashed_as_floats_by_an_earlier_version_do_not_re_trigger(
    server, emulator: Emulator
) -> None:
    configure(server, emulator)
    run = {**RUN, "mode": "selected", "where_clause": None, "rows": [{"id": 1, "n": 2.5}]}
    checked = check(server, run)
    created = server.Create(proto.CreateRequest(urn=URN, properties=checked.inputs))
    olds = props(created.properties)
    # Versions before 0.2 hashed the rows as they arrived: {"id": 1.0, "n": 2.5}.
    olds["rows_digest"] = rows_digest([{"id": 1.0, "n": 2.5}])
    assert olds["rows_digest"] != props(created.properties)["rows_digest"]
    diff = server.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=struct(olds), news=checked.inputs)
    )
    assert diff.changes == proto.DiffResponse.DIFF_NONE
    changed = struct({**props(checked.inputs), "rows": [{"id": 2, "n": 2.5}]})
    diff = server.Diff(proto.DiffRequest(id=created.id, urn=URN, olds=struct(olds), news=changed))
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    assert len(sent(emulator)) == 1  # the create


def test_outputs_are_never_null_so_a_no_op_preview_shows_no_change(
    server, emulator: Emulator
) -> None:
    # The engine drops null outputs, and a preview shows a dropped output as unknown: every
    # declared output must come back with a value.
    configure(server, emulator)
    created = server.Create(proto.CreateRequest(urn=URN, properties=check(server, RUN).inputs))
    outs = props(created.properties)
    declared = [*RUN_PROPERTIES, *RUN_OUTPUTS]
    missing = [k for k in declared if k != "rows" and outs.get(k) is None]
    assert missing == []
    assert (outs["error"], outs["finished_at"], outs["triggers"]) == ("", "", {})


def test_a_bad_setting_fails_with_its_message_alone(server) -> None:
    args = {"datagol:baseUrl": "ftp://datagol.example", "datagol:token": "t"}
    server.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))
    with pytest.raises(grpc.RpcError) as info:
        check(server, RUN)
    details = info.value.details()
    assert "datagol:baseUrl" in details, details
    assert "Traceback" not in details and 'File "' not in details, details
