"""Test program: a run whose inputs would not reach DataGOL as written (issue 16).

`datagol-pulumi:case` picks one: a null in rows, an unsafe integer inside an Output in rows, a
group given as an Output (`after-<case>`: one valid run declared first); `ok` declares all three
with values that are sent as written.
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup

config = pulumi.Config()
case = config.require("case")
WORKSPACE = config.require_object("defaults")["workspace_id"]
BIG = 2**53 + 1  # 9007199254740993: the engine would send 9007199254740992


def selected(element: str, rows: object) -> dict:
    return {
        "workspace_id": WORKSPACE,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": f"el-{element}",
        "mode": "selected",
        "rows": rows,
    }


ok = case == "ok"  # all three, each sent as written; otherwise only the one of the case
if case.startswith("after-"):
    # A run declared before the refused one: the program's resource hook is being set up.
    ExtractionRun("before", **selected("before", [{"id": "r0"}]))
    case = case.removeprefix("after-")
if ok or case == "null":
    ExtractionRun("nulls", **selected("nulls", [{"id": "r1", "n": "" if ok else None}]))
if ok or case == "nested":
    n = pulumi.Output.from_input(1 if ok else BIG)
    ExtractionRun("nested", **selected("nested", [{"id": "r1", "n": n}]))
if ok or case == "group":
    big = str(BIG) if ok else BIG
    ExtractionRunGroup(
        "group",
        runs=pulumi.Output.from_input({"a": selected("group-a", [{"id": "r1", "big": big}])}),
    )
