"""The program's outputs cost the SDK one task each, not one per attribute (B8).

The Pulumi SDK waits at the end of a program for every Output it tracks, again each time one
resolves; a run's ~30 attribute outputs are left to its registration, and ``joined`` combines
Outputs in one task. Checked with Pulumi's mocks: what stays tracked, that every value still
resolves as ``Output.all`` would give it, and that a failed registration still fails the program.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
import warnings
from typing import Any

import pulumi
import pytest
from pulumi.runtime.settings import SETTINGS, get_root_resource

from datagol_pulumi import ExtractionRun
from datagol_pulumi.completion import TARGET_KEYS
from datagol_pulumi.outputs import joined
from datagol_pulumi.resource import secret_inputs_marker
from datagol_pulumi.run_completion import ExtractionRunCompletion
from tests.conftest import BASE_RUN, WORKSPACE_ID
from tests.unit.mocks import Recorder
from tests.unit.test_program import ROOT

RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
COMPLETION_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunCompletion"


class Engine(Recorder):
    """Outputs as the provider gives them: a run's status and request id, a completion's runs;
    the registration of a resource named "refused" fails."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        if args.name == "refused":
            raise RuntimeError("the engine refused it")
        _, outputs = super().new_resource(args)
        if args.typ == COMPLETION_TYPE:
            outputs["runs"] = {"": {"awaited": True, "status": "SUCCEEDED"}}
        else:
            outputs.update(
                status="QUEUED", request_id=f"req-{args.name}", run_count=1, masked_values=["S"]
            )
        return f"id-{args.name}", outputs


def engine_program(body: Any) -> Engine:
    mocks = Engine()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=False)
    pulumi.runtime.test(body)()
    return mocks


def tracked(resource: pulumi.Resource) -> list[str]:
    """The names of ``resource``'s Outputs that the SDK waits for one by one."""
    return [
        name
        for name, value in vars(resource).items()
        if isinstance(value, pulumi.Output) and value._data in SETTINGS.outputs
    ]


def test_a_runs_own_outputs_are_left_to_its_registration_and_still_resolve() -> None:
    seen: dict[str, Any] = {}

    def body() -> pulumi.Output[Any]:
        run = ExtractionRun("a", **BASE_RUN)
        seen["tracked"] = tracked(run)
        seen["outputs"] = sum(isinstance(v, pulumi.Output) for v in vars(run).values())
        return pulumi.Output.all(run.status, run.request_id, run.id, run.urn).apply(
            lambda v: seen.update(values=v)
        )

    engine_program(body)
    assert seen["tracked"] == []
    assert seen["outputs"] > 25  # every attribute, the urn and the id
    assert seen["values"][:3] == ["QUEUED", "req-a", "id-a"]
    assert seen["values"][3].endswith("dynamic/datagol:ExtractionRun::a")


def test_a_waited_run_still_reports_its_completions_status_and_waits_for_it() -> None:
    seen: dict[str, Any] = {}

    def body() -> pulumi.Output[Any]:
        run = ExtractionRun("a", **BASE_RUN, wait_for_completion=True)
        alone = ExtractionRunCompletion("alone", runs={})
        seen["tracked"] = tracked(alone)
        return pulumi.Output.all(run.status, run.error, run.urn).apply(
            lambda v: seen.update(values=v)
        )

    mocks = engine_program(body)
    completion = next(r for r in mocks.resources if r.typ == COMPLETION_TYPE and r.name == "a")
    assert seen["tracked"] == []
    # What it awaits: the run's outputs that say which requests, under the run's key "".
    awaited = completion.inputs["runs"][""]
    assert set(awaited) <= set(TARGET_KEYS)
    # The fragments to mask come beside the runs, so that a secret does not make the whole
    # target (and the status the completion reports) secret.
    assert "masked_values" not in awaited
    assert completion.inputs["masked_values"] == {"": ["S"]}
    assert (awaited["status"], awaited["wait_for_completion"]) == ("QUEUED", True)
    assert seen["values"][:2] == ["SUCCEEDED", None]
    assert seen["values"][2].endswith("ExtractionRun::a")


def test_a_failed_registration_still_fails_the_program() -> None:
    def body() -> None:
        ExtractionRun("fine", **BASE_RUN)
        ExtractionRun("refused", **BASE_RUN)

    with pytest.raises(RuntimeError, match="the engine refused it"):
        engine_program(body)


async def _outputs_of(output: pulumi.Output[Any]) -> tuple[Any, bool, bool, set[Any]]:
    return (
        await output.future(with_unknowns=True),
        await output.is_known(),
        await output.is_secret(),
        await output.resources(),
    )


def _unknown() -> pulumi.Output[Any]:
    async def value() -> None:
        return None

    async def known() -> bool:
        return False

    return pulumi.Output(set(), value(), known())


def test_joined_gives_what_output_all_gives_in_one_task() -> None:
    async def main() -> list[tuple[Any, ...]]:
        dependency = pulumi.Output.from_input("x")
        cases = [
            lambda: {"a": pulumi.Output.from_input("x"), "b": pulumi.Output.secret(2)},
            lambda: {"a": dependency, "n": pulumi.Output.from_input(None), "u": _unknown()},
            lambda: {"only": pulumi.Output.from_input({"nested": [1, "y"]})},
        ]
        results = []
        for case in cases:
            inputs = case()
            before = len(SETTINGS.outputs)
            ours = joined(inputs)
            added = len(SETTINGS.outputs) - before
            sdk = pulumi.Output.all(**case())
            results.append((added, await _outputs_of(ours), await _outputs_of(sdk)))
        return results

    for added, ours, sdk in asyncio.run(main()):
        assert added == 1
        assert ours == sdk
    assert [r[1][1:3] for r in asyncio.run(main())] == [(True, True), (False, False), (True, False)]


def test_joined_fails_as_its_inputs_fail_and_leaves_no_coroutine_unawaited() -> None:
    async def boom() -> str:
        raise ValueError("no value")

    async def main() -> None:
        failing = pulumi.Output.from_input(asyncio.ensure_future(boom()))
        with pytest.raises(ValueError, match="no value"):
            await joined({"a": pulumi.Output.from_input("x"), "b": failing}).future()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
        # The SDK keeps a failed Output's task until the program ends; then it is freed.
        SETTINGS.outputs.clear()
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []


def test_the_program_exports_each_runs_outputs_as_one_map() -> None:
    runs = [
        {"name": "a", "extraction_id": "e", "element_type": "FILE", "element_id": "f"},
        {"name": "b", "extraction_id": "e", "element_type": "FILE", "element_id": "g"},
    ]
    config = {
        "datagol-pulumi:runs": json.dumps(runs),
        "datagol-pulumi:defaults": json.dumps({"workspace_id": WORKSPACE_ID}),
    }
    seen: dict[str, Any] = {}

    def body() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        exported = get_root_resource().outputs  # type: ignore[union-attr]
        return pulumi.Output.all(a=exported["a"], b=exported["b"]).apply(seen.update)

    mocks = Engine()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=False)
    pulumi.runtime.set_all_config(config, [])
    pulumi.runtime.test(body)()
    assert seen["a"] == {
        "request_id": "req-a",
        "status": "QUEUED",
        "run_count": 1,
        "triggered_at": None,
        "finished_at": None,
        "error": None,
    }
    assert seen["b"]["request_id"] == "req-b"


def test_a_run_names_its_urn_as_create_urn_does_with_and_without_a_parent() -> None:
    expected: dict[str, Any] = {}

    def body() -> pulumi.Output[Any]:
        parent = pulumi.ComponentResource("pkg:index:Parent", "p")
        ExtractionRun("top", **BASE_RUN)
        ExtractionRun("child", **BASE_RUN, opts=pulumi.ResourceOptions(parent=parent))
        return pulumi.Output.all(
            top=pulumi.create_urn("top", RUN_TYPE),
            child=pulumi.create_urn("child", RUN_TYPE, parent=parent),
        ).apply(expected.update)

    mocks = engine_program(body)
    sent = {r.name: r.inputs["__urn"] for r in mocks.resources if r.typ == RUN_TYPE}
    assert sent == expected
    assert sent["top"] == f"urn:pulumi:test::datagol-pulumi::{RUN_TYPE}::top"
    assert "Parent$" in sent["child"]


def test_plain_inputs_are_named_not_secret_without_an_output() -> None:
    assert secret_inputs_marker({"mode": "full", "rows": [{"id": 1}], "batch_size": None}) == []

    async def main() -> Any:
        marker = secret_inputs_marker({"mode": "full", "rows": [{"id": pulumi.Output.secret(1)}]})
        assert isinstance(marker, pulumi.Output)
        return await marker.future()

    assert asyncio.run(main()) == ["rows"]


def test_a_failing_input_output_leaves_no_coroutine_of_the_secret_marker_unawaited() -> None:
    async def boom() -> str:
        raise ValueError("no value")

    async def main() -> None:
        failing = pulumi.Output.from_input(asyncio.ensure_future(boom()))
        with pytest.raises(ValueError, match="no value"):
            await secret_inputs_marker({"rows": [{"id": failing}]}).future()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(main())
        SETTINGS.outputs.clear()
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
