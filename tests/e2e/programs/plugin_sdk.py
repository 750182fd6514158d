"""A Python program on the SDK generated from the plugin's schema (pulumi_datagol), not on the
dynamic resources: the engine runs pulumi-resource-datagol for it."""

import pulumi
import pulumi_datagol as datagol

config = pulumi.Config()
workspace_id = config.require("workspaceId")

contracts = datagol.ExtractionRun(
    "contracts",
    workspace_id=workspace_id,
    extraction_id="contract-terms",
    element_type="FILE",
    element_id="file-7781",
    mode="filter",
    # A secret: the outputs echoing it, and the state, keep it encrypted.
    where_clause=config.require_secret("filter"),
)
seed = datagol.ExtractionRunGroup(
    "seed",
    runs={
        "tickets": datagol.RunSpecArgs(
            workspace_id=workspace_id,
            extraction_id="ticket-sentiment",
            element_type="COLUMN",
            element_id="col-sentiment",
            mode="selected",
            rows=[{"id": 1, "name": "Sample Data"}],
        ),
        "orders": datagol.RunSpecArgs(
            workspace_id=workspace_id,
            extraction_id="order-lines",
            element_type="COLUMN",
            element_id="col-orders",
            mode="new",
            where_clause=pulumi.Output.secret("region = 'eu'"),
        ),
    },
)

pulumi.export("requestId", contracts.request_id)
pulumi.export("runCount", contracts.run_count)
pulumi.export("results", seed.results)
