"""The record of every API request the emulator received, with credentials left out."""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

# Credentials never go into recorded headers.
SECRET_HEADERS = frozenset({"authorization", "x-auth-token", "cookie", "proxy-authorization"})


def recorded_headers(items: Any) -> dict[str, str]:
    """Headers by lower-case name (repeats joined with ", "), credentials left out."""
    headers: dict[str, str] = {}
    for name, value in items:
        lower = name.lower()
        if lower in SECRET_HEADERS:
            continue
        headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
    return headers


def recorded_body(data: bytes | None) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")


class RequestLog:
    """Records, oldest first; thread-safe, and read only as copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._seq = 0

    def arrived(
        self,
        method: str,
        path: str,
        segments: list[str],
        query: dict[str, str],
        headers: dict[str, str],
        auth: dict[str, Any],
        body: Any,
        body_bytes: int,
    ) -> dict[str, Any]:
        # Recorded on arrival (status None until answered) so a test whose client timed out
        # still sees that the request reached the server.
        with self._lock:
            self._seq += 1
            record = {
                "seq": self._seq,
                "time": time.time(),
                "method": method,
                "path": path,
                "segments": segments,
                "query": query,
                "headers": headers,
                "auth": auth,
                "body": body,
                "body_bytes": body_bytes,
                "status": None,
                "request_id": None,
                "job_id": None,
                "fault": False,
            }
            self._records.append(record)
            return record

    def update(self, record: dict[str, Any], **fields: Any) -> None:
        with self._lock:
            record.update(fields)

    def matching(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Copies of the recorded requests, oldest first, optionally filtered."""
        with self._lock:
            matching = [
                r
                for r in self._records
                if (path_contains is None or path_contains in r["path"])
                and (method is None or r["method"] == method.upper())
            ]
            return copy.deepcopy(matching)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
