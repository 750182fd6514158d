"""pulumi-resource-datagol as the engine runs it: the installed executable, over gRPC.

Values go in the way the engine sends them (camelCase names, every number a float, unknowns as
the computed sentinel, secrets as secrets) and each call's requests are counted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from datagol_pulumi.emulator import Emulator
from datagol_pulumi.plugin.schema import schema
from tests.conftest import TOKEN, WORKSPACE_ID, sent, struct
from tests.contract.conftest import provider_process

URN = "urn:pulumi:dev::proj::datagol:index:ExtractionRun::contracts"
GROUP_URN = "urn:pulumi:dev::proj::datagol:index:ExtractionRunGroup::seed"
RUN = {
    "workspaceId": WORKSPACE_ID,
    "extractionId": "ext-1",
    "elementType": "file",
    "elementId": "f-1",
    "mode": "filter",
    "whereClause": "status = 'open'",
}


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    executable = Path(sys.executable).parent / "pulumi-resource-datagol"
    # The engine's address is the last argument; nothing here calls back to it.
    env = {"PATH": "/usr/bin:/bin", "DATAGOL_JOURNAL_DIR": str(tmp_path / "inflight")}
    with provider_process([str(executable), "127.0.0.1:1"], env) as stub:
        yield stub


def configure(stub: Any, emulator: Emulator) -> None:
    args = {"baseUrl": emulator.url, "token": rpc.wrap_rpc_secret(TOKEN)}
    reply = stub.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))
    assert reply.acceptSecrets


def props(message: Any) -> dict[str, Any]:
    return rpc.deserialize_properties(message, keep_unknowns=True)


def test_schema_is_served_from_the_property_definitions(plugin: Any) -> None:
    served = json.loads(plugin.GetSchema(proto.GetSchemaRequest(version=0)).schema)
    assert served == json.loads(json.dumps(schema()))
    run = served["resources"]["datagol:index:ExtractionRun"]
    assert run["requiredInputs"] == ["workspaceId", "extractionId", "elementType", "elementId"]
    assert "whereClause" in run["inputProperties"] and "rows" not in run["properties"]
    assert served["config"]["variables"]["token"]["secret"] is True


def test_bad_input_fails_check_in_camel_case_before_any_request(
    plugin: Any, emulator: Emulator
) -> None:
    configure(plugin, emulator)
    news = {**RUN, "whereClause": None, "elementType": "DISK", "batchSize": 0.5}
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    failures = {f.property: f.reason for f in checked.failures}
    assert set(failures) == {"whereClause", "elementType", "batchSize"}
    assert "mode 'filter' needs a whereClause" in failures["whereClause"]
    assert "where_clause" not in " ".join(failures.values())
    assert sent(emulator) == []


def test_unknown_inputs_pass_check_and_plan_an_update(plugin: Any, emulator: Emulator) -> None:
    configure(plugin, emulator)
    news = {**RUN, "whereClause": rpc.UNKNOWN}
    normalised = {**news, "elementType": "FILE"}  # as check returns it, as diff gets it
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []
    assert props(checked.inputs)["elementType"] == "FILE"
    diff = plugin.Diff(
        proto.DiffRequest(
            urn=URN, id="r", olds=struct({**RUN, "elementType": "FILE"}), news=struct(normalised)
        )
    )
    assert diff.changes == proto.DiffResponse.DIFF_SOME
    assert list(diff.diffs) == ["whereClause"]
    assert sent(emulator) == []


def test_create_then_diff_names_what_re_triggers_and_what_replaces(
    plugin: Any, emulator: Emulator
) -> None:
    configure(plugin, emulator)
    checked = props(
        plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN))).inputs
    )
    created = plugin.Create(proto.CreateRequest(urn=URN, properties=struct(checked)))
    [post] = sent(emulator)
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'open'"}
    outs = props(created.properties)
    assert created.id == post["request_id"] == outs["requestId"]
    assert outs["runCount"] == 1 and outs["elementType"] == "FILE" and outs["error"] == ""
    assert not any(k.startswith("__") or "_" in k for k in outs)  # camelCase only
    state = struct(outs)

    same = plugin.Diff(proto.DiffRequest(urn=URN, id=created.id, olds=state, news=struct(checked)))
    assert same.changes == proto.DiffResponse.DIFF_NONE

    moved = {
        **checked,
        "whereClause": "status = 'closed'",
        "elementId": "f-2",
        "timeoutSeconds": 9.0,
    }
    diff = plugin.Diff(proto.DiffRequest(urn=URN, id=created.id, olds=state, news=struct(moved)))
    kinds = {k: v.kind for k, v in diff.detailedDiff.items()}
    assert kinds == {
        "elementId": proto.PropertyDiff.UPDATE_REPLACE,
        "whereClause": proto.PropertyDiff.UPDATE,
        "timeoutSeconds": proto.PropertyDiff.UPDATE,
    }
    assert list(diff.replaces) == ["elementId"]
    assert len(sent(emulator)) == 1  # diff never sends


def test_a_bad_setting_is_refused_at_configure_naming_the_key(plugin: Any) -> None:
    args = {"baseUrl": "ftp://example.com"}
    with pytest.raises(grpc.RpcError) as caught:
        plugin.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=True))
    detail = caught.value.details()
    assert "datagol:baseUrl must be an http(s) URL" in detail
    assert "Traceback" not in detail and 'File "' not in detail


def test_group_results_come_back_per_run_in_camel_case(plugin: Any, emulator: Emulator) -> None:
    configure(plugin, emulator)
    news = {"runs": {"a": {**RUN, "mode": "full", "whereClause": None}, "b": RUN}}
    checked = props(
        plugin.Check(proto.CheckRequest(urn=GROUP_URN, olds=struct({}), news=struct(news))).inputs
    )
    created = plugin.Create(proto.CreateRequest(urn=GROUP_URN, properties=struct(checked)))
    outs = props(created.properties)
    assert len(sent(emulator)) == 2
    assert outs["triggeredKeys"] == ["a", "b"]
    assert outs["results"]["b"]["whereClause"] == "status = 'open'"
    assert outs["results"]["a"]["requestId"] in {r["request_id"] for r in sent(emulator)}


def test_import_is_refused_with_the_reason_and_sends_nothing(
    plugin: Any, emulator: Emulator
) -> None:
    configure(plugin, emulator)
    with pytest.raises(grpc.RpcError) as caught:
        plugin.Read(proto.ReadRequest(urn=URN, id="req-1", properties=struct({})))
    detail = caught.value.details()
    assert "importing an extraction run (request id req-1) is not supported" in detail
    assert "Traceback" not in detail
    assert sent(emulator) == []


def test_preview_of_an_update_that_sends_nothing_keeps_the_recorded_outputs(
    plugin: Any, emulator: Emulator
) -> None:
    """A setting change sends nothing: the preview shows what `up` will record (so a
    completion of the run sees its request ids, as at `up`); a trigger change shows the
    inputs only (the rest unknown until `up`). The previews send nothing."""
    configure(plugin, emulator)
    created = plugin.Create(proto.CreateRequest(urn=URN, properties=struct(RUN)))
    recorded = props(created.properties)

    def update(news: dict[str, Any], preview: bool) -> dict[str, Any]:
        checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
        request = proto.UpdateRequest(
            urn=URN, id=created.id, olds=created.properties, news=checked.inputs, preview=preview
        )
        return props(plugin.Update(request).properties)

    longer = {**RUN, "timeoutSeconds": 9.0}
    setting = update(longer, preview=True)
    assert setting["requestId"] == recorded["requestId"] and setting["timeoutSeconds"] == 9
    assert setting["completionTarget"] == {**recorded["completionTarget"], "timeoutSeconds": 9}
    triggered = update({**RUN, "whereClause": "status = 'closed'"}, preview=True)
    assert "requestId" not in triggered and triggered["whereClause"] == "status = 'closed'"
    assert len(sent(emulator)) == 1  # the create's POST only
    assert update(longer, preview=False) == setting  # what `up` records, the preview showed
