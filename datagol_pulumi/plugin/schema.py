"""The package schema of ``datagol``, generated from :mod:`datagol_pulumi.properties`.

`pulumi package gen-sdk` turns it into SDKs; the engine uses it to type-check YAML programs.
"""

from __future__ import annotations

import json
from typing import Any

from .._version import __version__
from ..properties import (
    CONFIG,
    EXTRACTION_INPUTS,
    EXTRACTION_OUTPUTS,
    GROUP_INPUTS,
    GROUP_OUTPUTS,
    RESULT_OUTPUTS,
    RUN_INPUTS,
    RUN_OUTPUTS,
    Prop,
)
from .completion import (
    COMPLETION_INPUTS,
    COMPLETION_OUTPUTS,
    COMPLETION_TARGET,
    RECORD,
    TARGET_PROPS,
)

PACKAGE = "datagol"
#: The publisher's namespace, which qualifies the package name (Pulumi's default is "pulumi").
NAMESPACE = "datagol"
REPOSITORY = "https://github.com/datagol/pulumi-datagol"
#: Where the engine looks for the plugin archive of `make dist` when it is not installed: it fills
#: in ${VERSION} and appends pulumi-resource-datagol-v<version>-<os>-<arch>.tar.gz. A mirror is
#: named per resource (the pluginDownloadURL option) or with `pulumi plugin install --server`.
PLUGIN_DOWNLOAD_URL = REPOSITORY + "/releases/download/v${VERSION}"
RUN_TOKEN = f"{PACKAGE}:index:ExtractionRun"
GROUP_TOKEN = f"{PACKAGE}:index:ExtractionRunGroup"
RUN_SPEC_TOKEN = f"{PACKAGE}:index:RunSpec"
RUN_RESULT_TOKEN = f"{PACKAGE}:index:RunResult"
COMPLETION_TOKEN = f"{PACKAGE}:index:ExtractionRunCompletion"
TARGET_TOKEN = f"{PACKAGE}:index:CompletionTarget"
COMPLETION_RESULT_TOKEN = f"{PACKAGE}:index:CompletionResult"
EXTRACTION_TOKEN = f"{PACKAGE}:index:Extraction"
GET_EXTRACTIONS_TOKEN = f"{PACKAGE}:index:getExtractions"
EXTRACTION_INFO_TOKEN = f"{PACKAGE}:index:ExtractionInfo"
#: The element an extraction lookup lists.
_LOOKUP_ARGS = tuple(
    p for p in EXTRACTION_INPUTS if p.name in ("workspace_id", "element_type", "element_id")
)

#: The run inputs that are echoed in the outputs (rows are not: only their digest is kept).
_ECHOED = tuple(p for p in RUN_INPUTS if p.name != "rows")


#: Property types that name a type of this schema: a map of it, or (``target``) it.
_REFS = {
    "run_map": RUN_SPEC_TOKEN,
    "result_map": RUN_RESULT_TOKEN,
    "completion_result_map": COMPLETION_RESULT_TOKEN,
}


def _props(props: tuple[Prop, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop in props:
        if prop.type in _REFS:
            ref = {"$ref": f"#/types/{_REFS[prop.type]}"}
            spec = {"type": "object", "additionalProperties": ref}
        elif prop.type == "target":
            spec = {"$ref": f"#/types/{TARGET_TOKEN}"}
        else:
            spec = prop.schema()
        spec["description"] = prop.description
        out[prop.camel] = spec
    return out


def _required(props: tuple[Prop, ...]) -> list[str]:
    return [p.camel for p in props if p.required]


def schema() -> dict[str, Any]:
    """The schema as a dict (see https://www.pulumi.com/docs/iac/extensions/packages/schema/)."""
    config = _props(CONFIG)
    return {
        "name": PACKAGE,
        "displayName": "DataGOL",
        "version": __version__,
        "namespace": NAMESPACE,
        "publisher": "DataGOL",
        "repository": REPOSITORY,
        "pluginDownloadURL": PLUGIN_DOWNLOAD_URL,
        "description": "Trigger DataGOL extraction runs from Pulumi programs in any language.",
        "keywords": ["datagol", "extraction", "category/utility"],
        "license": "Apache-2.0",
        "config": {"variables": config},
        "provider": {
            "description": "DataGOL settings; each also reads datagol:<name> and DATAGOL_* env.",
            "inputProperties": config,
            "properties": {k: v for k, v in config.items() if not v.get("secret")},
        },
        "resources": {
            RUN_TOKEN: {
                "description": (
                    "One DataGOL extraction run: triggered on create and when mode, whereClause, "
                    "rows, extractOnlyNew or triggers change; replaced when the workspace, "
                    "extraction or element changes; delete and refresh never trigger."
                ),
                "inputProperties": _props(RUN_INPUTS),
                "requiredInputs": _required(RUN_INPUTS),
                "properties": _props(_ECHOED + RUN_OUTPUTS + (COMPLETION_TARGET,)),
                "required": _required(RUN_INPUTS),
            },
            GROUP_TOKEN: {
                "description": "Many extraction runs in one resource, triggered concurrently.",
                "inputProperties": _props(GROUP_INPUTS),
                "requiredInputs": _required(GROUP_INPUTS),
                "properties": _props(
                    tuple(p for p in GROUP_INPUTS if p.name == "max_concurrency") + GROUP_OUTPUTS
                ),
                "required": [],
            },
            EXTRACTION_TOKEN: {
                "description": (
                    "One DataGOL extraction configuration: created by POST, changed by one PUT "
                    "of the declared configuration, deleted on destroy, read by Get Extractions "
                    "of its element (refresh shows changes made in DataGOL's UI as drift). "
                    "Changing workspaceId, elementType or elementId makes a new configuration "
                    "(a new extractionId). An input left out keeps DataGOL's value. Import id: "
                    "<workspaceId>/<elementType>/<elementId>/<extractionId>."
                ),
                "inputProperties": _props(EXTRACTION_INPUTS),
                "requiredInputs": _required(EXTRACTION_INPUTS),
                "properties": _props(EXTRACTION_INPUTS + EXTRACTION_OUTPUTS),
                "required": [p.camel for p in EXTRACTION_INPUTS + EXTRACTION_OUTPUTS],
            },
            COMPLETION_TOKEN: {
                "description": (
                    "Waits until DataGOL reports runs finished, as a step of its own: it only "
                    "reads Poll Status, by request id, and never triggers. Declare it beside an "
                    "ExtractionRun (run: ${contracts.completionTarget}) or a group (runs: "
                    "${seed.results}) that does not wait itself (waitForCompletion unset): the "
                    "run's create then returns once DataGOL answered, so the stack's state holds "
                    "its request ids, and a `pulumi up` killed during the wait is redone by the "
                    "next one, on any runner, without sending anything. It records nothing until "
                    "every run finished successfully: a failed or timed-out run fails the update. "
                    "Depend on it (dependsOn) for what needs the runs finished."
                ),
                "inputProperties": _props(COMPLETION_INPUTS),
                "requiredInputs": [],
                "properties": _props(COMPLETION_OUTPUTS),
                "required": [p.camel for p in COMPLETION_OUTPUTS],
            },
        },
        "functions": {
            GET_EXTRACTIONS_TOKEN: {
                "description": (
                    "The extraction configurations of one element (Get Extractions), those "
                    "titled `title` if given: reference one made in DataGOL's UI by its title."
                ),
                "inputs": {
                    "properties": {
                        **_props(_LOOKUP_ARGS),
                        "title": {"type": "string", "description": "Only those with this title."},
                    },
                    "required": [p.camel for p in _LOOKUP_ARGS],
                },
                "outputs": {
                    "properties": {
                        "extractions": {
                            "type": "array",
                            "items": {"$ref": f"#/types/{EXTRACTION_INFO_TOKEN}"},
                            "description": "The configurations, as an Extraction's outputs.",
                        }
                    },
                    "required": ["extractions"],
                },
            }
        },
        "types": {
            EXTRACTION_INFO_TOKEN: {
                "type": "object",
                "description": "One extraction configuration as DataGOL holds it.",
                "properties": _props(EXTRACTION_INPUTS + EXTRACTION_OUTPUTS),
            },
            RUN_SPEC_TOKEN: {
                "type": "object",
                "description": "The inputs of one run of an ExtractionRunGroup.",
                "properties": _props(RUN_INPUTS),
                "required": _required(RUN_INPUTS),
            },
            RUN_RESULT_TOKEN: {
                "type": "object",
                "description": "The outputs of one run of an ExtractionRunGroup.",
                "properties": _props(_ECHOED + RUN_OUTPUTS + RESULT_OUTPUTS),
            },
            TARGET_TOKEN: {
                "type": "object",
                "description": "What an ExtractionRunCompletion needs of one ExtractionRun.",
                "properties": _props(TARGET_PROPS),
            },
            COMPLETION_RESULT_TOKEN: {
                "type": "object",
                "description": "What an ExtractionRunCompletion recorded of one run it awaited.",
                "properties": _props(RECORD),
            },
        },
        # respectSchemaVersion: a generated SDK carries this version (package metadata and
        # pulumi-plugin.json / package.json), so its programs ask the engine for this plugin.
        "language": {
            "python": {
                "packageName": "pulumi_datagol",
                "requires": {"pulumi": ">=3.160,<4"},
                "respectSchemaVersion": True,
            },
            "nodejs": {
                "packageName": "@datagol/pulumi",
                "dependencies": {"@pulumi/pulumi": "^3.0.0"},
                "respectSchemaVersion": True,
            },
            "go": {
                "importBasePath": "github.com/datagol/pulumi-datagol/sdk/go/datagol",
                "generateResourceContainerTypes": False,
                "respectSchemaVersion": True,
            },
        },
    }


def schema_json() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True)


if __name__ == "__main__":  # python -m datagol_pulumi.plugin.schema > schema.json
    print(schema_json())
