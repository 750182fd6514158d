"""check_run / check_group: every bad input becomes a failure naming its property."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from datagol_pulumi.validation import RUN_PROPERTIES, check_group, check_run
from tests.conftest import BASE_RUN, WORKSPACE_ID

WS = WORKSPACE_ID
BASE = BASE_RUN


def props(inputs: dict) -> list[str]:
    return [prop for prop, _ in check_run(inputs)[1]]


def reasons(inputs: dict) -> str:
    return " | ".join(reason for _, reason in check_run(inputs)[1])


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"mode": "full", "extract_only_new": True},
        {"mode": "filter", "where_clause": "status = 'open'"},
        {"mode": "selected", "rows": [{"id": "row1", "name": "Sample Data"}]},
        {"mode": "new"},
        {"mode": "new", "where_clause": "region = 'EU'"},
        {"triggers": {"release": "2026.11"}, "wait_for_completion": True, "timeout_seconds": 60},
        {"mode": "selected", "rows": [{"id": 1}], "batch_size": 500},
    ],
)
def test_valid_runs_have_no_failures(extra: dict) -> None:
    assert check_run({**BASE, **extra})[1] == []


def test_normalises_case_default_mode_and_numeric_ids() -> None:
    out, failures = check_run(
        {**BASE, "element_type": "folder", "extraction_id": 42, "mode": "NEW"}
    )
    assert failures == []
    assert out["element_type"] == "FOLDER"
    assert out["extraction_id"] == "42"
    assert out["mode"] == "new"
    assert check_run(BASE)[0]["mode"] == "full"


@pytest.mark.parametrize("missing", ["workspace_id", "extraction_id", "element_type", "element_id"])
def test_missing_ids_are_named(missing: str) -> None:
    inputs = {k: v for k, v in BASE.items() if k != missing}
    assert props(inputs) == [missing]
    assert f"{missing} is required" in reasons(inputs)


@pytest.mark.parametrize(
    ("extra", "prop", "text"),
    [
        ({"workspace_id": "not-a-uuid"}, "workspace_id", "must be a UUID"),
        ({"element_type": "TABLE"}, "element_type", "COLUMN, FILE, FOLDER"),
        ({"mode": "everything"}, "mode", "full, filter, selected, new"),
        ({"mode": "filter"}, "where_clause", "needs a where_clause"),
        ({"mode": "selected"}, "rows", "non-empty list"),
        ({"mode": "selected", "rows": []}, "rows", "an empty list"),
        ({"mode": "selected", "rows": ["row1"]}, "rows", "rows[0] must be a JSON object"),
        ({"mode": "selected", "rows": {"id": 1}}, "rows", "non-empty list of objects"),
        ({"mode": "full", "rows": [{"id": 1}]}, "rows", "only sent with mode 'selected'"),
        ({"mode": "new", "rows": [{"id": 1}]}, "rows", "only sent with mode 'selected'"),
        ({"mode": "full", "where_clause": "a = 1"}, "where_clause", "not used with mode 'full'"),
        ({"mode": "selected", "rows": [{"a": 1}], "where_clause": "a"}, "where_clause", "not used"),
        ({"triggers": ["v1"]}, "triggers", "must be a map"),
        ({"triggers": "v1"}, "triggers", "must be a map"),
        ({"extract_only_new": "yes"}, "extract_only_new", "true or false"),
        (
            {"mode": "new", "extract_only_new": False},
            "extract_only_new",
            "always extracts only new",
        ),
        ({"wait_for_completion": 1}, "wait_for_completion", "true or false"),
        ({"timeout_seconds": 0}, "timeout_seconds", "greater than 0"),
        ({"poll_interval_seconds": "5s"}, "poll_interval_seconds", "a number"),
        ({"mode": "selected", "rows": [{"a": 1}], "batch_size": 2.5}, "batch_size", "whole number"),
        ({"batch_size": 10}, "batch_size", "only applies to mode 'selected'"),
        ({"element_id": ["a"]}, "element_id", "must be a string"),
        ({"where": "x"}, "where", "valid properties: workspace_id"),
    ],
)
def test_each_bad_input_names_its_property(extra: dict, prop: str, text: str) -> None:
    failures = check_run({**BASE, **extra})[1]
    assert [p for p, _ in failures] == [prop], failures
    assert text in failures[0][1]


# check and diff get pulumi.output.Unknown objects from the engine; the program's preview holds
# the UNKNOWN string. Both must pass.
@pytest.mark.parametrize("unknown", [Unknown(), rpc.UNKNOWN], ids=["engine", "program"])
def test_unknown_values_during_preview_are_not_errors(unknown) -> None:
    inputs = {
        "workspace_id": unknown,
        "extraction_id": unknown,
        "element_type": unknown,
        "element_id": unknown,
        "mode": unknown,
        "rows": [{"id": unknown}],
        "where_clause": unknown,
        "triggers": unknown,
    }
    assert check_run(inputs)[1] == []
    # A known mode with unknown rows is fine too.
    assert check_run({**BASE, "mode": "selected", "rows": unknown})[1] == []


def test_secret_wrapped_values_are_checked_as_plain() -> None:
    wrapped = rpc.wrap_rpc_secret("TABLE")
    assert props({**BASE, "element_type": wrapped}) == ["element_type"]


def test_deeply_nested_rows_are_refused_not_crashed() -> None:
    row: dict = {}
    node = row
    for _ in range(5000):  # deeper than any recursion limit
        node["child"] = {}
        node = node["child"]
    failures = check_run({**BASE, "mode": "selected", "rows": [row]})[1]
    assert failures == [("rows", failures[0][1])]
    assert "nested deeper than 32" in failures[0][1]


def test_too_large_unbatched_rows_ask_for_batch_size() -> None:
    rows = [{"id": i, "text": "x" * 1000} for i in range(20_000)]  # ~20 MB
    failures = check_run({**BASE, "mode": "selected", "rows": rows})[1]
    assert [p for p, _ in failures] == ["batch_size"]
    assert check_run({**BASE, "mode": "selected", "rows": rows, "batch_size": 1000})[1] == []


def test_every_failure_names_a_known_property() -> None:
    everything_wrong = {
        "workspace_id": "x",
        "element_type": 3,
        "mode": "selected",
        "rows": "nope",
        "where_clause": 5,
        "triggers": 7,
        "timeout_seconds": -1,
    }
    for prop, reason in check_run(everything_wrong)[1]:
        assert prop in RUN_PROPERTIES
        assert reason


def test_group_names_run_key_and_property_and_folds_defaults() -> None:
    out, failures = check_group(
        {
            "runs": {"good": BASE, "bad": {**BASE, "element_type": "TABLE"}},
            "wait_for_completion": True,
            "timeout_seconds": 30,
        }
    )
    assert failures == [("runs.bad.element_type", failures[0][1])]
    assert "run 'bad'" in failures[0][1]
    assert out["runs"]["good"]["wait_for_completion"] is True
    assert out["runs"]["good"]["timeout_seconds"] == 30
    assert out["max_concurrency"] == 16


@pytest.mark.parametrize(
    ("inputs", "prop"),
    [
        ({"runs": []}, "runs"),
        ({"runs": {}}, "runs"),
        ({"runs": {"a": "x"}}, "runs.a"),
        ({"runs": {"a": BASE}, "max_concurrency": 0}, "max_concurrency"),
        ({"runs": {"a": BASE}, "maxConcurrency": 2}, "maxConcurrency"),
    ],
)
def test_group_structure_failures(inputs: dict, prop: str) -> None:
    assert [p for p, _ in check_group(inputs)[1]] == [prop]


def test_hostile_nesting_with_a_float_is_refused_not_a_recursion_error() -> None:
    deep: dict = {}
    for _ in range(5000):
        deep = {"x": deep}
    row = {"n": 1.0, "deep": deep}  # a float the scan sees, next to nesting it stops below
    failures = check_run({**BASE, "mode": "selected", "rows": [row]})[1]
    assert [p for p, _ in failures] == ["rows"] and "nested deeper" in failures[0][1]


def test_nan_and_infinity_are_refused_by_path_the_first_in_document_order() -> None:
    fix = "remove it, or give a finite number or a string"
    rows = [{"id": 1.0, "n": [1.5, {"x": float("inf")}]}, {"amount": float("nan")}]
    _, failures = check_run(
        {**BASE_RUN, "mode": "selected", "rows": rows, "triggers": {"t": Unknown(), "u": -1e999}}
    )
    assert failures == [
        (
            "rows[0].n[1].x",
            "rows[0].n[1].x is Infinity, which JSON cannot carry: DataGOL would "
            f"get null instead; {fix}",
        ),
        ("triggers.u", f"triggers.u is -Infinity, which JSON cannot carry; {fix}"),
    ]
    # Secret rows: where it stands is not said, their keys are part of the secret.
    _, failures = check_run({**BASE_RUN, "mode": "selected", "rows": rows}, secret={"rows"})
    assert failures == [
        (
            "rows",
            "rows hold a NaN or Infinity, which JSON cannot carry: DataGOL would get null "
            f"instead; {fix}",
        )
    ]
    finite = [{"id": 1.0, "ratio": 0.5, "big": 1e300, "none": None}]
    assert check_run({**BASE_RUN, "mode": "selected", "rows": finite})[1] == []
