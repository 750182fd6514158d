"""Implicit completion names (issue 21, item 4).

A waited ExtractionRun or ExtractionRunGroup declares an ExtractionRunCompletion; until 0.3.0
it stood beside its run with the run's name, so a run and a group named alike (legal before
0.3.0) failed with "Duplicate resource URN" once both had sent their POSTs. The completion is
now a child of its run or group, so its URN holds its parent's type, and aliased to the URN
0.3.0 gave it: a stack deployed by 0.3.0 keeps every URN and sends nothing on upgrade.

fixtures/state-v0.3.0.json and Pulumi.v030.yaml were made by 0.3.0 itself from
programs/names.py (fixtures/make_state_v0_3_0.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagol_pulumi.payload import STATUS_PATH
from tests.e2e.conftest import COMPLETION_TYPE, RUN_TYPE

PROGRAM = Path(__file__).resolve().parent / "programs" / "names.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"
PIPELINE = "test:index:Pipeline"


def posted_elements(stack: Any) -> list[str]:
    """The element of each POST (each run of names.py has element el-<name>), sorted."""
    return sorted(p["path"].split("/el-")[1].split("/")[0] for p in stack.posts())


def status_reads(stack: Any) -> list[str]:
    """The Poll Status reads the emulator received (a GET naming a request id)."""
    prefix = STATUS_PATH.format("")
    return [
        g["path"] for g in stack.emulator.requests(method="GET") if g["path"].startswith(prefix)
    ]


def completion_urns(stack: Any) -> dict[str, str]:
    """URN of each implicit completion of names.py, by what it waits for."""
    return {
        "run orders": stack.urn("orders", COMPLETION_TYPE, parent_type=RUN_TYPE),
        "group orders": stack.urn("orders", COMPLETION_TYPE, parent_type=GROUP_TYPE),
        "run inner": stack.urn("inner", COMPLETION_TYPE, parent_type=f"{PIPELINE}${RUN_TYPE}"),
        "group nightly": stack.urn("nightly", COMPLETION_TYPE, parent_type=GROUP_TYPE),
    }


def no_op(stack: Any) -> None:
    """An `up` with nothing to do: no POST, no status read, no step."""
    stack.emulator.clear_requests()
    again = stack.up()
    assert stack.posts() == []
    assert status_reads(stack) == []
    for word in ("created", "updated", "deleted", "replaced"):
        assert word not in again.stdout, again.stdout


def test_a_run_and_a_group_named_alike_both_succeed(make_stack) -> None:
    stack = make_stack([], program=PROGRAM, clash=True)
    stack.up()
    # One POST per run: the run "orders", "a", "inner", the groups' "c", "d" and "e".
    assert posted_elements(stack) == ["a", "c", "d", "e", "inner", "orders"]
    outputs = stack.outputs()
    assert outputs["orders"] == outputs["inner"] == "COMPLETED"
    assert outputs["nightly"] == {"c": "COMPLETED", "d": "COMPLETED"}
    assert outputs["orders_group"] == {"e": "COMPLETED"}
    state = stack.state()
    urns = completion_urns(stack)
    assert {u for u in state if state[u]["type"] == COMPLETION_TYPE} == set(urns.values())
    for what, urn in urns.items():
        kind, name = what.split()
        assert state[urn]["parent"] == (
            stack.urn(name, GROUP_TYPE if kind == "group" else RUN_TYPE)
            if name != "inner"
            else stack.urn("inner", RUN_TYPE, parent_type=PIPELINE)
        )
    assert set(state[urns["group orders"]]["outputs"]["runs"]) == {"e"}
    assert set(state[urns["run orders"]]["outputs"]["runs"]) == {""}

    no_op(stack)


def test_upgrade_from_0_3_0_keeps_every_urn_and_sends_nothing(make_stack, tmp_path: Path) -> None:
    stack = make_stack([], name="v030", program=PROGRAM, token=None)
    old_url = (FIXTURES / "state-v0.3.0.url").read_text().strip()
    new_url = stack.emulator.url
    stack.config_file.write_text(
        (FIXTURES / "Pulumi.v030.yaml").read_text().replace(old_url, new_url)
    )
    state_file = tmp_path / "state.json"
    state_file.write_text((FIXTURES / "state-v0.3.0.json").read_text().replace(old_url, new_url))
    stack.pulumi("stack", "import", "--file", str(state_file))
    before = stack.state()
    old_completions = {u for u in before if before[u]["type"] == COMPLETION_TYPE}
    urns = completion_urns(stack)
    old = "urn:pulumi:v030::datagol-pulumi::"
    moved = {  # where 0.3.0 put each completion (beside its run or group) -> where it goes
        f"{old}{COMPLETION_TYPE}::orders": urns["run orders"],
        f"{old}{PIPELINE}${COMPLETION_TYPE}::inner": urns["run inner"],
        f"{old}{COMPLETION_TYPE}::nightly": urns["group nightly"],
    }
    assert old_completions == set(moved)

    plan = stack.plan("--show-sames")
    ops = {urn: step["op"] for urn, step in plan["steps"].items()}
    assert set(ops.values()) == {"same"}, ops
    assert set(moved.values()) <= set(ops), ops  # the preview knows them by their new URNs
    assert set(plan["changeSummary"]) == {"same"}, plan["changeSummary"]
    upgraded = stack.up()
    assert stack.emulator.requests(method="POST") == []
    assert status_reads(stack) == []
    for word in ("created", "updated", "deleted", "replaced"):
        assert word not in upgraded.stdout, upgraded.stdout

    after = stack.state()
    kept = {u for u in before if u not in old_completions}
    assert kept <= set(after), kept - set(after)  # every run, group, component: same URN
    for urn in kept:
        assert after[urn].get("id") == before[urn].get("id")
        assert after[urn].get("outputs") == before[urn].get("outputs"), urn
    assert set(after) == kept | set(moved.values())
    for was, now in moved.items():
        assert after[now]["id"] == before[was]["id"]
        assert after[now]["outputs"] == before[was]["outputs"]
    no_op(stack)

    # Now a group may take the run's name: its run "e" is the one POST.
    stack.set_runs([], clash=True)
    stack.up()
    assert posted_elements(stack) == ["e"]
    assert stack.outputs()["orders_group"] == {"e": "COMPLETED"}
    assert urns["group orders"] in stack.state()
    no_op(stack)
