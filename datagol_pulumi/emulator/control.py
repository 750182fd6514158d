"""The control API under `/_emulator/` (requests, faults, config, jobs, reset) and
`EmulatorControl`, its client for an emulator running in another process."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .common import HttpError, MiB, json_object, redacted_settings
from .faults import fault_kwargs

if TYPE_CHECKING:
    from .handler import Handler
    from .server import Emulator

_CONTROL_BODY_LIMIT = 16 * MiB


def serve_control(handler: Handler, emulator: Emulator, raw_path: str, raw_query: str) -> int:
    """Answer one `/_emulator/` request; returns the status sent."""
    method = handler.command
    headers: dict[str, str] = {}
    try:
        data, _ = handler.read_body(_CONTROL_BODY_LIMIT)
        if data is None:
            raise HttpError(413, "Control request body too large")
        payload: Any = None
        if data.strip():
            try:
                payload = json.loads(data)
            except ValueError as exc:
                raise HttpError(400, f"Request body is not valid JSON: {exc}") from None
        status, body = _route(emulator, method, raw_path, raw_query, payload)
    except HttpError as exc:
        if exc.close:
            handler.close_connection = True
        status, body, headers = exc.status, {"message": exc.message}, exc.headers
    except ValueError as exc:
        status, body = 400, {"message": str(exc)}
    handler.write(status, body, headers=headers)
    return status


def _route(
    emulator: Emulator, method: str, path: str, raw_query: str, payload: Any
) -> tuple[int, Any]:
    routes: dict[str, dict[str, Callable[[], Any]]] = {
        "/_emulator/health": {"GET": lambda: {"ok": True}},
        "/_emulator/requests": {
            "GET": lambda: emulator.requests(**_filters(raw_query)),
            "DELETE": lambda: (emulator.clear_requests(), {"ok": True})[1],
        },
        "/_emulator/faults": {
            "GET": emulator.faults,
            "POST": lambda: emulator.add_fault(**fault_kwargs(payload)),
            "DELETE": lambda: (emulator.clear_faults(), {"ok": True})[1],
        },
        "/_emulator/config": {
            "GET": lambda: redacted_settings(emulator.settings),
            "POST": lambda: (
                emulator.configure(**json_object(payload, "settings")),
                redacted_settings(emulator.settings),
            )[1],
        },
        "/_emulator/revoke": {
            "POST": lambda: {"ok": True, "revoked": emulator.revoke_access_tokens()}
        },
        "/_emulator/jobs": {"GET": lambda: emulator.jobs},
        # Out-of-band changes to extraction configurations, as DataGOL's UI makes them.
        "/_emulator/extractions": {
            "GET": emulator.extraction_configs,
            "POST": lambda: emulator.edit_extraction(
                _ident(payload), **json_object((payload or {}).get("changes"), "changes")
            ),
            "DELETE": lambda: {"deleted": emulator.delete_extraction(_ident(payload))},
        },
        "/_emulator/jobs/finish": {"POST": lambda: {"finished": emulator.finish_jobs()}},
        "/_emulator/reset": {"POST": lambda: (emulator.reset(), {"ok": True})[1]},
    }
    route = routes.get(path.rstrip("/"))
    if route is None:
        raise HttpError(404, f"No control endpoint {path}")
    action = route.get(method)
    if action is None:
        allowed = ", ".join(route)
        raise HttpError(
            405, f"{method} not allowed on {path}; use {allowed}", headers={"Allow": allowed}
        )
    return 200, action()


def _ident(payload: Any) -> int:
    ident = json_object(payload, "request").get("id")
    if isinstance(ident, bool) or not isinstance(ident, (int, str)) or not str(ident).isdigit():
        raise ValueError("id must be the configuration's integer id")
    return int(ident)


def _filters(raw_query: str) -> dict[str, str | None]:
    query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    return {"path_contains": query.get("path_contains"), "method": query.get("method")}


class EmulatorControl:
    """Control a running emulator from another process through its `/_emulator/` API."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Loopback only: never route control calls through an HTTP(S)_PROXY from the env.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw)["message"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode("utf-8", errors="replace")
            if exc.code == 400:
                raise ValueError(message) from None
            raise RuntimeError(f"Emulator control {method} {path}: {exc.code} {message}") from None
        return json.loads(raw) if raw else None

    def health(self) -> bool:
        """True when the emulator answers its health check, False when it is unreachable."""
        try:
            return bool(self._call("GET", "/_emulator/health").get("ok"))
        except (OSError, RuntimeError, ValueError):
            return False

    def wait_ready(self, timeout: float = 10.0) -> EmulatorControl:
        """Block until health() is True; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.health():
            if time.monotonic() > deadline:
                raise TimeoutError(f"DataGOL emulator at {self.url} not ready after {timeout}s")
            time.sleep(0.05)
        return self

    def requests(
        self, path_contains: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        query = {
            k: v for k, v in (("path_contains", path_contains), ("method", method)) if v is not None
        }
        suffix = "?" + urllib.parse.urlencode(query) if query else ""
        return self._call("GET", "/_emulator/requests" + suffix)

    def clear_requests(self) -> None:
        self._call("DELETE", "/_emulator/requests")

    def add_fault(
        self,
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
        return self._call(
            "POST",
            "/_emulator/faults",
            {
                "status": status,
                "count": count,
                "retry_after": retry_after,
                "path_contains": path_contains,
                "method": method,
                "body": body,
                "content_type": content_type,
                "delay": delay,
                "close": close,
                "after": after,
            },
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "/_emulator/faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_emulator/faults")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings; returns the new settings with secrets shown as sha256."""
        return self._call("POST", "/_emulator/config", settings)

    @property
    def settings(self) -> dict[str, Any]:
        """Current settings, with tokens and OAuth secrets shown as "sha256:<hex>"."""
        return self._call("GET", "/_emulator/config")

    def revoke_access_tokens(self) -> int:
        return self._call("POST", "/_emulator/revoke")["revoked"]

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self._call("GET", "/_emulator/jobs")

    def extraction_configs(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_emulator/extractions")

    def edit_extraction(self, ident: int, **changes: Any) -> dict[str, Any]:
        return self._call("POST", "/_emulator/extractions", {"id": ident, "changes": changes})

    def delete_extraction(self, ident: int) -> bool:
        return self._call("DELETE", "/_emulator/extractions", {"id": ident})["deleted"]

    def finish_jobs(self) -> int:
        return self._call("POST", "/_emulator/jobs/finish")["finished"]

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset")
