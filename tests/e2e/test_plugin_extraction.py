"""datagol:index:Extraction from Pulumi YAML through the plugin: the lifecycle, runs of it fed by
its modification date, getExtractions, and `pulumi import` round-tripping with a no-op preview."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import WORKSPACE_ID
from tests.e2e.conftest import ROOT, Stack, yaml_example_stack
from tests.e2e.test_extraction import COLLECTION, writes

EXAMPLE = ROOT / "examples" / "yaml-extraction"
TYPE = "datagol:index:Extraction"


@pytest.fixture
def yaml_stack(tmp_path: Path, engine_bin: str, emulator) -> Stack:
    return yaml_example_stack(tmp_path, EXAMPLE, emulator)


def test_yaml_extraction_lifecycle(yaml_stack: Stack) -> None:
    stack, emulator = yaml_stack, yaml_stack.emulator
    plan = json.loads(stack.preview("--json").stdout)
    assert plan["changeSummary"] == {"create": 4}

    stack.up()
    (held,) = emulator.extraction_configs()
    ident = held["id"]
    run_path = f"{COLLECTION}/{ident}/FILE/file-42/run"
    assert writes(stack) == [("POST", COLLECTION), ("POST", run_path), ("POST", run_path)]
    create = emulator.requests(method="POST")[0]["body"]
    assert create["outputConfiguration"] == {"createNewWorkbook": True, "title": "Invoice lines"}
    assert create["primaryKeyColumnId"] == ["number", "amount"]
    outputs = stack.outputs()
    assert outputs["extractionId"] == str(ident) and outputs["sameTitle"] == []

    emulator.clear_requests()
    noop = stack.preview("--diff")
    assert "4 unchanged" in noop.stdout, noop.stdout
    stack.up()
    assert writes(stack) == []
    assert stack.outputs()["sameTitle"][0]["extractionId"] == str(ident)

    # A title change: one PUT; modiDate moves, so the runs fed by it run again, on purpose.
    stack.pulumi("config", "set", "title", "Invoices 2026")
    preview = stack.preview("--diff").stdout
    assert '~ title: "Invoices" => "Invoices 2026"' in preview, preview
    # The same configuration: its runs re-run (their triggers), never replaced.
    assert "~ 3 to update" in preview and "replace" not in preview, preview
    emulator.clear_requests()
    stack.up()
    assert writes(stack) == [
        ("PUT", f"{COLLECTION}/{ident}"),
        ("POST", run_path),
        ("POST", run_path),
    ]

    # Changed in the UI: drift shown by `preview --refresh --diff`, put back by `up --refresh`.
    emulator.edit_extraction(ident, outputConfiguration={"createNewWorkbook": False})
    shown = stack.preview("--refresh", "--diff").stdout
    # The runs fed by modiDate run again: the configuration they ran with changed.
    assert "createNewWorkbook" in shown and "~ 3 to update" in shown, shown
    assert "replace" not in shown
    emulator.clear_requests()
    stack.up("--refresh")
    puts = [w for w in writes(stack) if w[0] == "PUT"]
    assert puts == [("PUT", f"{COLLECTION}/{ident}")]
    assert emulator.extraction_configs()[0]["outputConfiguration"]["createNewWorkbook"] is True

    # Deleted in the UI: refresh drops it; up creates it again.
    emulator.delete_extraction(ident)
    stack.pulumi("refresh", "--yes")
    assert not [r for r in stack.state().values() if r["type"] == TYPE]
    stack.up()
    (again,) = emulator.extraction_configs()
    assert again["id"] != ident

    emulator.clear_requests()
    stack.pulumi("destroy", "--yes")
    assert writes(stack) == [("DELETE", f"{COLLECTION}/{again['id']}")]


IMPORTED = {
    "title": "Made in the UI",
    "extractionMode": "STANDARD",
    "elementType": "FOLDER",
    "elementId": "finance/invoices",
    "outputConfiguration": {"tableId": "tbl-9"},
    "primaryKeyColumnId": ["b", "a"],
    "columnConfiguration": [{"name": "a", "uiDataType": "NUMBER"}],
    "scheduleType": "CRON",
    "schedule": {"cronExpression": "0 6 * * *"},
}


def test_pulumi_import_round_trips_with_a_no_op_preview(yaml_stack: Stack, tmp_path) -> None:
    stack, emulator = yaml_stack, yaml_stack.emulator
    made = emulator.extractions.create(WORKSPACE_ID, IMPORTED)
    ident = f"{WORKSPACE_ID}/FOLDER/finance/invoices/{made['id']}"
    bad = stack.pulumi("import", TYPE, "ui", "1001", "--yes", check=False)
    assert "<workspaceId>/<elementType>/<elementId>/<extractionId>" in bad.stdout + bad.stderr

    emulator.clear_requests()
    code = tmp_path / "imported.yaml"
    stack.pulumi("import", TYPE, "ui", ident, "--yes", "--out", str(code))
    assert writes(stack) == []
    generated = code.read_text()
    assert "Made in the UI" in generated and "finance/invoices" in generated
    # The generated declaration, added to the program, previews clean and sends nothing.
    project = stack.workdir / "Pulumi.yaml"
    program = project.read_text()
    resources = generated.split("resources:", 1)[1]
    project.write_text(program.replace("resources:\n", "resources:" + resources + "\n", 1))
    emulator.clear_requests()
    plan = json.loads(stack.preview("--json").stdout)
    # `preview --json` lists no step for an unchanged resource; a changed, replaced or
    # (undeclared) deleted one would be listed.
    assert [s for s in plan["steps"] if s["urn"].endswith("::ui")] == []
    assert plan["changeSummary"] == {"create": 3, "same": 2}, plan["changeSummary"]
    assert writes(stack) == []
