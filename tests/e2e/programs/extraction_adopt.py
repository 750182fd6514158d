"""Test program: an Extraction declared for a configuration made in DataGOL's UI.

`datagol-pulumi:llm_model` is the value the program declares; `datagol-pulumi:import_id`, when
set, asks for the `import_` resource option (which the SDK's dynamic providers cannot serve).
"""

import pulumi

from datagol_pulumi import Extraction, get_extractions

config = pulumi.Config()
WORKSPACE = config.require_object("defaults")["workspace_id"]
import_id = config.get("import_id")
adopted = Extraction(
    "adopted",
    workspace_id=WORKSPACE,
    title="From the UI",
    extraction_mode="STANDARD",
    element_type="FILE",
    element_id="file-7",
    output_configuration={"tableId": "t1"},
    primary_key_column_id=["k"],
    llm_model=config.get("llm_model") or "gpt-4o-mini",
    opts=pulumi.ResourceOptions(import_=import_id) if import_id else None,
)
found = get_extractions(WORKSPACE, "FILE", "file-7", title="From the UI")
pulumi.export("extraction_id", adopted.extraction_id)
pulumi.export("looked_up", found.apply(lambda items: [i["extraction_id"] for i in items]))
