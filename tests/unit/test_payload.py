"""What each mode sends: the issue's table, exactly."""

from __future__ import annotations

import json

import pytest

from datagol_pulumi.payload import RequestDigest, rows_digest, trigger_path, trigger_requests
from tests.conftest import BASE_RUN, WORKSPACE_ID

WS = WORKSPACE_ID
BASE = BASE_RUN
PATH = f"/noCo/api/v2/workspaces/{WS}/extraction/ext-1/COLUMN/col-9/run"
ROWS = [{"id": "row1", "name": "Sample Data"}]


@pytest.mark.parametrize(
    ("extra", "query", "body"),
    [
        ({"mode": "full"}, "false", {"selectAll": True}),
        ({"mode": "full", "extract_only_new": True}, "true", {"selectAll": True}),
        ({"mode": "full", "extract_only_new": False}, "false", {"selectAll": True}),
        (
            {"mode": "filter", "where_clause": "a = 1"},
            "false",
            {"selectAll": True, "whereClause": "a = 1"},
        ),
        (
            {"mode": "filter", "where_clause": "a = 1", "extract_only_new": True},
            "true",
            {"selectAll": True, "whereClause": "a = 1"},
        ),
        ({"mode": "selected", "rows": ROWS}, "false", {"selectAll": False, "rows": ROWS}),
        ({"mode": "new"}, "true", {"selectAll": True}),
        (
            {"mode": "new", "where_clause": "b > 2"},
            "true",
            {"selectAll": True, "whereClause": "b > 2"},
        ),
    ],
)
def test_mode_table(extra: dict, query: str, body: dict) -> None:
    [request] = list(trigger_requests({**BASE, **extra}))
    assert request.path == PATH
    assert request.query == {"extractOnlyNew": query}
    assert request.body == body
    assert json.loads(request.data) == body


def test_path_segments_are_percent_encoded() -> None:
    assert trigger_path(WS, "ext/1", "FILE", "dir/a b?c#d%") == (
        f"/noCo/api/v2/workspaces/{WS}/extraction/ext%2F1/FILE/dir%2Fa%20b%3Fc%23d%25/run"
    )


def test_batches_keep_order_and_size() -> None:
    rows = [{"id": i} for i in range(7)]
    requests = list(trigger_requests({**BASE, "mode": "selected", "rows": rows, "batch_size": 3}))
    assert [r.body["rows"] for r in requests] == [rows[0:3], rows[3:6], rows[6:7]]
    assert all(r.body["selectAll"] is False for r in requests)


def test_digests_are_stable_and_sensitive() -> None:
    assert rows_digest([{"a": 1, "b": 2}]) == rows_digest([{"b": 2, "a": 1}])
    assert rows_digest([{"a": 1}]) != rows_digest([{"a": 2}])
    assert rows_digest(None) is None

    def digest(extra: dict) -> str:
        d = RequestDigest()
        for r in trigger_requests({**BASE, **extra}):
            d.add(r)
        return d.hexdigest()

    assert digest({"mode": "full"}) == digest({"mode": "full"})
    assert digest({"mode": "full"}) != digest({"mode": "full", "extract_only_new": True})
    assert digest({"mode": "filter", "where_clause": "a"}) != digest(
        {"mode": "filter", "where_clause": "b"}
    )
