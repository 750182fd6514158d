"""What one run sends: the Trigger Extraction path, query and body (or bodies, in batches).

Pure functions of validated, normalised inputs (see :mod:`datagol_pulumi.validation`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

TRIGGER_PATH = "/noCo/api/v2/workspaces/{}/extraction/{}/{}/{}/run"
STATUS_PATH = "/noCo/api/v1/requestLog/status/{}"


@dataclass(frozen=True)
class TriggerRequest:
    """One POST to Trigger Extraction."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]
    #: The body exactly as sent (canonical JSON), encoded once and hashed from the same bytes.
    data: bytes

    @classmethod
    def of(cls, path: str, query: dict[str, str], body: dict[str, Any]) -> TriggerRequest:
        return cls(path, query, body, canonical_json(body))


def _segment(value: str) -> str:
    # safe="" so that "/" inside an element id cannot add a path segment.
    return quote(str(value), safe="")


def trigger_path(workspace_id: str, extraction_id: str, element_type: str, element_id: str) -> str:
    """The percent-encoded path of Trigger Extraction for one element."""
    return TRIGGER_PATH.format(
        *map(_segment, (workspace_id, extraction_id, element_type, element_id))
    )


def status_path(request_id: str) -> str:
    """The percent-encoded path of Poll Status for one request id."""
    return STATUS_PATH.format(_segment(request_id))


def extract_only_new(inputs: Mapping[str, Any]) -> bool:
    """The ``extractOnlyNew`` query value: always true for mode ``new``, else what was asked."""
    return inputs.get("mode") == "new" or inputs.get("extract_only_new") is True


def _target(inputs: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    path = trigger_path(
        inputs["workspace_id"],
        inputs["extraction_id"],
        inputs["element_type"],
        inputs["element_id"],
    )
    return path, {"extractOnlyNew": "true" if extract_only_new(inputs) else "false"}


def rows_request(inputs: Mapping[str, Any], start: int, stop: int) -> TriggerRequest:
    """The request for rows ``start:stop`` of a ``selected`` run (one batch)."""
    path, query = _target(inputs)
    # A slice copies references only; memory stays one batch plus the rows themselves.
    return TriggerRequest.of(path, query, {"selectAll": False, "rows": inputs["rows"][start:stop]})


def trigger_requests(inputs: Mapping[str, Any]) -> Iterator[TriggerRequest]:
    """The request(s) one run sends, in order: one, or one per ``batch_size`` rows."""
    mode = inputs.get("mode", "full")
    if mode == "selected":
        count = len(inputs["rows"])
        size = inputs.get("batch_size") or count
        for start in range(0, count, size):
            yield rows_request(inputs, start, start + size)
        return
    path, query = _target(inputs)
    body: dict[str, Any] = {"selectAll": True}
    where_clause = inputs.get("where_clause")
    if mode == "filter" or (mode == "new" and where_clause):
        body["whereClause"] = where_clause
    yield TriggerRequest.of(path, query, body)


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys: the same value always gives the same bytes.

    orjson, because rows are encoded for every trigger and hashed for every diff: it is an order
    of magnitude faster than the json module on 100,000 rows. Raises TypeError for values that
    are not JSON (check_run reports those before anything is sent).
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(value: Any) -> str:
    """A stable sha256 of a JSON value: the same value gives the same digest on every machine."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def rows_digest(rows: Any) -> str | None:
    """Stands in for ``rows`` in outputs, so diff sees row changes without storing them twice."""
    return None if rows is None else digest(rows)


class RequestDigest:
    """A hash of everything sent for one run (paths, queries and bodies, in order), fed as sent."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, request: TriggerRequest) -> None:
        self._hash.update(canonical_json({"path": request.path, "query": request.query}))
        self._hash.update(request.data)

    def hexdigest(self) -> str:
        return "sha256:" + self._hash.hexdigest()
