"""Test program: a stack where runs take their ids from other resources, as in real use.

With `datagol-pulumi:role: upstream` it is the platform team's stack, which only exports where
its data lands. Otherwise it is the data team's stack: a catalog resource whose ids exist only
once it is created (so they are unknown at preview), a component built on it, and a
StackReference to the upstream stack feed the runs. `datagol-pulumi:step: 1` renames a run,
keeping it with an alias.
"""

import pulumi
import pulumi.dynamic

from datagol_pulumi import ExtractionRun, ExtractionRunArgs, ExtractionRunGroup

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]


class CatalogProvider(pulumi.dynamic.ResourceProvider):
    """A table registered in a data catalog: its ids are assigned when it is created."""

    def create(self, props: dict) -> pulumi.dynamic.CreateResult:
        table = props["table"]
        outs = {"table": table, "column_id": f"col-{table}", "file_id": f"{table}/export 1.csv"}
        return pulumi.dynamic.CreateResult(f"table-{table}", outs)


class CatalogTable(pulumi.dynamic.Resource):
    column_id: pulumi.Output[str]
    file_id: pulumi.Output[str]

    def __init__(self, name: str, table: str, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"table": table, "column_id": None, "file_id": None}
        super().__init__(CatalogProvider(), name, props, opts)


class Warehouse(pulumi.ComponentResource):
    """A component that owns its tables and hands out the id of the one to extract from."""

    orders_column: pulumi.Output[str]

    def __init__(self, name: str) -> None:
        super().__init__("test:index:Warehouse", name)
        orders = CatalogTable(f"{name}-orders", "orders", pulumi.ResourceOptions(parent=self))
        self.orders_column = orders.column_id
        self.register_outputs({"orders_column": self.orders_column})


if config.get("role") == "upstream":
    pulumi.export("invoices_folder", "finance/invoices 2026")
    pulumi.export("invoices_extraction", "invoice-fields")
    pulumi.export("orders_wait", True)
else:
    step = config.get_int("step") or 0
    upstream = pulumi.StackReference(f"{pulumi.get_organization()}/{pulumi.get_project()}/upstream")
    contracts = CatalogTable("contracts", "contracts")
    warehouse = Warehouse("warehouse")

    invoices = ExtractionRun(
        "invoices",
        workspace_id=WORKSPACE,
        extraction_id=upstream.require_output("invoices_extraction"),
        element_type="FOLDER",
        element_id=upstream.require_output("invoices_folder"),
    )
    # Renamed at step 1; the alias keeps it the same run, so nothing is sent again.
    contracts_run = ExtractionRun(
        "open-contracts" if step else "contracts",
        ExtractionRunArgs(
            workspace_id=WORKSPACE,
            extraction_id="contract-terms",
            element_type="FILE",
            element_id=contracts.file_id,
            mode="filter",
            where_clause="status = 'open'",
        ),
        pulumi.ResourceOptions(aliases=[pulumi.Alias(name="contracts")] if step else None),
    )
    orders = ExtractionRun(
        "orders",
        workspace_id=WORKSPACE,
        extraction_id="order-lines",
        element_type="COLUMN",
        element_id=warehouse.orders_column,
        mode="new",
        triggers={"table": contracts.id},
        # Whether to wait is another stack's output: its completion is declared all the same.
        wait_for_completion=upstream.require_output("orders_wait"),
        poll_interval_seconds=0.1,
        opts=pulumi.ResourceOptions(parent=warehouse),
    )
    nightly = ExtractionRunGroup(
        "nightly",
        runs={
            "orders-sentiment": {
                "workspace_id": WORKSPACE,
                "extraction_id": "order-sentiment",
                "element_type": "COLUMN",
                "element_id": warehouse.orders_column,
            },
        },
    )
    for name, run in (("invoices", invoices), ("contracts", contracts_run), ("orders", orders)):
        pulumi.export(name, {"request_id": run.request_id, "element_id": run.element_id})
    pulumi.export("nightly", nightly.results)
