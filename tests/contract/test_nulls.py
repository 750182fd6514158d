"""Where a null inside rows is lost, and where it is not (issue 16).

The SDK's dynamic-provider server (`python -m pulumi.dynamic`) drops every null held by a map
before the provider's code runs, so the dynamic face cannot send one: the program refuses it
(tests/unit/test_exact_inputs.py, tests/e2e/test_exact_inputs.py). The packaged plugin receives
nulls as the engine sends them, and sends them to DataGOL as written.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto

from datagol_pulumi import ExtractionRunProvider
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.validation import check_run
from tests.conftest import BASE_RUN, WORKSPACE_ID, sent, struct
from tests.contract import test_dynamic_server, test_plugin
from tests.contract.test_plugin import plugin  # noqa: F401 - the fixture

ROWS = [{"id": "r1", "n": None, "deep": {"a": None, "b": [None, 1]}}]
#: What is left of ROWS once every null held by a map is dropped.
DROPPED = [{"id": "r1", "deep": {"b": [None, 1]}}]
DYNAMIC_URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::r"


def as_json(message: Any) -> dict[str, Any]:
    """A Struct as JSON, nulls kept (the SDK's deserialize_properties would drop them)."""
    return json_format.MessageToDict(message)


def test_the_core_keeps_nulls() -> None:
    checked, failures = check_run({**BASE_RUN, "mode": "selected", "rows": ROWS})
    assert failures == [] and checked["rows"] == ROWS


def test_the_sdk_dynamic_server_drops_nulls_held_by_maps(server: Any, emulator: Emulator) -> None:
    test_dynamic_server.configure(server, emulator)
    news = {
        **BASE_RUN,
        "mode": "selected",
        "rows": ROWS,
        "__provider": serialize_provider(ExtractionRunProvider()),
    }
    assert as_json(struct(news))["rows"] == ROWS  # sent with its nulls, as the engine does
    checked = server.Check(proto.CheckRequest(urn=DYNAMIC_URN, olds=struct({}), news=struct(news)))
    assert list(checked.failures) == []
    assert as_json(checked.inputs)["rows"] == DROPPED
    server.Create(proto.CreateRequest(urn=DYNAMIC_URN, properties=struct(news)))
    [post] = sent(emulator)
    assert post["body"] == {"selectAll": False, "rows": DROPPED}


def test_the_plugin_sends_nulls_in_rows_as_written(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    test_plugin.configure(plugin, emulator)
    run = {
        "workspaceId": WORKSPACE_ID,
        "extractionId": "ext-1",
        "elementType": "COLUMN",
        "elementId": "col-1",
        "mode": "selected",
        "rows": ROWS,
    }
    checked = plugin.Check(
        proto.CheckRequest(urn=test_plugin.URN, olds=struct({}), news=struct(run))
    )
    assert list(checked.failures) == []
    assert as_json(checked.inputs)["rows"] == ROWS
    plugin.Create(proto.CreateRequest(urn=test_plugin.URN, properties=checked.inputs))
    [post] = sent(emulator)
    assert post["body"] == {"selectAll": False, "rows": ROWS}
    emulator.clear_requests()

    group = {"runs": {"a": {**run, "elementId": "col-2"}}}
    checked = plugin.Check(
        proto.CheckRequest(urn=test_plugin.GROUP_URN, olds=struct({}), news=struct(group))
    )
    assert list(checked.failures) == []
    plugin.Create(proto.CreateRequest(urn=test_plugin.GROUP_URN, properties=checked.inputs))
    [post] = sent(emulator)
    assert post["body"] == {"selectAll": False, "rows": ROWS}
