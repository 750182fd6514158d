"""Extraction through the real CLI against the emulator: the Terraform-like lifecycle of a
configuration, drift, and a create whose runner was killed after its POST."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import WORKSPACE_ID
from tests.contract.test_extractions import DTO as BODY
from tests.e2e.test_bill import billed
from tests.e2e.test_seeding import wait_until

PROGRAM = Path(__file__).parent / "programs" / "extraction.py"
COLLECTION = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
ELEMENT = f"{COLLECTION}/FILE/file-42"
EXTRACTION_TYPE = "pulumi-python:dynamic/datagol:Extraction"


def writes(stack) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in stack.emulator.requests() if r["method"] != "GET"]


def triggers(stack) -> list[str]:
    return [r["path"] for r in stack.emulator.requests(method="POST") if r["path"].endswith("/run")]


def test_extraction_lifecycle_through_the_cli(make_stack) -> None:
    stack = make_stack([], program=PROGRAM)
    emulator = stack.emulator

    # The first preview: the id is unknown, yet the runs of it are checked and billed.
    first = stack.plan()
    assert first["changeSummary"].get("create", 0) >= 4
    shown = stack.preview().stdout
    assert billed(shown) == (2, 2, 0), shown  # the run and the group's run
    # Each preview reads the element once (does it hold "Invoices" already?); the runs' ids
    # are unknown, so they read nothing.
    assert [(r["method"], r["path"]) for r in emulator.requests()] == [("GET", ELEMENT)] * 2
    emulator.clear_requests()
    stack.up()
    (held,) = emulator.extraction_configs()
    ident = str(held["id"])
    creates = [r for r in emulator.requests(method="POST") if r["path"] == COLLECTION]
    assert [r["body"] for r in creates] == [BODY]
    # The run and the group's run trigger the new configuration's id.
    assert sorted(triggers(stack)) == [f"{COLLECTION}/{ident}/FILE/file-42/run"] * 2
    assert stack.outputs()["extraction_id"] == ident

    # No-op: preview and up send nothing but reads.
    emulator.clear_requests()
    plan = stack.plan()
    assert set(plan["changeSummary"]) == {"same"}
    stack.up()
    assert writes(stack) == []

    # A title change is one PUT and no trigger.
    stack.set_runs([], extraction={"title": "Invoices 2026"})
    emulator.clear_requests()
    # The preview says so: the configuration is updated, the runs of it stay (same id).
    steps = {urn.rsplit("::", 1)[-1]: step["op"] for urn, step in stack.plan()["steps"].items()}
    assert steps["invoices"] == "update", steps
    assert steps.get("invoices-run", "same") == "same", steps
    assert steps.get("invoices-runs", "same") == "same", steps
    stack.up()
    assert writes(stack) == [("PUT", f"{COLLECTION}/{ident}")]
    assert emulator.requests(method="PUT")[0]["body"] == {
        **BODY,
        "title": "Invoices 2026",
        "id": int(ident),
    }

    # Changed in the UI: drift in `preview --refresh --diff`, put back by `up --refresh`.
    emulator.edit_extraction(int(ident), title="Renamed in the UI")
    emulator.clear_requests()
    shown = stack.preview("--refresh", "--diff").stdout
    assert "Renamed in the UI" in shown and "Invoices 2026" in shown
    assert writes(stack) == []
    stack.up("--refresh")
    assert writes(stack) == [("PUT", f"{COLLECTION}/{ident}")]
    assert emulator.extraction_configs()[0]["title"] == "Invoices 2026"

    # Deleted in the UI: refresh drops it, up creates it again (a new id: the runs re-run).
    emulator.delete_extraction(int(ident))
    # Changed before that refresh, its PUT would find nothing: the preview says so first.
    stack.set_runs([], extraction={"title": "Invoices 2027"})
    emulator.clear_requests()
    refused = stack.preview(check=False)
    assert refused.returncode != 0
    assert f"extraction configuration {ident} was deleted outside Pulumi" in refused.stdout
    assert [(r["method"], r["path"]) for r in emulator.requests()] == [("GET", ELEMENT)]
    stack.set_runs([], extraction={"title": "Invoices 2026"})
    stack.pulumi("refresh", "--yes")
    assert stack.resources(EXTRACTION_TYPE) == []
    # A new configuration: its runs are replaced (a new id), and the bill says they run again.
    again_preview = stack.preview()
    assert billed(again_preview.stdout) == (2, 2, 0), again_preview.stdout
    emulator.clear_requests()
    stack.up()
    (again,) = emulator.extraction_configs()
    assert again["id"] != held["id"]
    assert [w for w in writes(stack) if not w[1].endswith("/run")] == [("POST", COLLECTION)]
    assert sorted(triggers(stack)) == [f"{COLLECTION}/{again['id']}/FILE/file-42/run"] * 2

    # Destroy deletes it and triggers nothing.
    emulator.clear_requests()
    stack.pulumi("destroy", "--yes")
    assert writes(stack) == [("DELETE", f"{COLLECTION}/{again['id']}")]
    assert emulator.extraction_configs() == []


def test_a_create_killed_after_its_post_is_adopted_not_duplicated(make_stack) -> None:
    stack = make_stack([], program=PROGRAM, runs_of_it=False)
    emulator = stack.emulator
    # The answer takes 5 s: the job is killed after DataGOL made the configuration.
    emulator.add_fault(status=None, method="POST", path_contains="/extraction", delay=5.0)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(emulator.requests(method="POST")) == 1)
        time.sleep(0.5)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=60)
    wait_until(lambda: len(emulator.extraction_configs()) == 1)
    (held,) = emulator.extraction_configs()

    stack.pulumi("cancel", "--yes")  # the killed job left its lock in the backend
    emulator.clear_requests()
    result = stack.up(check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert writes(stack) == []  # adopted: no second POST
    assert [c["id"] for c in emulator.extraction_configs()] == [held["id"]]
    assert stack.outputs()["extraction_id"] == str(held["id"])
    emulator.clear_requests()
    stack.up()
    assert writes(stack) == []


ADOPT_PROGRAM = Path(__file__).parent / "programs" / "extraction_adopt.py"
MADE_IN_THE_UI = {
    "title": "From the UI",
    "extractionMode": "STANDARD",
    "elementType": "FILE",
    "elementId": "file-7",
    "outputConfiguration": {"tableId": "t1"},
    "primaryKeyColumnId": ["k"],
}


def test_python_adopts_a_configuration_from_the_ui_by_declaring_what_it_holds(make_stack) -> None:
    """The `import_` option fails for dynamic resources (pulumi/pulumi#16175): this test says
    so while it does, and shows the documented way instead."""
    stack = make_stack([], program=ADOPT_PROGRAM)
    emulator = stack.emulator
    made = emulator.extractions.create(WORKSPACE_ID, MADE_IN_THE_UI)
    ident = f"{WORKSPACE_ID}/FILE/file-7/{made['id']}"

    stack.pulumi("config", "set", "import_id", ident)
    refused = stack.up(check=False)
    assert refused.returncode != 0 and "KeyError: '__provider'" in refused.stdout
    stack.pulumi("config", "rm", "import_id")

    # Declared with another value: refused, naming it and the ways to adopt; nothing sent.
    # The preview refuses it first, as `up` would: one free read of the element at check.
    stack.pulumi("config", "set", "llm_model", "gpt-5")
    emulator.clear_requests()
    previewed = stack.preview(check=False)
    assert previewed.returncode != 0
    assert "whose llm_model differ from the declaration; nothing was created" in previewed.stdout
    assert "checked at preview with Get Extractions" in previewed.stdout
    # The program's get_extractions lookup, then the check's read: nothing else.
    assert [r["method"] for r in emulator.requests()] == ["GET", "GET"]
    refused = stack.up(check=False)
    assert refused.returncode != 0
    assert "llm_model" in refused.stdout and "nothing was created" in refused.stdout
    assert writes(stack) == []

    # Declared as DataGOL holds it: adopted without a write, then managed like any other.
    stack.pulumi("config", "set", "llm_model", made["llmModel"])
    stack.up()
    assert writes(stack) == []
    outputs = stack.outputs()
    assert outputs["extraction_id"] == str(made["id"])
    assert outputs["looked_up"] == [str(made["id"])]  # get_extractions by title
    assert set(stack.plan()["changeSummary"]) == {"same"}
    assert len(emulator.extraction_configs()) == 1


def test_a_create_whose_answer_was_lost_is_found_in_the_same_up(make_stack) -> None:
    stack = make_stack([], program=PROGRAM, runs_of_it=False)
    emulator = stack.emulator
    # DataGOL makes the configuration, then the connection drops before its answer.
    emulator.add_fault(method="POST", path_contains="/extraction", close=True, after=True)
    stack.up()
    (held,) = emulator.extraction_configs()
    assert [(r["method"], r["path"]) for r in emulator.requests()] == [
        ("GET", ELEMENT),
        ("POST", COLLECTION),  # made; its answer lost, and never resent
        ("GET", ELEMENT),  # found by its title and declared values
    ]
    assert stack.outputs()["extraction_id"] == str(held["id"])
