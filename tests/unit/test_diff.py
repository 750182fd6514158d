"""diff: replace for a new target, update (re-trigger or not) for the rest, nothing otherwise."""

from __future__ import annotations

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from datagol_pulumi.provider import ExtractionRunProvider
from datagol_pulumi.runs import carry_over
from datagol_pulumi.validation import changed_properties, check_run
from tests.conftest import BASE_RUN, WORKSPACE_ID

WS = WORKSPACE_ID
BASE = BASE_RUN


@pytest.fixture(autouse=True)
def _no_preview_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # diff's decisions only: the Get Extractions read a re-trigger makes (and its credentials
    # check) is tested against the emulator, in tests/contract/test_preview_checks.py.
    monkeypatch.setenv("DATAGOL_SKIP_PREVIEW_READS", "true")


def outputs_of(inputs: dict) -> dict:
    """What state holds after a create with these inputs (the echo the provider returns)."""
    normalised, failures = check_run(inputs)
    assert failures == []
    outs = carry_over(normalised, {"request_id": "r-1", "run_count": 1})
    outs["__provider"] = "pickled-provider-v1"
    return outs


def diff(old_inputs: dict, new_inputs: dict):
    news = check_run(new_inputs)[0]
    news["__provider"] = "pickled-provider-v2"  # a new package version must not count
    return ExtractionRunProvider().diff("r-1", outputs_of(old_inputs), news)


def test_nothing_changed_is_no_change() -> None:
    result = diff(BASE, BASE)
    assert result.changes is False
    assert result.replaces == []


def test_case_of_element_type_is_not_a_change() -> None:
    assert diff(BASE, {**BASE, "element_type": "column"}).changes is False


@pytest.mark.parametrize("prop", ["workspace_id", "extraction_id", "element_type", "element_id"])
def test_target_change_replaces(prop: str) -> None:
    new_value = {
        "workspace_id": "0e2f1c6f-8a3b-4c55-9d7e-0a1b2c3d4e5f",
        "element_type": "FILE",
    }.get(prop, "other")
    result = diff(BASE, {**BASE, prop: new_value})
    assert result.changes is True
    assert result.replaces == [prop]


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        (
            {"mode": "filter", "where_clause": "a"},
            {"mode": "filter", "where_clause": "b"},
            ["where_clause"],
        ),
        ({}, {"mode": "new"}, ["mode"]),
        (
            {"mode": "selected", "rows": [{"id": 1}]},
            {"mode": "selected", "rows": [{"id": 2}]},
            ["rows"],
        ),
        ({}, {"extract_only_new": True}, ["extract_only_new"]),
        ({"triggers": {"v": 1}}, {"triggers": {"v": 2}}, ["triggers"]),
        ({}, {"triggers": {"v": 1}}, ["triggers"]),
    ],
)
def test_run_input_change_is_an_update_that_retriggers(old: dict, new: dict, changed: list) -> None:
    result = diff({**BASE, **old}, {**BASE, **new})
    assert result.changes is True
    assert result.replaces == []
    olds = outputs_of({**BASE, **old})
    assert changed_properties(olds, check_run({**BASE, **new})[0]) == ([], changed, [])


def test_same_rows_in_another_key_order_is_no_change() -> None:
    old = {**BASE, "mode": "selected", "rows": [{"a": 1, "b": 2}]}
    assert diff(old, {**old, "rows": [{"b": 2, "a": 1}]}).changes is False


def test_settings_change_is_an_update_without_a_run() -> None:
    olds = outputs_of(BASE)
    news = check_run({**BASE, "wait_for_completion": True, "timeout_seconds": 9})[0]
    assert changed_properties(olds, news) == ([], [], ["wait_for_completion", "timeout_seconds"])


@pytest.mark.parametrize("unknown", [Unknown(), rpc.UNKNOWN], ids=["engine", "program"])
def test_unknown_value_in_preview_counts_as_changed(unknown) -> None:
    result = diff(BASE, {**BASE, "element_id": unknown})
    assert result.changes is True
    assert result.replaces == ["element_id"]
