"""The provider as `pulumi up` runs it: pickled, then served by the Pulumi SDK's own
dynamic-provider server (`python -m pulumi.dynamic`) in a separate process, over gRPC.

This proves what in-process tests cannot: the provider unpickles by reference from the
package, receives its settings through Configure (not its constructor), and each RPC makes
exactly the requests the lifecycle promises.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from datagol_pulumi import ExtractionRunProvider
from datagol_pulumi.emulator import Emulator
from tests.conftest import TOKEN, WORKSPACE_ID

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


def struct(props: dict[str, Any]) -> Any:
    # Not asyncio.run: it would leave the thread without an event loop for later tests.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def props(message: Any) -> dict[str, Any]:
    return rpc.deserialize_properties(message)


@pytest.fixture
def server() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PULUMI_PROJECT": "datagol-pulumi"},
    )
    try:
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.stderr.close()
        assert TOKEN not in stderr


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
    [post] = emulator.requests()
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
    assert emulator.requests() == []

    updated = server.Update(
        proto.UpdateRequest(
            id=created.id, urn=URN, olds=created.properties, news=struct(changed_inputs)
        )
    )
    [post] = emulator.requests()
    assert post["body"] == {"selectAll": True, "whereClause": "x = 2"}
    assert props(updated.properties)["run_count"] == 2
    emulator.clear_requests()

    # Refresh and delete of a run that does not wait send nothing at all.
    read = server.Read(proto.ReadRequest(id=created.id, urn=URN, properties=updated.properties))
    assert props(read.properties)["request_id"] == props(updated.properties)["request_id"]
    server.Delete(proto.DeleteRequest(id=created.id, urn=URN, properties=updated.properties))
    assert emulator.requests() == []


def test_check_failure_reaches_the_engine_with_its_property(server, emulator: Emulator) -> None:
    configure(server, emulator)
    checked = server.Check(
        proto.CheckRequest(urn=URN, olds=struct({}), news=struct({**RUN, "element_type": "TABLE"}))
    )
    assert [(f.property, "COLUMN, FILE, FOLDER" in f.reason) for f in checked.failures] == [
        ("element_type", True)
    ]
    assert emulator.requests() == []


def test_wrong_token_fails_create_without_echoing_it(server, emulator: Emulator) -> None:
    configure(server, emulator, token="not-the-token-42")
    inputs = props(
        server.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN))).inputs
    )
    with pytest.raises(grpc.RpcError) as info:
        server.Create(proto.CreateRequest(urn=URN, properties=struct(inputs)))
    details = info.value.details()
    assert "datagol:token" in details
    assert "not-the-token-42" not in details
    assert len(emulator.requests()) == 1
