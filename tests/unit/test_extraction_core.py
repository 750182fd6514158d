"""The extraction core on plain values: checks, the id, the comparison that ignores what
DataGOL fills in or reorders, and the body sent."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from datagol_pulumi.client.extractions import listed_items
from datagol_pulumi.client.listing import configurations
from datagol_pulumi.errors import ConfigurationError
from datagol_pulumi.extraction.body import from_dto, imported_inputs, outputs, project, same, to_dto
from datagol_pulumi.extraction.checks import check_extraction
from datagol_pulumi.extraction.lifecycle import diff, parse_id, resource_id
from tests.conftest import WORKSPACE_ID

DECLARED = {
    "workspace_id": WORKSPACE_ID,
    "title": "Invoices",
    "extraction_mode": "STANDARD",
    "element_type": "FILE",
    "element_id": "file-42",
    "output_configuration": {"createNewWorkbook": True},
    "primary_key_column_id": ["b", "a"],
}


def test_check_normalises_enums_ids_and_engine_floats() -> None:
    out, failures = check_extraction(
        {
            **DECLARED,
            "extraction_mode": "advanced",
            "element_type": "folder",
            "element_id": 42.0,
            "schedule": {"basicSchedule": {"timeUnit": "DAY", "units": 2.0}},
        }
    )
    assert failures == []
    assert out["extraction_mode"] == "ADVANCED" and out["element_type"] == "FOLDER"
    assert out["element_id"] == "42"
    assert out["schedule"]["basicSchedule"]["units"] == 2 and isinstance(
        out["schedule"]["basicSchedule"]["units"], int
    )


@pytest.mark.parametrize(
    ("change", "prop", "words"),
    [
        ({"title": None}, "title", "required"),
        ({"workspace_id": "ws"}, "workspace_id", "UUID"),
        ({"extraction_mode": "FAST"}, "extraction_mode", "STANDARD, ADVANCED"),
        ({"element_type": "TABLE"}, "element_type", "COLUMN, FILE, FOLDER"),
        ({"schedule_type": "HOURLY"}, "schedule_type", "CRON, MANUAL, SCHEDULED, DATA_CHANGE"),
        ({"output_configuration": "tbl"}, "output_configuration", "object"),
        ({"primary_key_column_id": "a"}, "primary_key_column_id", "list of strings"),
        ({"primary_key_column_id": ["a", "a"]}, "primary_key_column_id", "twice"),
        ({"column_configuration": [{"description": "x"}]}, "column_configuration", "name"),
        ({"store_extracted_data": 1}, "store_extracted_data", "true or false"),
        ({"titel": "x"}, "titel", "unknown property"),
        ({"schedule": {"basicSchedule": {"timeUnit": "WEEK"}}}, "schedule", "HOURS"),
    ],
)
def test_check_names_the_property_and_the_fix(change, prop, words) -> None:
    _, failures = check_extraction({**DECLARED, **change})
    assert [p for p, _ in failures] == [prop]
    assert words in failures[0][1]


def test_unknown_values_pass_unchecked_and_count_as_changes() -> None:
    news = {**DECLARED, "element_id": Unknown(), "title": Unknown()}
    assert check_extraction(news)[1] == []
    result = diff({**DECLARED}, news)
    assert result.replaces == ["element_id"] and result.updates == ["title"]


def test_projection_ignores_what_datagol_fills_in_and_reorders() -> None:
    held = {"createNewWorkbook": True, "tableId": "tbl-1"}
    assert project(held, {"createNewWorkbook": True}) == {"createNewWorkbook": True}
    assert same(["b", "a"], ["a", "b"])
    columns = [{"name": "a", "uiDataType": "NUMBER"}, {"name": "b"}]
    filled = [{"name": "b", "uiMetadata": {"title": "b"}}, {"name": "a", "uiDataType": "NUMBER"}]
    assert same(columns, filled)
    assert not same(columns, filled[:1])
    assert not same({"createNewWorkbook": True}, {"createNewWorkbook": False, "tableId": "t"})
    assert same({"units": 2}, {"units": 2.0})


def test_diff_compares_declared_inputs_only() -> None:
    outs = outputs(
        {**to_dto(DECLARED), "id": 7, "llmModel": "default", "primaryKeyColumnId": ["a", "b"]},
        DECLARED,
    )
    assert outs["llm_model"] == "default" and outs["schedule"] == {}
    assert diff(outs, DECLARED).changes is False  # llm_model left out: DataGOL's value kept
    assert diff(outs, {**DECLARED, "llm_model": "mine"}).updates == ["llm_model"]
    assert diff(outs, {**DECLARED, "workspace_id": "other"}).replaces == ["workspace_id"]


def test_body_is_datagol_names_with_nested_objects_as_written() -> None:
    dto = to_dto({**DECLARED, "column_configuration": [{"uiDataType": "DATE", "name": "d"}]})
    assert dto["outputConfiguration"] == {"createNewWorkbook": True}
    assert dto["columnConfiguration"] == [{"uiDataType": "DATE", "name": "d"}]
    assert "llmModel" not in dto and dto["primaryKeyColumnId"] == ["b", "a"]
    assert from_dto({**dto, "id": 12})["extraction_id"] == "12"
    assert "extraction_id" not in imported_inputs({**dto, "id": 12, "createDate": "x"})


def test_the_id_names_workspace_element_and_configuration() -> None:
    ident = resource_id({**DECLARED, "element_id": "fin/2026"}, "1001")
    assert parse_id(ident) == (WORKSPACE_ID, "FILE", "fin/2026", "1001")
    for bad, words in (
        ("1001", "four parts"),
        (f"{WORKSPACE_ID}/FILE/x/abc", "integer id"),
        (f"{WORKSPACE_ID}/TABLE/x/1", "elementType"),
        ("ws/FILE/x/1", "UUID"),
    ):
        with pytest.raises(ConfigurationError, match=words) as refused:
            parse_id(bad)
        assert "<workspaceId>/<elementType>/<elementId>/<extractionId>" in str(refused.value)


def test_a_run_takes_datagols_integer_ids() -> None:
    from datagol_pulumi.validation import check_run

    run = {"workspace_id": WORKSPACE_ID, "element_type": "FILE", "element_id": "file-42"}
    for given in (1001, 1001.0, "1001"):  # a program's int, the engine's float, a string
        out, failures = check_run({**run, "extraction_id": given})
        assert failures == [] and out["extraction_id"] == "1001"


@pytest.mark.parametrize(
    ("answer", "items"),
    [
        ([{"id": 1}], [{"id": 1}]),
        ({"data": [{"id": 1}]}, [{"id": 1}]),
        ({"content": [{"id": 2}]}, [{"id": 2}]),  # passed the preview, failed `up` before
        ({"result": []}, []),
        ({"id": 1}, None),
        ("text", None),
    ],
)
def test_the_preview_and_the_lifecycle_read_one_answer_alike(answer, items) -> None:
    assert listed_items(answer) == items
    read = configurations(answer)
    assert (None if read is None else [int(c.id) for c in read]) == (
        None if items is None else [i["id"] for i in items]
    )
