"""The packaged plugin keeps secret inputs out of its messages too (issue 16, items 3 and 4):
the engine marks secrets itself, the plugin tells the core which inputs are secret."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime import proto, rpc

from datagol_pulumi.emulator import Emulator
from tests.conftest import sent, struct
from tests.contract import test_plugin
from tests.contract.test_plugin import RUN, URN, configure

plugin = test_plugin.plugin  # the installed plugin's process, as the engine runs it

CLAUSE = "ssn = '555-12-3456'"


def check(stub: Any, news: dict[str, Any]) -> dict[str, str]:
    checked = stub.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    return {f.property: f.reason for f in checked.failures}


def test_a_secret_that_fails_check_is_named_not_quoted(plugin: Any, emulator: Emulator) -> None:
    configure(plugin, emulator)
    news = {
        **RUN,
        "elementId": rpc.wrap_rpc_secret("top/../PLUGIN-SECRET-1"),
        "mode": rpc.wrap_rpc_secret("MODE-PLUGIN-SECRET-2"),
    }
    failures = check(plugin, news)
    assert set(failures) == {"elementId", "mode"}
    assert "(a secret value, not shown) has a dot segment" in failures["elementId"]
    assert "mode must be one of" in failures["mode"]
    text = " ".join(failures.values())
    assert "PLUGIN-SECRET-1" not in text and "MODE-PLUGIN-SECRET-2" not in text
    # Not secret, the same values are quoted: the engine's marker is what hides them.
    plain = check(plugin, {**RUN, "mode": "MODE-PLUGIN-SECRET-2"})
    assert "MODE-PLUGIN-SECRET-2" in plain["mode"]
    assert sent(emulator) == []


def test_a_dot_segment_id_is_refused_before_any_request(plugin: Any, emulator: Emulator) -> None:
    configure(plugin, emulator)
    failures = check(plugin, {**RUN, "elementId": ".."})
    assert list(failures) == ["elementId"]
    assert "'..' is a dot segment" in failures["elementId"]
    assert sent(emulator) == []


def test_a_400_echoing_a_secret_where_clause_is_masked(plugin: Any, emulator: Emulator) -> None:
    configure(plugin, emulator)
    emulator.add_fault(status=400, path_contains="/run", body={"message": f"bad: {CLAUSE}"})
    news = {**RUN, "whereClause": rpc.wrap_rpc_secret(CLAUSE)}
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(news)))
    assert not checked.failures
    with pytest.raises(grpc.RpcError) as info:
        plugin.Create(proto.CreateRequest(urn=URN, properties=checked.inputs))
    details = info.value.details() or ""
    assert "HTTP 400: bad: [secret]" in details
    assert "555-12-3456" not in details
    assert [r["status"] for r in sent(emulator)] == [400]
