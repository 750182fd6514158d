"""The plugin refuses numbers the engine may have rounded (issue 16, item 4).

Every number crosses the engine as a 64-bit float: a program's 2**53 + 1 reaches the plugin as
2**53, and the plugin cannot tell. Check refuses numbers of magnitude 2**53 or more in ids,
rows and triggers, naming the path, before anything is sent.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import proto

from datagol_pulumi.emulator import Emulator
from tests.conftest import WORKSPACE_ID, sent, struct
from tests.contract import test_plugin
from tests.contract.test_plugin import plugin  # noqa: F401 - the fixture

RUN = {
    "workspaceId": WORKSPACE_ID,
    "extractionId": "ext-1",
    "elementType": "COLUMN",
    "elementId": "col-1",
    "mode": "selected",
    "rows": [{"id": "r1"}],
}
WHY = (
    "is a number of magnitude 2**53 or more (1 such value(s)); Pulumi carries numbers as 64-bit "
    "floats, which round whole numbers that large, so it may not be the number written: pass it "
    "as a string"
)


def failures(stub: Any, urn: str, news: dict[str, Any]) -> dict[str, str]:
    checked = stub.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(news)))
    return {f.property: f.reason for f in checked.failures}


def test_numbers_the_engine_may_have_rounded_are_refused_at_check(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    test_plugin.configure(plugin, emulator)
    run = {
        **RUN,
        "elementId": 2**60,
        "rows": [{"id": 2**53 + 1, "ok": 2**53 - 1, "ratio": 0.5, "deep": [{"n": -(2**53)}]}],
        "triggers": {"at": 1.7e18},
    }
    got = failures(plugin, test_plugin.URN, run)
    assert got == {
        "elementId": f"elementId {WHY}",
        # Two in rows (2**53 + 1 arrived as 2**53): the first path is named, and the count.
        "rows[0].deep[0].n": f"rows[0].deep[0].n {WHY.replace('(1 such', '(2 such')}",
        "triggers.at": f"triggers.at {WHY}",
    }
    group = {"runs": {"a": {**RUN, "rows": [{"id": 2**53 + 1}]}, "b": RUN}}
    assert failures(plugin, test_plugin.GROUP_URN, group) == {
        "runs.a.rows[0].id": f"runs.a.rows[0].id {WHY}"
    }
    assert failures(plugin, test_plugin.URN, {**RUN, "rows": [{"id": 2**53 - 1}]}) == {}
    assert sent(emulator) == []


def test_nan_and_infinity_are_refused_at_check_naming_the_path(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    # orjson would send them as null: DataGOL would get a row that is not the one written.
    test_plugin.configure(plugin, emulator)
    fix = "remove it, or give a finite number or a string"
    run = {**RUN, "rows": [{"id": "r1"}, {"id": "r2", "amount": float("nan")}]}
    assert failures(plugin, test_plugin.URN, run) == {
        "rows[1].amount": "rows[1].amount is NaN, which JSON cannot carry: DataGOL would get "
        f"null instead; {fix}"
    }
    group = {"runs": {"a": RUN, "b": {**RUN, "triggers": {"at": [1, float("-inf")]}}}}
    assert failures(plugin, test_plugin.GROUP_URN, group) == {
        "runs.b.triggers.at[1]": f"run 'b': triggers.at[1] is -Infinity, which JSON cannot "
        f"carry; {fix}"
    }
    assert emulator.requests() == []
