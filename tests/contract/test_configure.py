"""Settings through Configure, as `pulumi up` delivers them to the SDK's dynamic-provider
server: the provider resource's inputs first, then DATAGOL_* in the provider's environment;
inputs of a 0.1.0 state accepted; refresh of runs that track nothing needs nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime import proto

from datagol_pulumi.emulator import Emulator
from datagol_pulumi.runs import validated
from tests.conftest import BASE_RUN, TOKEN, sent
from tests.contract.conftest import dynamic_server
from tests.contract.test_dynamic_server import PROVIDER, URN, props, struct

STATE_OF_0_1_0 = {
    "datagol:stack": "organization/datagol-pulumi/dev",
    "datagol:stackSecrets": "token",
}


def configure(stub: Any, args: dict[str, Any]) -> None:
    stub.Configure(proto.ConfigureRequest(args=struct(args), acceptSecrets=False))


def recorded_run(name: str, **outputs: Any) -> dict[str, Any]:
    """A run as the state keeps it after an `up`."""
    inputs = validated({**BASE_RUN, "element_id": name})
    return {
        **inputs,
        "request_id": f"req-{name}",
        "status": "QUEUED",
        "__provider": PROVIDER,
        **outputs,
    }


def read(stub: Any, run: dict[str, Any]) -> dict[str, Any]:
    reply = stub.Read(proto.ReadRequest(id=run["request_id"], urn=URN, properties=struct(run)))
    return props(reply.properties)


def test_a_0_1_0_state_is_accepted_and_says_what_to_do(emulator: Emulator) -> None:
    with dynamic_server({}) as stub:
        configure(stub, {"datagol:baseUrl": emulator.url, **STATE_OF_0_1_0})
        untracked = recorded_run("a")
        assert read(stub, untracked)["request_id"] == "req-a"
        with pytest.raises(grpc.RpcError) as info:
            read(stub, recorded_run("b", wait_for_completion=True))
        text = info.value.details()
        assert "deployed by datagol-pulumi 0.1.0" in text
        assert "Run `pulumi up` once" in text and "DATAGOL_TOKEN" in text
    assert sent(emulator) == []  # neither refresh sent anything


def test_refresh_of_runs_that_track_nothing_needs_no_credentials(emulator: Emulator) -> None:
    with dynamic_server({}) as stub:
        configure(stub, {"datagol:baseUrl": emulator.url})
        outs = read(stub, recorded_run("a", status="COMPLETED"))
        assert (outs["request_id"], outs["status"]) == ("req-a", "COMPLETED")
    assert sent(emulator) == []


def test_the_environment_fills_in_what_the_inputs_lack(emulator: Emulator) -> None:
    # The token only in the provider process's environment, read when it runs.
    with dynamic_server({"DATAGOL_TOKEN": TOKEN, "DATAGOL_BASE_URL": "http://127.0.0.1:9"}) as stub:
        configure(stub, {"datagol:baseUrl": emulator.url})  # the input beats DATAGOL_BASE_URL
        run = {k: v for k, v in recorded_run("c").items() if k not in ("request_id", "status")}
        checked = stub.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(run)))
        stub.Create(proto.CreateRequest(urn=URN, properties=checked.inputs))
    [post] = sent(emulator)
    assert post["method"] == "POST" and post["auth"]["valid"] is True


def test_a_bad_setting_fails_naming_it_before_any_request(emulator: Emulator) -> None:
    with dynamic_server({}) as stub:
        configure(stub, {"datagol:baseUrl": emulator.url, "datagol:maxRetries": 1.5})
        run = {k: v for k, v in recorded_run("d").items() if k not in ("request_id", "status")}
        with pytest.raises(grpc.RpcError) as info:
            stub.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(run)))
    assert "datagol:maxRetries must be a whole number" in info.value.details()
    assert sent(emulator) == []
