"""Test program: one Extraction, a run of it and a group of runs of it.

`datagol-pulumi:extraction` overrides the declared inputs (the edits a user makes between two
`pulumi up`s); `datagol-pulumi:runs_of_it: false` declares the configuration alone.
"""

import pulumi

from datagol_pulumi import Extraction, ExtractionRun, ExtractionRunGroup

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]
declared = {
    "workspace_id": WORKSPACE,
    "title": "Invoices",
    "extraction_mode": "STANDARD",
    "element_type": "FILE",
    "element_id": "file-42",
    "output_configuration": {"createNewWorkbook": True, "title": "Invoice lines"},
    "primary_key_column_id": ["number", "amount"],
    "column_configuration": [
        {"name": "number", "description": "Invoice number", "uiDataType": "SINGLE_LINE_TEXT"},
        {"name": "amount", "description": "Total", "uiDataType": "NUMBER"},
    ],
    "store_extracted_data": True,
    "schedule_type": "MANUAL",
    **(config.get_object("extraction") or {}),
}
invoices = Extraction("invoices", **declared)
runs_of_it = config.get_bool("runs_of_it")
if runs_of_it is None or runs_of_it:
    ExtractionRun(
        "invoices-run",
        workspace_id=WORKSPACE,
        extraction_id=invoices.extraction_id,
        element_type="FILE",
        element_id="file-42",
    )
    ExtractionRunGroup(
        "invoices-runs",
        runs={
            "new": {
                "workspace_id": WORKSPACE,
                "extraction_id": invoices.extraction_id,
                "element_type": "FILE",
                "element_id": "file-42",
                "mode": "new",
            }
        },
    )
pulumi.export("extraction_id", invoices.extraction_id)
pulumi.export("modi_date", invoices.modi_date)
