"""examples/yaml through the real engine, the YAML language host and pulumi-resource-datagol.

The program is the committed example, with only a ``plugins`` section added that names the
plugin and the YAML host by path. Each step counts what the emulator received.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.e2e.conftest import ROOT, Stack, yaml_example_stack

EXAMPLE = ROOT / "examples" / "yaml"
RUN_TYPE = "datagol:index:ExtractionRun"
GROUP_TYPE = "datagol:index:ExtractionRunGroup"
PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"


@pytest.fixture
def yaml_stack(tmp_path: Path, engine_bin: str, emulator) -> Stack:
    stack = yaml_example_stack(tmp_path, EXAMPLE, emulator)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    return stack


def test_yaml_program_lifecycle(yaml_stack: Stack) -> None:
    stack = yaml_stack

    # preview: three resources (and the stack) to create, nothing sent.
    plan = json.loads(stack.preview("--json").stdout)
    assert plan["changeSummary"] == {"create": 4}
    assert sent(stack.emulator) == []

    # up: one POST per run (two resources, a group of two), as specified.
    stack.up()
    posts = {p["path"]: p for p in stack.posts()}
    assert sorted(posts) == sorted(
        [
            f"{PREFIX}/contract-terms/FILE/file-7781/run",
            f"{PREFIX}/ticket-sentiment/COLUMN/col-sentiment/run",
            f"{PREFIX}/invoice-fields/FOLDER/finance%2Finvoices/run",
            f"{PREFIX}/order-lines/COLUMN/col-orders/run",
        ]
    ), sorted(posts)
    contracts = posts[f"{PREFIX}/contract-terms/FILE/file-7781/run"]
    assert contracts["query"] == {"extractOnlyNew": "false"}
    assert contracts["body"] == {"selectAll": True, "whereClause": "status = 'open'"}
    tickets = posts[f"{PREFIX}/ticket-sentiment/COLUMN/col-sentiment/run"]
    assert tickets["body"] == {"selectAll": False, "rows": [{"id": "row1", "name": "Sample Data"}]}
    assert posts[f"{PREFIX}/order-lines/COLUMN/col-orders/run"]["query"] == {
        "extractOnlyNew": "true"
    }
    outputs = stack.outputs()
    assert outputs["contractsRequestId"] == contracts["request_id"]
    assert outputs["contractsRunCount"] == 1
    assert outputs["ticketsRowCount"] == 1
    assert outputs["seeded"] == ["invoices", "orders"]
    stack.emulator.clear_requests()

    # A no-op preview and up: nothing changes, nothing is sent.
    noop = stack.preview("--diff")
    assert "4 unchanged" in noop.stdout and "~ " not in noop.stdout, noop.stdout
    assert "4 unchanged" in stack.up().stdout
    assert sent(stack.emulator) == []

    # A changed where clause: the detailed diff names it; up sends exactly one request.
    stack.pulumi("config", "set", "contractsFilter", "status = 'closed'")
    preview = stack.preview("--diff")
    assert "~ whereClause: \"status = 'open'\" => \"status = 'closed'\"" in preview.stdout
    assert "~ 1 to update" in preview.stdout and "3 unchanged" in preview.stdout
    assert sent(stack.emulator) == []
    stack.up()
    [post] = sent(stack.emulator)
    assert post["method"] == "POST"
    assert post["path"] == f"{PREFIX}/contract-terms/FILE/file-7781/run"
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    assert stack.outputs()["contractsRunCount"] == 2
    stack.emulator.clear_requests()

    # The token is a secret: encrypted in state, never printed.
    state = json.dumps(stack.export())
    assert TOKEN not in json.dumps(json.loads(stack.pulumi("stack", "export").stdout)), (
        "token in plain state"
    )
    assert TOKEN in state  # --show-secrets decrypts it: it is there, as a secret
    printed = [t for t in stack.transcript if not t.startswith("$ pulumi stack")]
    assert printed and TOKEN not in "\n".join(printed)

    # destroy: the runs leave the stack; a finished extraction cannot be undone, nothing sent.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert sent(stack.emulator) == []
    assert stack.resources(RUN_TYPE) == [] and stack.resources(GROUP_TYPE) == []
