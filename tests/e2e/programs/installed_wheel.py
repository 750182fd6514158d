"""A user's Python program on the installed wheel (tests/e2e/test_install.py): one waited run."""

import pulumi

import datagol_pulumi
from datagol_pulumi import ExtractionRun, ExtractionRunArgs

config = pulumi.Config()
run = ExtractionRun(
    "contracts",
    ExtractionRunArgs(
        workspace_id=config.require("workspaceId"),
        extraction_id="contract-terms",
        element_type="FILE",
        element_id="file-7781",
        mode="filter",
        where_clause=config.require("filter"),
        wait_for_completion=True,
    ),
)
pulumi.export("requestId", run.request_id)
pulumi.export("status", run.status)
# Where the program found the package: the test checks that it is the installed wheel.
pulumi.export("package", datagol_pulumi.__file__)
