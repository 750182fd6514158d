"""One set of property definitions: both faces, validation and the schema agree with it."""

from __future__ import annotations

from dataclasses import fields

from datagol_pulumi import ExtractionRunArgs, ExtractionRunGroupArgs, properties, runs, validation
from datagol_pulumi.config import KEYS
from datagol_pulumi.plugin.schema import GROUP_TOKEN, RUN_RESULT_TOKEN, RUN_TOKEN, schema
from datagol_pulumi.properties import camel, names, snake

ALL = (
    *properties.RUN_INPUTS,
    *properties.RUN_OUTPUTS,
    *properties.RESULT_OUTPUTS,
    *properties.GROUP_INPUTS,
    *properties.GROUP_OUTPUTS,
    *properties.CONFIG,
)


def test_names_translate_both_ways() -> None:
    for prop in ALL:
        assert snake(camel(prop.name)) == prop.name
    assert camel("poll_interval_seconds") == "pollIntervalSeconds"


def test_validation_and_the_lifecycle_use_the_definitions() -> None:
    assert validation.RUN_PROPERTIES == names(properties.RUN_INPUTS)
    assert validation.REPLACE_PROPERTIES == (
        "workspace_id",
        "extraction_id",
        "element_type",
        "element_id",
    )
    assert validation.TRIGGER_PROPERTIES == (
        "mode",
        "where_clause",
        "rows",
        "extract_only_new",
        "triggers",
    )
    assert validation.GROUP_PROPERTIES == names(properties.GROUP_INPUTS)
    assert runs.RUN_OUTPUTS == names(properties.RUN_OUTPUTS)


def test_the_dynamic_resources_take_the_defined_inputs() -> None:
    assert tuple(f.name for f in fields(ExtractionRunArgs)) == validation.RUN_PROPERTIES
    assert {f.name for f in fields(ExtractionRunGroupArgs)} == set(validation.GROUP_PROPERTIES)


def test_the_schema_takes_the_same_inputs_in_camel_case() -> None:
    spec = schema()
    run = spec["resources"][RUN_TOKEN]
    assert list(run["inputProperties"]) == [camel(n) for n in validation.RUN_PROPERTIES]
    echoed = [camel(n) for n in validation.RUN_PROPERTIES if n != "rows"]
    # The plugin's run also has the output an ExtractionRunCompletion takes (plugin.completion).
    outputs = [camel(n) for n in runs.RUN_OUTPUTS] + ["completionTarget"]
    assert list(run["properties"]) == echoed + outputs
    assert run["properties"]["runCount"]["type"] == "integer"
    group = spec["resources"][GROUP_TOKEN]
    assert list(group["inputProperties"]) == [camel(n) for n in validation.GROUP_PROPERTIES]
    assert "refused" in spec["types"][RUN_RESULT_TOKEN]["properties"]


def test_every_setting_is_in_the_schema_with_its_secrecy() -> None:
    variables = schema()["config"]["variables"]
    assert list(variables) == [key.name for key in KEYS]
    for key in KEYS:
        assert variables[key.name].get("secret", False) is key.secret, key.name
        assert f"datagol:{key.name}" in variables[key.name]["description"]
