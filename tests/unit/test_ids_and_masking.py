"""Ids the URL path cannot carry (issue 16, item 4) and the masking of secret input values in
messages (item 3), as pure functions."""

from __future__ import annotations

import pytest

from datagol_pulumi import ConfigurationError
from datagol_pulumi.client.masking import (
    mask,
    masked_fragments,
    masking,
    recorded_fragments,
    secret_values,
)
from datagol_pulumi.ids import path_problem
from datagol_pulumi.secrecy import ALL
from datagol_pulumi.stack_config import load_runs
from datagol_pulumi.validation import check_run
from tests.conftest import BASE_RUN


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (".", "is a dot segment"),
        ("..", "is a dot segment"),
        ("a/../b", "has a dot segment between slashes"),
        ("./a", "has a dot segment between slashes"),
        ("a\\..", "has a dot segment between slashes"),
        ("col-9\n", "contains a control character"),
        ("a\x00b", "contains a control character"),
        ("a\x7fb", "contains a control character"),
    ],
)
def test_ids_the_path_cannot_carry(value: str, problem: str) -> None:
    assert (path_problem(value) or "").startswith(problem)


@pytest.mark.parametrize(
    "value", ["finance/invoices 2026", "a?b#c%d", "...", "a..b", "v1.2", "x/.hidden", "Ünïcode"]
)
def test_ids_percent_quoting_carries(value: str) -> None:
    assert path_problem(value) is None


@pytest.mark.parametrize("prop", ["workspace_id", "extraction_id", "element_id"])
def test_check_run_refuses_a_dot_segment_id_once_naming_it(prop: str) -> None:
    _, failures = check_run({**BASE_RUN, prop: ".."})
    assert [p for p, _ in failures] == [prop]
    assert "'..'" in failures[0][1] and f"Set {prop} to the id" in failures[0][1]


def test_secret_values_cover_strings_numbers_and_where_clause_literals() -> None:
    inputs = {
        "where_clause": 'ssn = \'123-45-6789\' AND name = "O""Brien"',
        "rows": [{"id": "r/1", "n": 42, "f": 2.0, "ok": True, "none": None}],
        "element_id": "el-public",
        "__secret_inputs": ["where_clause", "rows"],
    }
    found = secret_values(inputs, {"where_clause", "rows"})
    assert {"123-45-6789", "r/1", "r%2F1", "42", "2.0", "2"} <= found
    assert "el-public" not in found and "True" not in found and "true" not in found
    assert secret_values(inputs, set()) == set()
    assert "el-public" in secret_values(inputs, {ALL})


def test_the_fragments_a_run_records_are_read_back_as_they_were_recorded() -> None:
    inputs = {"where_clause": "ssn = '123-45-6789'", "element_id": "el-public"}
    recorded = masked_fragments(inputs, {"where_clause"})
    assert recorded == sorted(recorded) and "123-45-6789" in recorded
    assert recorded_fragments({"masked_values": recorded}) == recorded
    # A state written before runs recorded them, or an odd value: nothing to mask, no error.
    assert recorded_fragments({}) == recorded_fragments({"masked_values": "x"}) == []
    assert recorded_fragments({"masked_values": ["a", 1, None]}) == ["a"]


def test_mask_hides_values_in_its_block_only() -> None:
    text = "bad clause ssn = '123-45-6789' near '123-45-6789' for HTTP 400, id 7, x77"
    with masking({"ssn = '123-45-6789'", "123-45-6789", "7"}):
        masked = mask(text)
        with masking({"HTTP"}):
            assert "HTTP" not in mask(text)
        assert "HTTP" in mask(text)
    assert masked == "bad clause [secret] near '[secret]' for HTTP 400, id [secret], x77"
    assert mask(text) == text  # outside the block nothing is masked


def test_a_stack_config_run_from_a_secret_key_is_named_not_quoted() -> None:
    runs = [{"name": "a", **BASE_RUN, "mode": "MODE-SECRET-71", "element_id": "x/../y"}]
    with pytest.raises(ConfigurationError) as info:
        load_runs(runs, secret={ALL})
    text = str(info.value)
    assert "run 'a' (runs[0]): mode: mode must be one of" in text
    assert "MODE-SECRET-71" not in text and "x/../y" not in text
    with pytest.raises(ConfigurationError, match="MODE-SECRET-71"):
        load_runs(runs)  # not secret: quoted, so the marker is what hides it
