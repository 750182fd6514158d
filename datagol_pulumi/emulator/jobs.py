"""Extraction jobs: Trigger Extraction starts one, Poll Status reads its progress."""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from typing import Any

from .common import ELEMENT_TYPES, HttpError


def _iso(epoch: float) -> str:
    millis = int((epoch % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def _is_canonical_uuid(value: str) -> bool:
    # uuid.UUID() also accepts braces, urn: prefixes and missing hyphens; the API takes the
    # canonical 8-4-4-4-12 form (any case).
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


class JobBook:
    """The jobs triggered so far; their status is computed from their age when read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, Any]] = {}

    def views(self) -> dict[str, dict[str, Any]]:
        """request_id -> job (extraction_id, status, ...), status computed as of now."""
        now = time.time()
        with self._lock:
            return {rid: self._job_view(job, now) for rid, job in self._jobs.items()}

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def finish(self) -> int:
        """End every job still running now (its duration becomes its age); how many."""
        now = time.time()
        with self._lock:
            running = [j for j in self._jobs.values() if now - j["created_at"] < j["duration"]]
            for job in running:
                job["duration"] = now - job["created_at"]
        return len(running)

    def route(
        self,
        method: str,
        segments: list[str],
        query: dict[str, str],
        data: bytes,
        settings: dict[str, Any],
    ) -> tuple[int, Any, str, str | None, str | None]:
        """Returns (status, body, content_type, returned request id, started job id)."""
        if (
            len(segments) == 10
            and segments[:4] == ["noCo", "api", "v2", "workspaces"]
            and segments[5] == "extraction"
            and segments[9] == "run"
            and segments[6]
            and segments[8]
        ):
            if method != "POST":
                raise HttpError(405, f"{method} not allowed; use POST", headers={"Allow": "POST"})
            return self._trigger(segments, query, data, settings)
        if len(segments) == 6 and segments[:5] == ["noCo", "api", "v1", "requestLog", "status"]:
            if method != "GET":
                raise HttpError(405, f"{method} not allowed; use GET", headers={"Allow": "GET"})
            return self._poll(segments[5], settings)
        raise HttpError(404, f"No route for {method} /{'/'.join(segments)}")

    def _trigger(
        self,
        segments: list[str],
        query: dict[str, str],
        data: bytes,
        settings: dict[str, Any],
    ) -> tuple[int, Any, str, str | None, str | None]:
        workspace_id, extraction_id, element_type, element_id = (
            segments[4],
            segments[6],
            segments[7],
            segments[8],
        )
        if not _is_canonical_uuid(workspace_id):
            raise HttpError(400, f"workspaceId must be a UUID, got {workspace_id!r}")
        if element_type not in ELEMENT_TYPES:
            raise HttpError(
                400, f"elementType must be one of {', '.join(ELEMENT_TYPES)}, got {element_type!r}"
            )
        extract_only_new = False
        if "extractOnlyNew" in query:
            raw = query["extractOnlyNew"]
            if raw not in ("true", "false"):
                raise HttpError(400, f"extractOnlyNew must be 'true' or 'false', got {raw!r}")
            extract_only_new = raw == "true"
        body = validate_trigger_body(data)
        known = settings["extractions"]
        if known is not None and extraction_id not in known:
            raise HttpError(
                404, f"Extraction {extraction_id} not found in workspace {workspace_id}"
            )

        request_id = str(uuid.uuid4())
        duration = settings["job_seconds_by_extraction"].get(extraction_id, settings["job_seconds"])
        failing = extraction_id in settings["failing_extractions"]
        job = {
            "request_id": request_id,
            "workspace_id": workspace_id,
            "extraction_id": extraction_id,
            "element_type": element_type,
            "element_id": element_id,
            "extract_only_new": extract_only_new,
            "body": body,
            "created_at": time.time(),
            "duration": duration,
            "final_status": "FAILED" if failing else settings["success_status"],
            "failure_reason": settings["failure_reason"] if failing else None,
        }
        with self._lock:
            self._jobs[request_id] = job

        return (*_trigger_answer(settings["response_shape"], request_id), request_id)

    def _poll(
        self, request_id: str, settings: dict[str, Any]
    ) -> tuple[int, Any, str, str | None, str | None]:
        now = time.time()
        with self._lock:
            job = self._jobs.get(request_id)
            view = self._job_view(job, now) if job is not None else None
        if view is None:
            raise HttpError(404, f"Request {request_id} not found")
        body = {
            "requestId": request_id,
            settings["status_field"]: view["status"],
            "message": view["message"],
            "startedAt": _iso(view["created_at"]),
            "finishedAt": _iso(view["finished_at"]) if view["finished_at"] is not None else None,
        }
        return 200, body, "application/json", request_id, None

    @staticmethod
    def _job_view(job: dict[str, Any], now: float) -> dict[str, Any]:
        # QUEUED for the first third of the duration, RUNNING until it ends, then final.
        elapsed = now - job["created_at"]
        duration = job["duration"]
        finished_at = None
        if elapsed >= duration:
            status = job["final_status"]
            finished_at = job["created_at"] + duration
        elif elapsed < duration / 3:
            status = "QUEUED"
        else:
            status = "RUNNING"
        if status == "FAILED":
            message = f"Extraction failed: {job['failure_reason']}"
        else:
            message = f"Extraction {status.lower()}"
        view = {key: value for key, value in job.items() if key != "failure_reason"}
        view.update(status=status, message=message, finished_at=finished_at)
        return copy.deepcopy(view)


def _trigger_answer(shape: str, request_id: str) -> tuple[int, Any, str, str | None]:
    """(status, body, content type, request id the body carries) in the configured shape."""
    triggered = {"status": "QUEUED", "message": "Extraction triggered"}
    if shape == "empty":
        return 200, None, "application/json", None
    if shape == "text":
        return 200, "OK", "text/plain; charset=utf-8", None
    if shape == "none":
        return 200, {"message": "Extraction triggered"}, "application/json", None
    if shape == "data.requestId":
        response: dict[str, Any] = {
            "data": {"requestId": request_id, "status": "QUEUED"},
            "message": "Extraction triggered",
        }
    elif shape == "result.id":
        response = {
            "result": {"id": request_id, "status": "QUEUED"},
            "message": "Extraction triggered",
        }
    else:  # requestId, request_id, id: the id at top level under that key
        response = {shape: request_id, **triggered}
    return 200, response, "application/json", request_id


def validate_trigger_body(data: bytes) -> dict[str, Any]:
    if not data.strip():
        return {}  # an empty body means {}: all fields are optional

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")  # Python accepts NaN; Java servers do not

    try:
        body = json.loads(data, parse_constant=reject_constant)
    except ValueError as exc:
        raise HttpError(400, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HttpError(400, "Request body must be a JSON object")
    rows = body.get("rows")
    if rows is not None and (
        not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows)
    ):
        raise HttpError(400, "rows must be a list of JSON objects")
    where = body.get("whereClause")
    if where is not None and not isinstance(where, str):
        raise HttpError(400, "whereClause must be a string")
    select_all = body.get("selectAll")
    if select_all is not None and not isinstance(select_all, bool):
        raise HttpError(400, "selectAll must be a boolean")
    if select_all is False and not rows:
        raise HttpError(400, "rows must be a non-empty list when selectAll is false")
    return body
