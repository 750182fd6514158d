"""datagol:index:Extraction and getExtractions in pulumi-resource-datagol, over gRPC as the
engine calls them (camelCase, floats, unknowns), with each call's requests counted."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime import proto, rpc

from datagol_pulumi.emulator import Emulator
from tests.conftest import WORKSPACE_ID, struct
from tests.contract.test_extractions import COLLECTION, calls
from tests.contract.test_plugin import configure, plugin, props  # noqa: F401 - the fixture

URN = "urn:pulumi:dev::proj::datagol:index:Extraction::invoices"
DECLARED = {
    "workspaceId": WORKSPACE_ID,
    "title": "Invoices",
    "extractionMode": "standard",
    "elementType": "FILE",
    "elementId": "file-42",
    "outputConfiguration": {"createNewWorkbook": True},
    "primaryKeyColumnId": ["b", "a"],
    "schedule": {"basicSchedule": {"timeUnit": "DAY", "units": 1.0}},
}


def test_check_fails_in_camel_case_before_any_request(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    configure(plugin, emulator)
    news = {**DECLARED, "extractionMode": "FAST", "primaryKeyColumnId": None, "llmModel": 3.0}
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    failures = {f.property: f.reason for f in checked.failures}
    assert set(failures) == {"extractionMode", "primaryKeyColumnId", "llmModel"}
    assert "primaryKeyColumnId is required" in failures["primaryKeyColumnId"]
    assert emulator.requests() == []
    unknown = {**DECLARED, "title": rpc.UNKNOWN}
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(unknown)))
    assert list(checked.failures) == []


def test_create_read_import_delete(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    configure(plugin, emulator)
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(DECLARED)))
    inputs = props(checked.inputs)
    assert inputs["extractionMode"] == "STANDARD"
    created = plugin.Create(proto.CreateRequest(urn=URN, properties=checked.inputs))
    outs = props(created.properties)
    ident = outs["extractionId"]
    assert created.id == f"{WORKSPACE_ID}/FILE/file-42/{ident}"
    assert calls(emulator) == [("GET", f"{COLLECTION}/FILE/file-42"), ("POST", COLLECTION)]
    assert emulator.requests(method="POST")[0]["body"]["schedule"] == {
        "basicSchedule": {"timeUnit": "DAY", "units": 1}
    }
    diff = plugin.Diff(
        proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=checked.inputs)
    )
    assert diff.changes == proto.DiffResponse.DIFF_NONE

    # Import: read with no properties returns inputs as DataGOL holds them.
    emulator.clear_requests()
    imported = plugin.Read(proto.ReadRequest(urn=URN, id=created.id, properties=struct({})))
    assert imported.id == created.id
    found = props(imported.inputs)
    assert found["title"] == "Invoices" and found["primaryKeyColumnId"] == ["a", "b"]
    assert "extractionId" not in found and "modiDate" not in found
    assert calls(emulator) == [("GET", f"{COLLECTION}/FILE/file-42")]

    emulator.delete_extraction(int(ident))
    gone = plugin.Read(
        proto.ReadRequest(
            urn=URN, id=created.id, properties=created.properties, inputs=checked.inputs
        )
    )
    assert gone.id == ""
    emulator.clear_requests()
    plugin.Delete(proto.DeleteRequest(urn=URN, id=created.id, properties=created.properties))
    assert calls(emulator) == [("DELETE", f"{COLLECTION}/{ident}")]


def test_preview_of_an_update_keeps_the_extraction_id_and_sends_nothing(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    created = plugin.Create(proto.CreateRequest(urn=URN, properties=struct(DECLARED)))
    emulator.clear_requests()
    news = struct({**DECLARED, "title": "B"})
    previewed = plugin.Update(
        proto.UpdateRequest(
            id=created.id, urn=URN, olds=created.properties, news=news, preview=True
        )
    )
    outs = props(previewed.properties)
    assert outs["extractionId"] == props(created.properties)["extractionId"]
    assert outs["title"] == "B" and "modiDate" not in outs
    assert emulator.requests() == []


def test_get_extractions_invoke(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    configure(plugin, emulator)
    plugin.Create(proto.CreateRequest(urn=URN, properties=struct(DECLARED)))
    args = {"workspaceId": WORKSPACE_ID, "elementType": "FILE", "elementId": "file-42"}
    reply = plugin.Invoke(
        proto.ResourceInvokeRequest(tok="datagol:index:getExtractions", args=struct(args))
    )
    (found,) = props(reply.__getattribute__("return"))["extractions"]
    assert found["title"] == "Invoices" and found["extractionId"].isdigit()
    none = plugin.Invoke(
        proto.ResourceInvokeRequest(
            tok="datagol:index:getExtractions", args=struct({**args, "title": "Other"})
        )
    )
    assert props(none.__getattribute__("return"))["extractions"] == []


def test_check_refuses_what_create_would_in_camel_case(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    """The same title with other values: the preview fails on `title`, naming the property
    in camelCase and the import command, after one free read; nothing is created. The values
    DataGOL holds pass, and the create that follows takes that read instead of another."""
    configure(plugin, emulator)
    plugin.Create(proto.CreateRequest(urn=URN, properties=struct(DECLARED)))
    (held,) = emulator.extraction_configs()
    emulator.clear_requests()
    other = {**DECLARED, "llmModel": "other-model"}
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(other)))
    [failure] = checked.failures
    assert failure.property == "title"
    assert "whose llmModel differ from the declaration; nothing was created" in failure.reason
    ident = f"{WORKSPACE_ID}/FILE/file-42/{held['id']}"
    assert f"pulumi import datagol:index:Extraction invoices '{ident}'" in failure.reason
    read = ("GET", f"{COLLECTION}/FILE/file-42")
    assert calls(emulator) == [read]
    same = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(DECLARED)))
    assert list(same.failures) == []
    adopted = plugin.Create(proto.CreateRequest(urn=URN, properties=same.inputs))
    assert adopted.id == ident
    assert calls(emulator) == [read, read]  # the create took the check's answer: no third


def test_diff_refuses_the_update_of_a_configuration_deleted_outside_pulumi(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    configure(plugin, emulator)
    created = plugin.Create(proto.CreateRequest(urn=URN, properties=struct(DECLARED)))
    ident = props(created.properties)["extractionId"]
    emulator.delete_extraction(int(ident))
    emulator.clear_requests()
    news = struct({**DECLARED, "title": "B"})
    with pytest.raises(grpc.RpcError) as refused:
        plugin.Diff(proto.DiffRequest(id=created.id, urn=URN, olds=created.properties, news=news))
    assert f"extraction configuration {ident} was deleted outside Pulumi" in str(
        refused.value.details()
    )
    assert calls(emulator) == [("GET", f"{COLLECTION}/FILE/file-42")]
