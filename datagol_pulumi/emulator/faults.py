"""Faults injected on demand: an HTTP status, a delay or a dropped connection."""

from __future__ import annotations

import copy
import threading
from typing import Any

from .common import json_object, number_check

FAULT_KEYS = frozenset(
    {
        "status",
        "count",
        "retry_after",
        "path_contains",
        "method",
        "body",
        "content_type",
        "delay",
        "close",
        "after",
    }
)


def make_fault(
    status: int | None = 503,
    count: int = 1,
    retry_after: int | float | str | None = None,
    path_contains: str | None = None,
    method: str | None = None,
    body: Any = None,
    content_type: str = "application/json",
    delay: float = 0.0,
    close: bool = False,
    after: bool = False,
) -> dict[str, Any]:
    """``after``: handle the request first, then drop the connection (with ``close``): the
    answer of a request that took effect is lost (only extraction configuration calls)."""
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise ValueError("status must be an HTTP status code (100-599) or None")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, (int, float, str))
    ):
        raise ValueError("retry_after must be a number, a string or None")
    if path_contains is not None and not isinstance(path_contains, str):
        raise ValueError("path_contains must be a string or None")
    if method is not None and not isinstance(method, str):
        raise ValueError("method must be a string or None")
    if not isinstance(content_type, str) or not content_type:
        raise ValueError("content_type must be a non-empty string")
    # Both end up in response headers; a line break would forge extra headers.
    if any("\r" in str(v) or "\n" in str(v) for v in (content_type, retry_after)):
        raise ValueError("content_type and retry_after must not contain line breaks")
    delay = number_check("delay")(delay)
    if not isinstance(close, bool):
        raise ValueError("close must be a boolean")
    if not isinstance(after, bool) or (after and not close):
        raise ValueError("after must be a boolean, and needs close=True")
    if after:
        status = None
    if status is None and not close and delay == 0:
        raise ValueError("a fault needs a status, a delay or close=True")
    if body is None and status is not None:
        body = {"message": f"Injected fault {status}"}
    return {
        "status": status,
        "count": count,
        "retry_after": retry_after,
        "path_contains": path_contains,
        "method": method.upper() if method else None,
        "body": body,
        "content_type": content_type,
        "delay": delay,
        "close": close,
        "after": after,
    }


def fault_kwargs(payload: Any) -> dict[str, Any]:
    kwargs = json_object(payload, "fault")
    unknown = sorted(set(kwargs) - FAULT_KEYS)
    if unknown:
        raise ValueError(
            f"Unknown fault field(s): {', '.join(unknown)}; valid: {', '.join(sorted(FAULT_KEYS))}"
        )
    return kwargs


class FaultQueue:
    """Faults waiting for the requests they match, first in first out; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[dict[str, Any]] = []

    def add(self, **fault: Any) -> dict[str, Any]:
        """Queue a fault (the arguments of `make_fault`); returns a copy of it."""
        made = make_fault(**fault)
        with self._lock:
            self._faults.append(made)
        return copy.deepcopy(made)

    def pending(self) -> list[dict[str, Any]]:
        """Copies of the pending faults (remaining counts)."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> dict[str, Any] | None:
        """The first fault matching this request, its count lowered by one."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault["path_contains"] is not None and fault["path_contains"] not in path:
                    continue
                if fault["method"] is not None and fault["method"] != method.upper():
                    continue
                fault["count"] -= 1
                if fault["count"] <= 0:
                    del self._faults[index]
                return dict(fault)
            return None
