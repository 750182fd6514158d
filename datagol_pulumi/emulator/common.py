"""What every part of the emulator shares: constants, its settings and their validation.

Standard library only: the emulator must run wherever the package is installed, including the
Pulumi provider process and offline demos.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

MiB = 1024 * 1024

ELEMENT_TYPES = ("COLUMN", "FILE", "FOLDER")

RESPONSE_SHAPES = (
    "requestId",
    "request_id",
    "id",
    "data.requestId",
    "result.id",
    "none",
    "empty",
    "text",
)

DEFAULT_SETTINGS: dict[str, Any] = {
    # None or [] accepts any request, even without credentials (unless OAuth is configured).
    "tokens": None,
    # None: every extraction id exists; otherwise only the listed ones.
    "extractions": None,
    # Get Extractions per "ELEMENTTYPE/elementId": [{"id", "title", ...}] (see listing.py).
    "element_extractions": {},
    "failing_extractions": [],
    "failure_reason": "simulated failure",
    # The final status of a job that succeeds: a service may name it other than COMPLETED.
    "success_status": "COMPLETED",
    "job_seconds": 0.0,
    "job_seconds_by_extraction": {},
    "status_field": "status",
    "response_shape": "requestId",
    "max_body_bytes": 16 * MiB,
    "latency": 0.0,
    "oauth_client_id": None,
    "oauth_client_secret": None,
    "oauth_refresh_token": None,
    "oauth_expires_in": 3600,
    # True: every refresh_token grant answers a new refresh token and revokes the one used,
    # as identity providers with refresh-token rotation do.
    "oauth_rotate_refresh_tokens": False,
    "verbose": False,
}


def sha256_hex(value: str) -> str:
    """Hex sha256 of a UTF-8 string: how tests compare secrets without storing them."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- settings validation ---------------------------------------------------------------------


def _str_list(name: str, allow_none: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None:
            return None if allow_none else []
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"{name} must be a list of strings{' or None' if allow_none else ''}")
        items = list(value)
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"{name} must be a list of strings")
        return items

    return check


def number_check(name: str, integer: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        kinds = (int,) if integer else (int, float)
        # bool is an int subclass; True seconds is a typo, not a duration.
        if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
            kind = "integer" if integer else "number"
            raise ValueError(f"{name} must be a non-negative {kind}")
        return int(value) if integer else float(value)

    return check


def _opt_str(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string or None")
        return value

    return check


def _nonempty_str(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
        return value

    return check


def _seconds_map(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("job_seconds_by_extraction must be a dict {extractionId: seconds}")
    result = {}
    for key, seconds in value.items():
        if not isinstance(key, str):
            raise ValueError("job_seconds_by_extraction keys must be strings")
        result[key] = number_check(f"job_seconds_by_extraction[{key!r}]")(seconds)
    return result


def _response_shape(value: Any) -> str:
    if value not in RESPONSE_SHAPES:
        raise ValueError(f"response_shape must be one of {', '.join(RESPONSE_SHAPES)}")
    return value


def _boolean(name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
        return value

    return check


def _element_extractions(value: Any) -> dict[str, list[dict[str, Any]]]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(c, dict) for c in v)
        for k, v in value.items()
    ):
        raise ValueError(
            "element_extractions must be a dict {'TYPE/elementId': [{'id': ..., 'title': ...}]}"
        )
    return copy.deepcopy(value)


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "tokens": _str_list("tokens", allow_none=True),
    "extractions": _str_list("extractions", allow_none=True),
    "element_extractions": _element_extractions,
    "failing_extractions": _str_list("failing_extractions", allow_none=False),
    "failure_reason": _nonempty_str("failure_reason"),
    "success_status": _nonempty_str("success_status"),
    "job_seconds": number_check("job_seconds"),
    "job_seconds_by_extraction": _seconds_map,
    "status_field": _nonempty_str("status_field"),
    "response_shape": _response_shape,
    "max_body_bytes": number_check("max_body_bytes", integer=True),
    "latency": number_check("latency"),
    "oauth_client_id": _opt_str("oauth_client_id"),
    "oauth_client_secret": _opt_str("oauth_client_secret"),
    "oauth_refresh_token": _opt_str("oauth_refresh_token"),
    "oauth_expires_in": number_check("oauth_expires_in", integer=True),
    "oauth_rotate_refresh_tokens": _boolean("oauth_rotate_refresh_tokens"),
    "verbose": _boolean("verbose"),
}


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Return normalized copies of `settings`; ValueError for unknown names or bad values."""
    unknown = sorted(set(settings) - set(_VALIDATORS))
    if unknown:
        raise ValueError(
            f"Unknown setting(s): {', '.join(unknown)}; valid settings: {', '.join(_VALIDATORS)}"
        )
    return {name: _VALIDATORS[name](value) for name, value in settings.items()}


def redacted_settings(settings: dict[str, Any]) -> dict[str, Any]:
    # The HTTP control API never echoes secrets; hashes still let a caller check them.
    shown = copy.deepcopy(settings)
    if shown["tokens"] is not None:
        shown["tokens"] = ["sha256:" + sha256_hex(t) for t in shown["tokens"]]
    for name in ("oauth_client_secret", "oauth_refresh_token"):
        if shown[name] is not None:
            shown[name] = "sha256:" + sha256_hex(shown[name])
    return shown


class HttpError(Exception):
    """Abort request handling with an HTTP error response."""

    def __init__(
        self,
        status: int,
        message: str,
        close: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close
        self.headers = headers or {}


def json_object(payload: Any, what: str) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ValueError(f"{what} must be a JSON object")
    return payload
