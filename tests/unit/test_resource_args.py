"""The constructors' shape, as Pulumi users write it, and what the program refuses up front.

Run with Pulumi's mocks: the program side only (registration, not the provider).
"""

from __future__ import annotations

import pulumi
import pytest

from datagol_pulumi import (
    ExtractionRun,
    ExtractionRunArgs,
    ExtractionRunGroup,
    ExtractionRunGroupArgs,
    ValidationError,
)
from datagol_pulumi.resource import resource_args
from tests.conftest import BASE_RUN
from tests.unit.mocks import run_program

RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"


def test_args_then_opts_positionally_keeps_the_options() -> None:
    args = ExtractionRunArgs(**BASE_RUN)
    opts = pulumi.ResourceOptions(protect=True)
    got_args, got_opts = resource_args(ExtractionRunArgs, "x", args, opts, {})
    assert got_args is args and got_opts is opts
    # (name, opts): the options are recognised in the args slot.
    got_args, got_opts = resource_args(ExtractionRunArgs, "x", opts, None, dict(BASE_RUN))
    assert got_opts is opts and got_args.element_id == BASE_RUN["element_id"]


def test_keywords_override_args_without_changing_them() -> None:
    args = ExtractionRunArgs(**BASE_RUN, mode="filter", where_clause="a = 1")
    got, _ = resource_args(ExtractionRunArgs, "x", args, None, {"where_clause": "a = 2"})
    assert (got.where_clause, args.where_clause) == ("a = 2", "a = 1")


@pytest.mark.parametrize(
    ("args", "opts", "kwargs", "message"),
    [
        (None, None, {"whereClause": "a"}, "unknown argument 'whereClause' (did you mean"),
        ("ws", None, {}, "must be a ExtractionRunArgs or pulumi.ResourceOptions, got str"),
        (None, {"protect": True}, {}, "opts must be pulumi.ResourceOptions, got dict"),
    ],
)
def test_misused_constructor_is_refused_naming_the_fix(args, opts, kwargs, message) -> None:
    with pytest.raises(TypeError, match="x: ") as info:
        resource_args(ExtractionRunArgs, "x", args, opts, kwargs)
    assert message in str(info.value)


def test_shared_args_with_different_custom_timeouts_stay_apart() -> None:
    shared = ExtractionRunArgs(**BASE_RUN)

    def program() -> None:
        ExtractionRun("a", shared, pulumi.ResourceOptions(custom_timeouts=_timeouts("90s")))
        ExtractionRun("b", shared, pulumi.ResourceOptions(custom_timeouts=_timeouts("2m")))
        ExtractionRun("c", args=shared)

    mocks = run_program(program)
    timeouts = {
        r.name: r.inputs.get("timeout_seconds") for r in mocks.resources if r.typ == RUN_TYPE
    }
    assert timeouts == {"a": 90, "b": 120, "c": None}
    assert shared.timeout_seconds is None


def test_group_takes_args_and_keywords() -> None:
    def program() -> None:
        ExtractionRunGroup("g1", ExtractionRunGroupArgs(runs={"a": dict(BASE_RUN)}))
        ExtractionRunGroup(
            "g2", runs={"b": ExtractionRunArgs(**BASE_RUN)}, max_concurrency=2, opts=None
        )

    mocks = run_program(program)
    by_name = {r.name: r.inputs for r in mocks.resources}
    assert by_name["g1"]["runs"] == {"a": BASE_RUN}
    assert by_name["g2"]["runs"]["b"] == {**BASE_RUN, "mode": "full"}
    assert by_name["g2"]["max_concurrency"] == 2


@pytest.mark.parametrize(
    ("inputs", "path"),
    [
        ({"rows": [{"id": 2**53 + 1}], "mode": "selected"}, "rows[0].id"),
        ({"triggers": {"build": {"n": -(2**60)}}}, "triggers.build.n"),
        ({"element_id": 12345678901234567}, "element_id"),
    ],
)
def test_integers_the_engine_would_round_are_refused_before_registration(inputs, path) -> None:
    def program() -> None:
        ExtractionRun("big", **{**BASE_RUN, **inputs})

    with pytest.raises(ValidationError) as info:
        run_program(program)
    assert f"big: {path}: {path} is a whole number beyond 2**53" in str(info.value)
    assert "pass it as a string" in str(info.value)


def test_2_to_the_53_itself_passes() -> None:
    mocks = run_program(
        lambda: ExtractionRun("edge", **BASE_RUN, mode="selected", rows=[{"id": 2**53}])
    )
    assert [r.inputs["rows"] for r in mocks.resources if r.typ == RUN_TYPE] == [[{"id": 2**53}]]


def _timeouts(create: str) -> pulumi.CustomTimeouts:
    return pulumi.CustomTimeouts(create=create)


def test_declaring_resources_leaves_the_pickler_as_it_was() -> None:
    # The SDK's serialize_provider wraps pickle._Pickler._batch_setitems for every dynamic
    # resource; unchecked, ~960 resources reach the recursion limit.
    import pickle

    before = pickle._Pickler._batch_setitems

    def program() -> None:
        for i in range(3):
            ExtractionRun(f"r{i}", **BASE_RUN)
        ExtractionRunGroup("g", runs={"a": dict(BASE_RUN)})

    run_program(program)
    assert pickle._Pickler._batch_setitems is before
