"""A realistic stack through the real CLI: runs fed by other resources' outputs.

The program (tests/e2e/programs/realistic.py) takes ids from a catalog resource created in the
same `up` (unknown at preview), from a ComponentResource built on it, and from a StackReference
to a second stack; one ExtractionRunGroup takes its runs map from them too.
"""

from __future__ import annotations

from tests.conftest import WORKSPACE_ID, sent
from tests.e2e.conftest import COMPLETION_TYPE, ROOT, RUN_TYPE, UNKNOWN

PROGRAM = ROOT / "tests/e2e/programs/realistic.py"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"
WAREHOUSE = "test:index:Warehouse"
PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
#: Every trigger the first `up` sends: path (ids percent-encoded), query, body.
EXPECTED = sorted(
    [
        (
            f"{PREFIX}/invoice-fields/FOLDER/finance%2Finvoices%202026/run",
            {"extractOnlyNew": "false"},
            {"selectAll": True},
        ),
        (
            f"{PREFIX}/contract-terms/FILE/contracts%2Fexport%201.csv/run",
            {"extractOnlyNew": "false"},
            {"selectAll": True, "whereClause": "status = 'open'"},
        ),
        (
            f"{PREFIX}/order-lines/COLUMN/col-orders/run",
            {"extractOnlyNew": "true"},
            {"selectAll": True},
        ),
        (
            f"{PREFIX}/order-sentiment/COLUMN/col-orders/run",
            {"extractOnlyNew": "false"},
            {"selectAll": True},
        ),
    ],
    key=str,
)


def test_runs_fed_by_resources_components_and_stack_references(make_stack) -> None:
    upstream = make_stack([], name="upstream", program=PROGRAM, role="upstream")
    upstream.up()
    stack = make_stack([], name="app", program=PROGRAM)
    emulator = stack.emulator
    assert sent(emulator) == []

    # preview: succeeds, plans every create, sends nothing; ids from the catalog are unknown.
    plan = stack.plan()
    assert sent(emulator) == []
    assert plan["changeSummary"] == {"create": 10}  # orders waits: its completion too
    inputs = {urn: s["newState"].get("inputs") for urn, s in plan["steps"].items()}
    contracts, orders = stack.urn("contracts"), stack.urn("orders", parent_type=WAREHOUSE)
    assert inputs[contracts]["element_id"] == UNKNOWN
    assert inputs[orders]["element_id"] == UNKNOWN
    assert inputs[orders]["triggers"] == {"table": UNKNOWN}
    group_runs = inputs[stack.urn("nightly", GROUP_TYPE)]["runs"]
    assert group_runs["orders-sentiment"]["element_id"] == UNKNOWN
    # The other stack's outputs are known at preview already.
    assert inputs[stack.urn("invoices")]["element_id"] == "finance/invoices 2026"

    # up: exactly one trigger per run, with the resolved ids.
    stack.up()
    posts = stack.posts()
    assert sorted(((p["path"], p["query"], p["body"]) for p in posts), key=str) == EXPECTED
    triggered = {p["segments"][6]: p["request_id"] for p in posts}
    # Only the run that waits is read, by its request id, by its completion, the run's child.
    gets = emulator.requests("/requestLog/status/", "GET")  # not the checks' reads
    assert gets and {g["path"].rsplit("/", 1)[-1] for g in gets} == {triggered["order-lines"]}
    completion = stack.state()[
        stack.urn("orders", COMPLETION_TYPE, parent_type=f"{WAREHOUSE}${RUN_TYPE}")
    ]
    assert completion["outputs"]["runs"][""]["status"] == "COMPLETED"
    assert stack.urn("orders", parent_type=WAREHOUSE) in completion["dependencies"]
    outputs = stack.outputs()
    assert outputs["invoices"]["request_id"] == triggered["invoice-fields"]
    assert outputs["contracts"]["request_id"] == triggered["contract-terms"]
    assert outputs["orders"]["request_id"] == triggered["order-lines"]
    assert outputs["nightly"]["orders-sentiment"]["request_id"] == triggered["order-sentiment"]
    assert outputs["contracts"]["element_id"] == "contracts/export 1.csv"
    emulator.clear_requests()

    # second up: nothing changed, nothing sent.
    again = stack.up()
    assert "10 unchanged" in again.stdout
    assert sent(emulator) == []

    # rename a run, keeping it with an alias: same run, nothing sent.
    first_id = stack.state()[contracts]["id"]
    stack.set_runs([], step=1)
    renamed = stack.up()
    assert "10 unchanged" in renamed.stdout
    assert sent(emulator) == []
    state = stack.state()
    assert contracts not in state
    assert state[stack.urn("open-contracts")]["id"] == first_id
    assert stack.outputs()["contracts"]["request_id"] == triggered["contract-terms"]

    # destroy: the runs leave the stack, nothing is sent.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    kinds = (RUN_TYPE, GROUP_TYPE, COMPLETION_TYPE)
    assert [r for r in stack.state().values() if r["type"] in kinds] == []
    assert sent(emulator) == []
