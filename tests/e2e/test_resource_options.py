"""Pulumi's resource options on ExtractionRun, through the real CLI, counting requests.

One stack (tests/e2e/programs/options.py) carries every option that does not interfere with
the others; `datagol-pulumi:step` plays the user's edits between two `pulumi up`s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import sent
from tests.e2e.conftest import ROOT, RUN_TYPE

PROGRAM = ROOT / "tests/e2e/programs/options.py"
PIPELINE = "test:index:Pipeline"
APP = "pulumi-python:dynamic:Resource"
STATUS_PATH = "/noCo/api/v1/requestLog/status/"


def elements(requests: list[dict[str, Any]]) -> list[str]:
    """The element ids of the triggers among ``requests``, sorted: which runs were sent."""
    return sorted(r["segments"][-2] for r in requests if r["method"] == "POST")


def test_resource_options_end_to_end(make_stack) -> None:
    stack = make_stack([], program=PROGRAM)
    emulator = stack.emulator

    # up: one trigger per run, and one status read for the run that waits.
    stack.up()
    assert elements(sent(emulator)) == sorted(
        ["el-seed", "el-inner", "el-protected", "el-ignored", "el-retained", "el-renamed"]
        + ["el-moved", "el-target-a", "el-target-b", "el-timed-90s", "el-timed-2m"]
    )
    outputs = stack.outputs()
    seed_id = outputs["seed"]["request_id"]
    assert [r["path"] for r in [r for r in sent(emulator) if r["method"] == "GET"]] == [
        STATUS_PATH + seed_id
    ]
    state = stack.state()

    # depends_on: seeding waited for the app's deploy (2.5 s), and state records the edge.
    assert state[stack.urn("seed")].get("dependencies") == [stack.urn("app", APP)]
    assert outputs["seed"]["triggered_at"] > outputs["app_ready_at"]
    assert outputs["target-a"]["triggered_at"] < outputs["app_ready_at"]  # others did not wait

    # parent: the run lives under the component.
    inner = state[stack.urn("inner", parent_type=PIPELINE)]
    assert inner["parent"] == stack.urn("pipeline", PIPELINE)

    # protect and retain_on_delete are recorded; custom_timeouts set timeout_seconds per run,
    # even for two runs sharing one ExtractionRunArgs, which stays as the caller wrote it.
    assert state[stack.urn("protected")]["protect"] is True
    assert state[stack.urn("retained")]["retainOnDelete"] is True
    assert state[stack.urn("timed-90s")]["outputs"]["timeout_seconds"] == 90
    assert state[stack.urn("timed-2m")]["outputs"]["timeout_seconds"] == 120
    assert outputs["shared_args"] == {"timeout": "None", "element": "el-timed"}
    emulator.clear_requests()

    # Step 1: rename a run and move another under the component (both with aliases), edit an
    # ignored input, drop a retained run. The plan changes nothing but the retained delete.
    stack.set_runs([], step=1)
    plan = stack.plan()
    changed = {
        urn.rsplit("::", 1)[1]: s["op"] for urn, s in plan["steps"].items() if s["op"] != "same"
    }
    assert changed == {"retained": "delete"}
    stack.up()
    assert sent(emulator) == []
    after = stack.state()
    renamed, moved = after[stack.urn("new-name")], after[stack.urn("moved", parent_type=PIPELINE)]
    assert renamed["id"] == state[stack.urn("old-name")]["id"]
    assert moved["id"] == state[stack.urn("moved")]["id"]
    assert stack.urn("old-name") not in after and stack.urn("moved") not in after
    ignored = after[stack.urn("ignored")]
    assert ignored["inputs"]["where_clause"] == ignored["outputs"]["where_clause"] == "batch = 0"
    assert stack.urn("retained") not in after

    # `pulumi up --replace`: a deliberate re-run of one run, exactly one request.
    inner_urn = stack.urn("inner", parent_type=PIPELINE)
    stack.up("--replace", inner_urn)
    assert elements(sent(emulator)) == ["el-inner"]
    replaced = stack.state()[inner_urn]
    assert replaced["id"] != inner["id"] and replaced["outputs"]["run_count"] == 1
    emulator.clear_requests()

    # Step 2 bumps the triggers of two runs; `--target` sends only the targeted one, and
    # `up --refresh` then reads the waiting run's status and sends the other.
    stack.set_runs([], step=2)
    stack.up("--target", stack.urn("target-a"))
    assert elements(sent(emulator)) == ["el-target-a"]
    emulator.clear_requests()
    stack.up("--refresh")
    assert elements(sent(emulator)) == ["el-target-b"]
    assert [r["path"] for r in [r for r in sent(emulator) if r["method"] == "GET"]] == [
        STATUS_PATH + seed_id
    ]
    emulator.clear_requests()

    # Step 3: a waiting run under customTimeouts create "1s" gives up after 1 s, not 3600.
    emulator.configure(job_seconds_by_extraction={"ext-slow": 60})
    stack.set_runs([], step=3)
    result = stack.up(check=False)
    assert result.returncode != 0
    assert "did not finish within 1 s" in result.stdout + result.stderr
    assert elements(sent(emulator)) == ["el-slow"]
    assert stack.state()[stack.urn("slow")]["outputs"]["timeout_seconds"] == 1
    emulator.clear_requests()

    # `pulumi import` cannot adopt a run: the engine reads it by id alone, and the SDK's dynamic
    # provider server needs the pickled provider from its inputs. It fails, sending nothing.
    before = stack.state()
    result = stack.pulumi(
        "import", RUN_TYPE, "adopted", "some-request-id", "--yes", "--skip-preview", check=False
    )
    assert result.returncode != 0
    assert "KeyError: '__provider'" in result.stdout + result.stderr
    assert stack.state() == before
    assert sent(emulator) == []

    # protect: destroy refuses the protected run (sending nothing), and keeps it.
    result = stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert result.returncode != 0
    assert "cannot be deleted" in result.stdout + result.stderr
    assert stack.urn("protected") in stack.state()
    stack.pulumi("state", "unprotect", stack.urn("protected"), "--yes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert stack.state() == {}
    assert sent(emulator) == []


RECREATED = """
import pulumi
from datagol_pulumi import ExtractionRun

config = pulumi.Config()
ExtractionRun(
    "recreated",
    workspace_id=config.require_object("defaults")["workspace_id"],
    extraction_id="ext-1",
    element_type="COLUMN",
    element_id="el-recreated",
    mode="filter",
    where_clause=f"v = {config.get_int('step') or 0}",
    opts=pulumi.ResourceOptions(replace_on_changes=["where_clause"]),
)
"""


def test_replace_on_changes_makes_a_new_run(make_stack, tmp_path: Path) -> None:
    program = tmp_path / "recreated.py"
    program.write_text(RECREATED)
    stack = make_stack([], program=program)
    stack.up()
    urn = stack.urn("recreated")
    first = stack.state()[urn]
    stack.emulator.clear_requests()

    stack.set_runs([], step=1)
    plan = stack.plan()
    assert sent(stack.emulator) == []
    assert plan["steps"][urn]["op"] == "replace"
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": True, "whereClause": "v = 1"}
    after = stack.state()[urn]
    assert after["id"] != first["id"] and after["outputs"]["run_count"] == 1
