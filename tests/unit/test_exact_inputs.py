"""Inputs are sent exactly as written, or refused in the program naming the path (issue 16).

Two silent changes are guarded against: the engine rounds ints beyond 2**53 (it carries
floats), and the SDK's dynamic-provider server drops nulls held by maps. The walkers
(:func:`datagol_pulumi.wire.inexact`) are tested on plain values; the program side with
Pulumi's mocks, with Outputs at any depth, for runs and groups.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from datagol_pulumi import ExtractionRun, ExtractionRunArgs, ExtractionRunGroup, ValidationError
from datagol_pulumi.exact import exact_input, maybe_rounded
from datagol_pulumi.wire import MAX_SAFE_INTEGER, big_numbers, inexact
from tests.conftest import BASE_RUN
from tests.unit.mocks import Recorder

RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"
SELECTED = {**BASE_RUN, "mode": "selected"}


# --- the walker -------------------------------------------------------------------------------


def test_plain_rows_have_nothing_to_report() -> None:
    rows = [{"id": i, "name": f"r{i}", "tags": ["a", None], "n": 2**53} for i in range(1000)]
    found = inexact(rows, "rows", nulls=True)
    assert found == ([], [], False)


def test_nulls_held_by_maps_are_named_at_any_depth_and_nulls_in_lists_are_not() -> None:
    rows = [{"id": "r1", "n": None}, {"id": "r2", "deep": {"a": None, "b": [None, {"c": None}]}}]
    found = inexact(rows, "rows", nulls=True)
    assert found.nulls == ["rows[0].n", "rows[1].deep.a", "rows[1].deep.b[1].c"]
    assert found.unsafe_integers == [] and not found.pending
    # Where nulls are never sent (triggers), they are not looked for.
    assert inexact(rows, "triggers") == ([], [], False)


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ({"a": {"b": [1, MAX_SAFE_INTEGER + 1]}}, ["t.a.b[1]"]),
        ({"a": -(2**60), "b": (2**64,)}, ["t.a", "t.b[0]"]),
        ({"a": MAX_SAFE_INTEGER, "b": -MAX_SAFE_INTEGER, "c": 2.0**60, "d": True}, []),
    ],
)
def test_unsafe_integers_are_named_at_any_depth(value: Any, paths: list[str]) -> None:
    assert inexact(value, "t").unsafe_integers == paths


def test_outputs_and_awaitables_are_pending() -> None:
    async def later() -> int:
        return 1

    loop = asyncio.new_event_loop()
    try:
        output = pulumi.Output.from_input(1)
        coroutine = later()
        assert inexact([{"a": {"b": output}}], "rows").pending
        assert inexact({"a": [coroutine]}, "triggers").pending
        loop.run_until_complete(coroutine)
    finally:
        loop.close()
    assert not inexact([{"a": "x"}], "rows").pending


def test_hostile_nesting_does_not_exhaust_the_stack() -> None:
    value: Any = None
    for _ in range(50_000):
        value = {"a": value}
    assert inexact(value, "rows", nulls=True).nulls == ["rows" + ".a" * 50_000]


def test_numbers_that_may_have_been_rounded_on_the_way_are_named() -> None:
    # What a provider gets from the engine: floats. 2**53 itself may be a rounded 2**53 + 1.
    value = {"a": [1.0, float(2**53)], "b": {"c": -1e300, "d": 2.0**53 - 1, "e": True}}
    assert big_numbers(value, "t") == ["t.a[1]", "t.b.c"]
    run = {**BASE_RUN, "element_id": 2.0**60, "rows": [{"id": 2.0**53}], "where_clause": 1e300}
    assert [path for path, _ in maybe_rounded(run)] == ["element_id", "rows[0].id"]
    group = {"runs": {"a": run, "b": "unknown"}, "max_concurrency": 1e300}
    assert [path for path, _ in maybe_rounded(group, group=True)] == [
        "runs.a.element_id",
        "runs.a.rows[0].id",
    ]
    assert maybe_rounded({"runs": "unknown"}, group=True) == []


# --- the program ------------------------------------------------------------------------------


def run(body: Any, preview: bool = False) -> Recorder:
    """Run ``body`` as a program under mocks: what it registered."""
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=preview)
    pulumi.runtime.set_all_config({}, [])
    pulumi.runtime.test(body)()
    return mocks


def registered(mocks: Recorder, typ: str = RUN_TYPE) -> list[Any]:
    return [r for r in mocks.resources if r.typ == typ]


def refusal(body: Any) -> str:
    """The refusal of a program that must register nothing: its message.

    Refusals inside Outputs fail the resource's registration; the program's resource-hook
    server must not crash the process meanwhile (exact.checked_when_resolved).
    """
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=False)
    pulumi.runtime.set_all_config({}, [])
    with pytest.raises(ValidationError) as info:
        pulumi.runtime.test(body)()
    assert [r for r in mocks.resources if r.typ in (RUN_TYPE, GROUP_TYPE)] == []
    return str(info.value)


NULL_FIX = "Pulumi's dynamic providers drop nulls inside maps"


def test_a_null_in_rows_is_refused_before_registration() -> None:
    with pytest.raises(ValidationError) as info:
        run(lambda: ExtractionRun("sel", **SELECTED, rows=[{"id": "r1", "n": None}]))
    text = str(info.value)
    assert text.startswith(f"sel: rows[0].n: rows[0].n is null (1 such value(s)); {NULL_FIX}")
    assert "remove 'n', or give it a value" in text
    assert info.value.failures[0][0] == "rows[0].n"


@pytest.mark.parametrize(
    "rows",
    [
        lambda: pulumi.Output.from_input([{"id": "r1", "n": None}]),
        lambda: [{"id": "r1", "n": pulumi.Output.from_input(None)}],
        lambda: pulumi.Output.secret([{"id": "r1", "n": None}]),
        lambda: [{"id": "r1", "m": pulumi.Output.from_input({"n": None})}],
    ],
    ids=["output", "nested-output", "secret", "null-inside-output"],
)
def test_a_null_in_rows_given_through_outputs_is_refused(rows: Any) -> None:
    text = refusal(lambda: ExtractionRun("sel", **SELECTED, rows=rows()))
    assert "sel: rows[0]." in text and f"is null (1 such value(s)); {NULL_FIX}" in text


def test_nulls_in_lists_and_triggers_pass_as_written() -> None:
    mocks = run(
        lambda: ExtractionRun(
            "ok", **SELECTED, rows=[{"id": "r1", "tags": [None, "a"]}], triggers={"t": None}
        )
    )
    [resource] = registered(mocks)
    assert resource.inputs["rows"] == [{"id": "r1", "tags": [None, "a"]}]


@pytest.mark.parametrize(
    ("prop", "value", "path"),
    [
        ("rows", lambda: [{"id": pulumi.Output.from_input(2**53 + 1)}], "rows[0].id"),
        (
            "rows",
            lambda: [{"a": pulumi.Output.from_input({"b": pulumi.Output.from_input(2**60)})}],
            "rows[0].a.b",
        ),
        ("rows", lambda: pulumi.Output.secret([{"id": 2**53 + 1}]), "rows[0].id"),
        (
            "triggers",
            lambda: {"build": pulumi.Output.from_input([1, -(2**54)])},
            "triggers.build[1]",
        ),
        ("element_id", lambda: pulumi.Output.from_input(2**53 + 1), "element_id"),
    ],
    ids=["nested", "nested-twice", "secret", "triggers", "id"],
)
def test_an_unsafe_integer_in_any_output_is_refused(prop: str, value: Any, path: str) -> None:
    text = refusal(lambda: ExtractionRun("big", **{**SELECTED, prop: value()}))
    assert text.startswith(f"big: {path}: {path} is a whole number beyond 2**53")
    assert "pass it as a string" in text


def _group_run(**extra: Any) -> dict[str, Any]:
    return {**SELECTED, "rows": [{"id": "r1"}], **extra}


@pytest.mark.parametrize(
    ("runs", "path"),
    [
        (
            lambda: pulumi.Output.from_input({"a": _group_run(rows=[{"id": 2**53 + 1}])}),
            "runs.a.rows[0].id",
        ),
        (
            lambda: {"a": pulumi.Output.from_input(_group_run(rows=[{"id": 2**53 + 1}]))},
            "runs.a.rows[0].id",
        ),
        (
            lambda: {"a": _group_run(triggers=pulumi.Output.from_input({"n": 9007199254740993}))},
            "runs.a.triggers.n",
        ),
        (
            lambda: {
                "b": ExtractionRunArgs(**SELECTED, rows=[{"id": pulumi.Output.from_input(2**60)}])
            },
            "runs.b.rows[0].id",
        ),
    ],
    ids=["runs-output", "run-output", "input-output", "args-nested-output"],
)
def test_a_group_refuses_unsafe_integers_in_any_output(runs: Any, path: str) -> None:
    text = refusal(lambda: ExtractionRunGroup("g", runs=runs()))
    assert text.startswith(f"g: {path}: {path} is a whole number beyond 2**53")


@pytest.mark.parametrize(
    "runs",
    [
        lambda: pulumi.Output.from_input({"a": _group_run(rows=[{"id": "r1", "n": None}])}),
        lambda: {"a": pulumi.Output.secret(_group_run(rows=[{"id": "r1", "n": None}]))},
    ],
    ids=["runs-output", "run-output"],
)
def test_a_group_refuses_a_null_in_rows_given_through_outputs(runs: Any) -> None:
    text = refusal(lambda: ExtractionRunGroup("g", runs=runs()))
    assert text.startswith("g: runs.a.rows[0].n: runs.a.rows[0].n is null (1 such value(s))")


def test_a_group_refuses_a_null_in_rows_before_registration() -> None:
    runs = {"a": _group_run(rows=[{"id": "r1", "n": None}])}
    with pytest.raises(ValidationError, match=r"^g: runs\.a\.rows\[0\]\.n: .* is null"):
        run(lambda: ExtractionRunGroup("g", runs=runs))


def test_valid_outputs_are_registered_resolved_and_keep_their_secrecy() -> None:
    def program() -> None:
        ExtractionRun("r", **SELECTED, rows=[{"id": pulumi.Output.secret(2**53), "n": 1}])
        ExtractionRunGroup("g", runs={"a": _group_run(rows=[{"id": pulumi.Output.from_input(7)}])})

    mocks = run(program)
    [run_resource] = registered(mocks)
    assert rpc.is_rpc_secret(run_resource.inputs["rows"])
    assert rpc.unwrap_rpc_secret(run_resource.inputs["rows"]) == [{"id": 2**53, "n": 1}]
    [group] = registered(mocks, GROUP_TYPE)
    assert group.inputs["runs"]["a"]["rows"] == [{"id": 7}]


def _unknown() -> pulumi.Output:
    async def value() -> Any:
        return None

    async def known() -> bool:
        return False

    return pulumi.Output(set(), value(), known())


def test_outputs_stay_in_their_place_and_plain_values_are_not_copied() -> None:
    rows = [{"id": "r1", "n": 1}]
    assert exact_input("r", "rows", rows) is rows

    async def main() -> None:
        triggers = exact_input("r", "triggers", {"table": _unknown(), "n": 1})
        # A preview shows {"table": [unknown], "n": 1}, not a wholly unknown map.
        assert isinstance(triggers, dict) and triggers["n"] == 1
        assert not await triggers["table"].is_known()
        rows = exact_input("r", "rows", [{"id": pulumi.Output.secret(7), "n": 1}])
        assert rows[0]["n"] == 1
        assert await rows[0]["id"].is_secret() and await rows[0]["id"].future() == 7

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def test_an_unknown_output_is_not_refused_in_a_preview() -> None:
    def program() -> None:
        ExtractionRun("r", **SELECTED, rows=[{"id": "r1", "n": _unknown()}])
        ExtractionRunGroup("g", runs={"a": _unknown()})
        ExtractionRunGroup("h", runs=_unknown())

    mocks = run(program, preview=True)
    assert len(registered(mocks)) == 1 and len(registered(mocks, GROUP_TYPE)) == 2
