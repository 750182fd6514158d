"""Test program: waited runs and groups whose implicit completions once shared names.

A waited run "orders", a fire-and-forget run "a", a waited run "inner" under a component, a
waited group "nightly" (runs "c" and "d"), and with ``datagol-pulumi:clash`` a waited group
also named "orders" (run "e"): until 0.3.0 the implicit completions of the run and the group
"orders" had one URN, and the update failed after both had sent their POSTs.

fixtures/make_state_v0_3_0.py deploys it (without ``clash``) with datagol-pulumi 0.3.0.
"""

import pulumi

from datagol_pulumi import ExtractionRun, ExtractionRunGroup

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]
WAITED = {"wait_for_completion": True, "poll_interval_seconds": 0.1}


def inputs(name: str) -> dict:
    # The element id names the run, so each request says which run sent it.
    return {
        "workspace_id": WORKSPACE,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": f"el-{name}",
    }


class Pipeline(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Pipeline", name)
        self.register_outputs({})


orders = ExtractionRun("orders", **inputs("orders"), **WAITED)
loose = ExtractionRun("a", **inputs("a"))
pipeline = Pipeline("pipeline")
inner = ExtractionRun(
    "inner", **inputs("inner"), **WAITED, opts=pulumi.ResourceOptions(parent=pipeline)
)
nightly = ExtractionRunGroup("nightly", runs={k: inputs(k) for k in "cd"}, **WAITED)
pulumi.export("orders", orders.status)
pulumi.export("inner", inner.status)
pulumi.export("nightly", nightly.results.apply(lambda r: {k: v["status"] for k, v in r.items()}))
if config.get_bool("clash"):
    same_name = ExtractionRunGroup("orders", runs={"e": inputs("e")}, **WAITED)
    pulumi.export(
        "orders_group", same_name.results.apply(lambda r: {k: v["status"] for k, v in r.items()})
    )
