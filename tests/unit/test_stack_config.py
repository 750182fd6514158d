"""Stack YAML runs: list or map, defaults, and errors that name the run and the valid keys."""

from __future__ import annotations

import pytest

from datagol_pulumi import ConfigurationError
from datagol_pulumi.stack_config import keep_secret, load_runs

WS = "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f"
RUN = {"extraction_id": "ext-1", "element_type": "column", "element_id": "col-9"}


def test_list_and_map_forms_give_the_same_runs() -> None:
    as_list = load_runs(
        [{"name": "a", **RUN}, {"name": "b", **RUN, "mode": "new"}], {"workspace_id": WS}
    )
    as_map = load_runs({"a": RUN, "b": {**RUN, "mode": "new"}}, {"workspace_id": WS})
    assert as_list == as_map
    assert list(as_list) == ["a", "b"]
    assert as_list["a"]["element_type"] == "COLUMN"
    assert as_list["a"]["workspace_id"] == WS


def test_run_values_override_defaults() -> None:
    other = "0e2f1c6f-8a3b-4c55-9d7e-0a1b2c3d4e5f"
    runs = load_runs({"a": {**RUN, "workspace_id": other}}, {"workspace_id": WS})
    assert runs["a"]["workspace_id"] == other


def problems(runs, defaults=None) -> str:
    with pytest.raises(ConfigurationError) as info:
        load_runs(runs, defaults)
    return str(info.value)


def test_unknown_key_names_run_suggestion_and_valid_keys() -> None:
    text = problems({"orders": {**RUN, "workspace_id": WS, "whereClause": "a"}})
    assert (
        "run 'orders' (runs.orders): unknown key 'whereClause' (did you mean 'where_clause'?)"
        in text
    )
    assert "valid keys: workspace_id, extraction_id, element_type, element_id, mode" in text
    text = problems({"orders": {**RUN, "workspace_id": WS, "mdoe": "new"}})
    assert "(did you mean 'mode'?)" in text


def test_duplicate_names_in_a_list() -> None:
    text = problems([{"name": "a", **RUN}, {"name": "a", **RUN}], {"workspace_id": WS})
    assert "run 'a' (runs[1]): the name 'a' is already used by runs[0]" in text


def test_wrong_types_and_check_failures_name_the_run() -> None:
    text = problems({"a": "not a map", "b": {**RUN, "element_type": "TABLE"}}, {"workspace_id": WS})
    assert "run 'a' (runs.a): must be a map of run properties, got str" in text
    assert (
        "run 'b' (runs.b): element_type: element_type must be one of COLUMN, FILE, FOLDER" in text
    )


@pytest.mark.parametrize(
    ("runs", "text"),
    [
        (None, "no runs declared"),
        ("x", "must be a list of runs"),
        ([{"extraction_id": "e"}], "runs[0]: every run in the list needs a `name`"),
        ([{"name": "has space", **RUN}], "a name may hold letters"),
    ],
)
def test_structure_errors(runs, text: str) -> None:
    assert text in problems(runs, {"workspace_id": WS})


def test_unknown_default_key() -> None:
    assert "defaults: unknown key 'workspaceId' (did you mean 'workspace_id'?)" in problems(
        {"a": RUN}, {"workspaceId": WS}
    )


def test_values_from_a_secret_key_are_wrapped_names_and_the_wait_flag_stay_plain() -> None:
    defaults = {"workspace_id": WS, "wait_for_completion": True}
    runs = {"a": {**RUN, "mode": "filter", "where_clause": "ssn = '1'"}}
    loaded = load_runs(runs, defaults)

    def tag(value):
        return ("secret", value)

    both = keep_secret(loaded, defaults, runs_secret=True, defaults_secret=False, secret=tag)
    assert list(both) == ["a"]
    assert both["a"]["where_clause"] == ("secret", "ssn = '1'")
    assert both["a"]["workspace_id"] == ("secret", WS)  # merged into a secret run's values
    # A run's resources are declared from it (a completion beside a waiting run).
    assert both["a"]["wait_for_completion"] is True
    assert all(
        v is None or k == "wait_for_completion" or v[0] == "secret" for k, v in both["a"].items()
    )

    only_defaults = keep_secret(
        loaded, defaults, runs_secret=False, defaults_secret=True, secret=tag
    )
    assert only_defaults["a"]["workspace_id"] == ("secret", WS)
    assert only_defaults["a"]["where_clause"] == "ssn = '1'"

    assert keep_secret(loaded, defaults, runs_secret=False, defaults_secret=False) == loaded
