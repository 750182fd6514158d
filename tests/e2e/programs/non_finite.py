"""Test program: a run holding a number JSON cannot carry, as pandas gives for a missing value.

Config (project namespace): ``bad`` ("nan", "inf" or "-inf"), and ``where`` it goes: "rows"
(the run "orders"'s ``rows[2].amount``), "group" (the group "nightly"'s run "k"'s
``rows[0]["unit price"]``) or "triggers" (the run "orders"'s ``triggers.batch``).
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]
bad = float(config.require("bad"))
where = config.require("where")


def inputs(name: str) -> dict:
    # The element id names the run, so each request says which run sent it.
    return {
        "workspace_id": WORKSPACE,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": f"el-{name}",
        "mode": "selected",
    }


rows = [{"id": i, "amount": 1.5 * i} for i in range(4)]
if where == "group":
    ExtractionRunGroup("nightly", runs={"k": {**inputs("k"), "rows": [{"unit price": bad}]}})
elif where == "triggers":
    ExtractionRun("orders", **inputs("orders"), rows=rows, triggers={"batch": bad})
else:
    rows[2]["amount"] = bad
    ExtractionRun("orders", **inputs("orders"), rows=rows)
