"""Extraction configurations: Create, Update, Delete and Get Extractions, as DataGOL's OpenAPI
description has them (integer ids, ExtractionDTO bodies, the error envelope).

Like DataGOL, the store fills in what a body leaves out (a default model, the new output
table's id, column titles) and keeps primary keys sorted, so that clients are tested against
a service that does not echo exactly what it was sent. Tests change or delete a configuration
out of band through the control API (``/_emulator/extractions``), as a user of the UI would.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from typing import Any

from .common import ELEMENT_TYPES, HttpError

PREFIX = ["noCo", "api", "v2", "workspaces"]
MODES = ("STANDARD", "ADVANCED")
SCHEDULE_TYPES = ("CRON", "MANUAL", "SCHEDULED", "DATA_CHANGE")
TIME_UNITS = ("SECOND", "MINUTE", "HOURS", "DAY", "MONTH")
#: What DataGOL keeps itself: a body's values for these are ignored.
SERVER_KEPT = ("id", "companyId", "createdBy", "modifiedBy", "createDate", "modiDate")
DEFAULT_MODEL = "gpt-4o-mini"
COMPANY_ID = "emulator-company"
_REQUIRED = ("title", "extractionMode", "elementType", "outputConfiguration", "primaryKeyColumnId")
_STRINGS = ("title", "elementId", "inputTableId", "llmModel", "content")
_OBJECTS = ("outputConfiguration", "schedule", "advancedSchema")


def envelope(status: int, message: str, codes: tuple[str, ...] = ()) -> dict[str, Any]:
    """DataGOL's error body: ``error.requestId`` names the failed call's log, not a job."""
    return {
        "success": False,
        "version": "v2",
        "date": _now(),
        "error": {
            "statusCode": status,
            "requestId": str(uuid.uuid4()),
            "message": message,
            "details": None,
            "errorCodes": list(codes),
        },
        "data": None,
    }


class Refused(HttpError):
    """An answer in DataGOL's error envelope."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(status, message)
        self.body = envelope(status, message, (code,))


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def validate(body: Any) -> dict[str, Any]:
    """The ExtractionDTO of a request body, or Refused (400) naming the field."""
    if not isinstance(body, dict):
        raise Refused(400, "Request body must be an ExtractionDTO object", "INVALID_BODY")
    for key in _REQUIRED:
        if body.get(key) in (None, ""):
            raise Refused(400, f"{key} is required", "FIELD_REQUIRED")
    for key, allowed in (
        ("extractionMode", MODES),
        ("elementType", ELEMENT_TYPES),
        ("scheduleType", SCHEDULE_TYPES),
    ):
        if body.get(key) is not None and body[key] not in allowed:
            raise Refused(400, f"{key} must be one of {', '.join(allowed)}", "INVALID_ENUM")
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise Refused(400, f"{key} must be a string", "INVALID_TYPE")
    for key in _OBJECTS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            raise Refused(400, f"{key} must be an object", "INVALID_TYPE")
    for key in ("primaryKeyColumnId", "elementIds"):
        value = body.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise Refused(400, f"{key} must be an array of strings", "INVALID_TYPE")
    if len(set(body["primaryKeyColumnId"])) != len(body["primaryKeyColumnId"]):
        raise Refused(400, "primaryKeyColumnId must hold unique ids", "DUPLICATE_VALUE")
    columns = body.get("columnConfiguration")
    if columns is not None and (
        not isinstance(columns, list)
        or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns)
    ):
        raise Refused(400, "columnConfiguration must be an array of columns with a name", "INVALID")
    if body.get("storeExtractedData") is not None and not isinstance(
        body["storeExtractedData"], bool
    ):
        raise Refused(400, "storeExtractedData must be a boolean", "INVALID_TYPE")
    unit = ((body.get("schedule") or {}).get("basicSchedule") or {}).get("timeUnit")
    if unit is not None and unit not in TIME_UNITS:
        raise Refused(400, f"timeUnit must be one of {', '.join(TIME_UNITS)}", "INVALID_ENUM")
    return body


def _filled(config: dict[str, Any]) -> dict[str, Any]:
    """What DataGOL adds to and reorders in a stored configuration."""
    if not config.get("llmModel"):
        config["llmModel"] = DEFAULT_MODEL
    config["primaryKeyColumnId"] = sorted(config["primaryKeyColumnId"])
    output = config["outputConfiguration"]
    if output.get("createNewWorkbook") and not output.get("tableId"):
        output["tableId"] = f"tbl-{config['id']}"
    for column in config.get("columnConfiguration") or []:
        column.setdefault("uiMetadata", {"title": column["name"]})
    config.setdefault("storeExtractedData", True)
    config.setdefault("scheduleType", "MANUAL")
    return config


class ExtractionStore:
    """Configurations by integer id; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: dict[int, dict[str, Any]] = {}
        self._next_id = 1001

    @staticmethod
    def matches(method: str, segments: list[str]) -> bool:
        """Whether the request is a configuration call (not a trigger, not Poll Status)."""
        return (
            len(segments) in (6, 7, 8)
            and segments[:4] == PREFIX
            and segments[5] == "extraction"
            and not (len(segments) == 7 and method == "POST")  # .../extraction/test and kin
        )

    def route(self, method: str, segments: list[str], data: bytes) -> tuple[int, Any]:
        """(status, body) of one configuration call; HttpError for a refusal."""
        workspace = segments[4]
        try:
            uuid.UUID(workspace)
        except ValueError:
            raise Refused(
                400, f"workspaceId must be a UUID, got {workspace!r}", "INVALID"
            ) from None
        if len(segments) == 6:
            _allow(method, "POST")
            return 200, self.create(workspace, _json(data))
        if len(segments) == 7:
            _allow(method, "PUT", "DELETE")
            ident = _int_id(segments[6])
            if method == "PUT":
                return 200, self.update(workspace, ident, _json(data))
            self.delete(workspace, ident)
            return 200, None
        _allow(method, "GET")
        return 200, self.of_element(workspace, segments[6], segments[7])

    def create(self, workspace: str, body: Any) -> dict[str, Any]:
        config = {k: v for k, v in validate(body).items() if k not in SERVER_KEPT}
        with self._lock:
            ident, self._next_id = self._next_id, self._next_id + 1
            now = _now()
            config.update(
                id=ident,
                workspaceId=workspace,
                companyId=COMPANY_ID,
                createdBy="emulator",
                modifiedBy="emulator",
                createDate=now,
                modiDate=now,
                lastExtractedAt=None,
                isIndexCreated=False,
            )
            self._configs[ident] = _filled(config)
            return copy.deepcopy(config)

    def update(self, workspace: str, ident: int, body: Any) -> dict[str, Any]:
        changes = {k: v for k, v in validate(body).items() if k not in SERVER_KEPT}
        with self._lock:
            config = self._found(workspace, ident)
            config.update(changes, modifiedBy="emulator", modiDate=_later(config["modiDate"]))
            return copy.deepcopy(_filled(config))

    def delete(self, workspace: str, ident: int) -> None:
        with self._lock:
            self._found(workspace, ident)
            del self._configs[ident]

    def of_element(self, workspace: str, element_type: str, element_id: str) -> list[dict]:
        if element_type not in ELEMENT_TYPES:
            raise Refused(400, f"elementType must be one of {', '.join(ELEMENT_TYPES)}", "INVALID")
        with self._lock:
            return [
                copy.deepcopy(c)
                for c in self._configs.values()
                if c["workspaceId"] == workspace
                and c["elementType"] == element_type
                and (c.get("elementId") == element_id or element_id in (c.get("elementIds") or []))
            ]

    def _found(self, workspace: str, ident: int) -> dict[str, Any]:
        config = self._configs.get(ident)
        if config is None or config["workspaceId"] != workspace:
            raise Refused(404, f"Extraction {ident} not found", "EXTRACTION_NOT_FOUND")
        return config

    # -- out of band, for tests (the control API) --

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._configs.values()]

    def edit(self, ident: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields as DataGOL's UI would (modiDate moves on)."""
        with self._lock:
            config = self._configs.get(ident)
            if config is None:
                raise ValueError(f"no extraction configuration {ident}")
            config.update(copy.deepcopy(changes), modiDate=_later(config["modiDate"]))
            return copy.deepcopy(config)

    def remove(self, ident: int) -> bool:
        with self._lock:
            return self._configs.pop(ident, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._configs.clear()


def _later(previous: str) -> str:
    # Two changes within one millisecond must still show a new modiDate.
    now = _now()
    while now <= previous:
        time.sleep(0.001)
        now = _now()
    return now


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        names = ", ".join(allowed)
        raise HttpError(405, f"{method} not allowed; use {names}", headers={"Allow": names})


def _int_id(raw: str) -> int:
    if not raw.isdigit():
        raise Refused(400, f"id must be an integer (int64), got {raw!r}", "INVALID_ID")
    return int(raw)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError:
        raise Refused(400, "Request body is not valid JSON", "INVALID_BODY") from None
