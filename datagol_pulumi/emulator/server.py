"""A loopback HTTP emulator of the DataGOL extraction API.

It implements Trigger Extraction, Poll Status and an OAuth 2.0 token endpoint as documented in
the DataGOL notes, records every request (with secrets hashed, never stored in plain text),
injects faults on demand and is controllable in-process (`Emulator`) or over HTTP from another
process (`EmulatorControl`, endpoints under `/_emulator/`).

Standard library only: the emulator must run wherever the package is installed, including the
Pulumi provider process and offline demos.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import ipaddress
import json
import selectors
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    "failing_extractions": [],
    "failure_reason": "simulated failure",
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
    "verbose": False,
}

# Credentials never go into recorded headers.
_SECRET_HEADERS = frozenset({"authorization", "x-auth-token", "cookie", "proxy-authorization"})
# Form/JSON fields of the token endpoint that are recorded only as sha256.
_SECRET_FIELDS = frozenset(
    {
        "refresh_token",
        "client_secret",
        "access_token",
        "id_token",
        "password",
        "code",
        "code_verifier",
        "assertion",
        "client_assertion",
    }
)
# Beyond this an oversized body is not drained; the connection is closed instead.
_DRAIN_LIMIT = 256 * MiB
_CONTROL_BODY_LIMIT = 16 * MiB
_FAULT_KEYS = frozenset(
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
    }
)


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


def _number(name: str, integer: bool = False) -> Callable[[Any], Any]:
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
        result[key] = _number(f"job_seconds_by_extraction[{key!r}]")(seconds)
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


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "tokens": _str_list("tokens", allow_none=True),
    "extractions": _str_list("extractions", allow_none=True),
    "failing_extractions": _str_list("failing_extractions", allow_none=False),
    "failure_reason": _nonempty_str("failure_reason"),
    "job_seconds": _number("job_seconds"),
    "job_seconds_by_extraction": _seconds_map,
    "status_field": _nonempty_str("status_field"),
    "response_shape": _response_shape,
    "max_body_bytes": _number("max_body_bytes", integer=True),
    "latency": _number("latency"),
    "oauth_client_id": _opt_str("oauth_client_id"),
    "oauth_client_secret": _opt_str("oauth_client_secret"),
    "oauth_refresh_token": _opt_str("oauth_refresh_token"),
    "oauth_expires_in": _number("oauth_expires_in", integer=True),
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


def _redacted_settings(settings: dict[str, Any]) -> dict[str, Any]:
    # The HTTP control API never echoes secrets; hashes still let a caller check them.
    shown = copy.deepcopy(settings)
    if shown["tokens"] is not None:
        shown["tokens"] = ["sha256:" + sha256_hex(t) for t in shown["tokens"]]
    for name in ("oauth_client_secret", "oauth_refresh_token"):
        if shown[name] is not None:
            shown[name] = "sha256:" + sha256_hex(shown[name])
    return shown


def _make_fault(
    status: int | None = 503,
    count: int = 1,
    retry_after: int | float | str | None = None,
    path_contains: str | None = None,
    method: str | None = None,
    body: Any = None,
    content_type: str = "application/json",
    delay: float = 0.0,
    close: bool = False,
) -> dict[str, Any]:
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
    delay = _number("delay")(delay)
    if not isinstance(close, bool):
        raise ValueError("close must be a boolean")
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
    }


class _HttpError(Exception):
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


# --- HTTP server -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        # serve_forever() notices shutdown() only every poll_interval; a wake-up socket makes
        # stop() immediate, which matters for a function-scoped fixture in hundreds of tests.
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, _Handler)

    def serve_until_stopped(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader:
                        return
                    self._handle_request_noblock()

    def stop_serving(self) -> None:
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall for
        # seconds on hosts with broken DNS; we know the name already.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Kept-alive connections would otherwise keep being served by their handler threads
        # after stop(), so a "stopped" emulator would still answer.
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away; nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "datagol-emulator"
    # TCP_NODELAY on accepted sockets (StreamRequestHandler.setup does the setsockopt).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # per-request logging is opt-in (verbose) and never includes headers

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Replaces the stdlib HTML error page (malformed requests, unsupported methods) so that
        # even those answers are JSON and leave in one write.
        self.close_connection = True
        try:
            self._send(code, {"message": message or _reason(code)})
        except OSError:
            pass

    # -- plumbing --

    def _send(
        self,
        status: int,
        body: Any = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Write status line, headers and body in ONE socket write.

        Writing headers and body separately makes the second write wait for the client's
        delayed ACK on a kept-alive connection (~40 ms per request).
        """
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        elif isinstance(body, str):
            payload = body.encode("utf-8")
        else:
            payload = json.dumps(body).encode("utf-8")
        lines = [
            f"HTTP/1.1 {status} {_reason(status)}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
            f"Content-Length: {len(payload)}",
        ]
        if body is not None:
            lines.append(f"Content-Type: {content_type}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)

    def _read_body(self, limit: int) -> tuple[bytes | None, int]:
        """Read the request body; (None, size) when it exceeds `limit` (it is then discarded)."""
        transfer_encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in transfer_encoding:
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b"", 0
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            raise _HttpError(400, f"Invalid Content-Length {raw_length!r}", close=True) from None
        if length > limit:
            if length > _DRAIN_LIMIT:
                self.close_connection = True
            else:
                # Drain so that the client, still sending, reads our 413 instead of a reset.
                self._discard(length)
            return None, length
        data = self.rfile.read(length)
        if len(data) != length:
            raise ConnectionResetError("client closed the connection mid-body")
        return data, length

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, MiB))
            if not chunk:
                raise ConnectionResetError("client closed the connection mid-body")
            length -= len(chunk)

    def _read_chunked(self, limit: int) -> tuple[bytes | None, int]:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionResetError("client closed the connection mid-body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _HttpError(400, "Malformed chunked body", close=True) from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers are ignored
                break
            total += size
            if total > limit:
                self._discard(size)
            else:
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionResetError("client closed the connection mid-body")
                parts.append(data)
            self.rfile.readline()  # CRLF after each chunk
        if total > limit:
            return None, total
        return b"".join(parts), total

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        started = time.monotonic()
        target = self.path
        if target.startswith(("http://", "https://")):
            # Absolute-form request target (sent through proxies): keep path and query only.
            parts = urllib.parse.urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, raw_query = target.partition("?")
        status: int | None = None
        try:
            if raw_path == "/_emulator" or raw_path.startswith("/_emulator/"):
                status = self._control(emulator, raw_path, raw_query)
            else:
                status = self._api(emulator, raw_path, raw_query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug in the emulator: answer 500 rather than hang the client
            traceback.print_exc()
            self.close_connection = True
            status = 500
            try:
                self._send(500, {"message": "Emulator internal error"})
            except OSError:
                pass
        if emulator.settings_value("verbose"):
            millis = (time.monotonic() - started) * 1000
            shown = "closed" if status is None else str(status)
            print(
                f"datagol-emulator: {self.command} {raw_path} -> {shown} ({millis:.1f} ms)",
                file=sys.stderr,
                flush=True,
            )

    # -- control API --

    def _control(self, emulator: Emulator, raw_path: str, raw_query: str) -> int:
        method = self.command
        headers: dict[str, str] = {}
        try:
            data, _ = self._read_body(_CONTROL_BODY_LIMIT)
            if data is None:
                raise _HttpError(413, "Control request body too large")
            payload: Any = None
            if data.strip():
                try:
                    payload = json.loads(data)
                except ValueError as exc:
                    raise _HttpError(400, f"Request body is not valid JSON: {exc}") from None
            status, body = self._control_route(emulator, method, raw_path, raw_query, payload)
        except _HttpError as exc:
            if exc.close:
                self.close_connection = True
            status, body, headers = exc.status, {"message": exc.message}, exc.headers
        except ValueError as exc:
            status, body = 400, {"message": str(exc)}
        self._send(status, body, headers=headers)
        return status

    def _control_route(
        self, emulator: Emulator, method: str, path: str, raw_query: str, payload: Any
    ) -> tuple[int, Any]:
        routes: dict[str, dict[str, Callable[[], Any]]] = {
            "/_emulator/health": {"GET": lambda: {"ok": True}},
            "/_emulator/requests": {
                "GET": lambda: emulator.requests(**_filters(raw_query)),
                "DELETE": lambda: (emulator.clear_requests(), {"ok": True})[1],
            },
            "/_emulator/faults": {
                "GET": emulator.faults,
                "POST": lambda: emulator.add_fault(**_fault_kwargs(payload)),
                "DELETE": lambda: (emulator.clear_faults(), {"ok": True})[1],
            },
            "/_emulator/config": {
                "GET": lambda: _redacted_settings(emulator.settings),
                "POST": lambda: (
                    emulator.configure(**_object(payload, "settings")),
                    _redacted_settings(emulator.settings),
                )[1],
            },
            "/_emulator/revoke": {
                "POST": lambda: {"ok": True, "revoked": emulator.revoke_access_tokens()}
            },
            "/_emulator/jobs": {"GET": lambda: emulator.jobs},
            "/_emulator/reset": {"POST": lambda: (emulator.reset(), {"ok": True})[1]},
        }
        route = routes.get(path.rstrip("/"))
        if route is None:
            raise _HttpError(404, f"No control endpoint {path}")
        action = route.get(method)
        if action is None:
            allowed = ", ".join(route)
            raise _HttpError(
                405, f"{method} not allowed on {path}; use {allowed}", headers={"Allow": allowed}
            )
        return 200, action()

    # -- DataGOL API --

    def _api(self, emulator: Emulator, raw_path: str, raw_query: str) -> int | None:
        # Split the RAW path first: an element id may contain an encoded "/" (%2F).
        segments = [urllib.parse.unquote(s) for s in raw_path.split("/")[1:]]
        query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in _SECRET_HEADERS:
                continue
            headers[lower] = f"{headers[lower]}, {value}" if lower in headers else value
        is_token_endpoint = raw_path.rstrip("/") == "/oauth/token"
        settings = emulator.settings_snapshot()

        try:
            data, body_bytes = self._read_body(settings["max_body_bytes"])
        except _HttpError as exc:
            record = emulator._record_arrival(
                self.command, raw_path, segments, query, headers, _no_auth(), None, 0
            )
            return self._respond(emulator, record, exc.status, {"message": exc.message}, close=True)

        if is_token_endpoint:
            auth, client = _basic_auth(self.headers.get("Authorization"))
            recorded_body = _redacted_token_body(data, headers.get("content-type", ""))
        else:
            client = None
            auth = emulator._check_token(self.headers, settings)
            recorded_body = _recorded_body(data)
        record = emulator._record_arrival(
            self.command, raw_path, segments, query, headers, auth, recorded_body, body_bytes
        )

        if settings["latency"]:
            time.sleep(settings["latency"])
        fault = emulator._take_fault(self.command, raw_path)
        if fault is not None:
            emulator._update_record(record, fault=True)
            if fault["delay"]:
                time.sleep(fault["delay"])
            if fault["close"]:
                # No response at all: the client sees the connection drop.
                self.close_connection = True
                return None
            if fault["status"] is not None:
                extra = {}
                if fault["retry_after"] is not None:
                    extra["Retry-After"] = str(fault["retry_after"])
                return self._respond(
                    emulator,
                    record,
                    fault["status"],
                    fault["body"],
                    content_type=fault["content_type"],
                    headers=extra,
                )
            # Delay-only fault: handle normally after the delay, with current settings.
            settings = emulator.settings_snapshot()

        if data is None:
            limit = settings["max_body_bytes"]
            message = f"Request body of {body_bytes} bytes exceeds the limit of {limit} bytes"
            return self._respond(emulator, record, 413, {"message": message})

        if is_token_endpoint:
            status, body, extra, client_ok = emulator._token_grant(
                self.command, data, headers, client
            )
            emulator._update_record(record, auth={**auth, "valid": client_ok})
            return self._respond(emulator, record, status, body, headers=extra)

        if not auth["valid"]:
            challenge = 'Bearer realm="datagol-emulator"'
            if auth["token_sha256"]:
                challenge += ', error="invalid_token"'
            return self._respond(
                emulator,
                record,
                401,
                {"message": "Invalid or missing token"},
                headers={"WWW-Authenticate": challenge},
            )

        try:
            result = emulator._route_api(self.command, segments, query, data, settings)
        except _HttpError as exc:
            return self._respond(
                emulator, record, exc.status, {"message": exc.message}, headers=exc.headers
            )
        status, body, content_type, returned_id, job_id = result
        return self._respond(
            emulator,
            record,
            status,
            body,
            content_type=content_type,
            request_id=returned_id,
            job_id=job_id,
        )

    def _respond(
        self,
        emulator: Emulator,
        record: dict[str, Any],
        status: int,
        body: Any,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        request_id: str | None = None,
        job_id: str | None = None,
        close: bool = False,
    ) -> int:
        if close:
            self.close_connection = True
        # Record before writing so a test that has the response also sees the final record.
        emulator._update_record(record, status=status, request_id=request_id, job_id=job_id)
        self._send(status, body, content_type=content_type, headers=headers)
        return status


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _filters(raw_query: str) -> dict[str, str | None]:
    query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    return {"path_contains": query.get("path_contains"), "method": query.get("method")}


def _object(payload: Any, what: str) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ValueError(f"{what} must be a JSON object")
    return payload


def _fault_kwargs(payload: Any) -> dict[str, Any]:
    kwargs = _object(payload, "fault")
    unknown = sorted(set(kwargs) - _FAULT_KEYS)
    if unknown:
        raise ValueError(
            f"Unknown fault field(s): {', '.join(unknown)}; valid: {', '.join(sorted(_FAULT_KEYS))}"
        )
    return kwargs


def _no_auth() -> dict[str, Any]:
    return {"scheme": None, "token_sha256": None, "valid": False}


def _recorded_body(data: bytes | None) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")


def _redact(fields: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _SECRET_FIELDS:
            redacted[f"{name}_sha256"] = sha256_hex(value if isinstance(value, str) else str(value))
        else:
            redacted[name] = value
    return redacted


def _redacted_token_body(data: bytes | None, content_type: str) -> Any:
    # Secrets must never be stored in plain text, so anything not understood is dropped.
    if not data:
        return None
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        form = _parse_form(data)
        return _redact(form) if form is not None else None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return _redact(parsed) if isinstance(parsed, dict) else None


def _parse_form(data: bytes) -> dict[str, str] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def _basic_auth(header: str | None) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Parse HTTP Basic client credentials (RFC 6749 2.3.1: form-encoded, then base64)."""
    auth = _no_auth()
    if not header:
        return auth, None
    scheme, _, value = header.strip().partition(" ")
    auth["scheme"] = scheme.lower() or None
    if scheme.lower() != "basic":
        return auth, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return auth, None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return auth, None
    client_id = urllib.parse.unquote_plus(client_id)
    secret = urllib.parse.unquote_plus(secret)
    auth["token_sha256"] = sha256_hex(secret)
    return auth, (client_id, secret)


def _oauth_error(status: int, error: str, description: str) -> tuple[int, Any, dict[str, str]]:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="datagol-emulator"'
    return status, {"error": error, "error_description": description}, headers


# --- public API ------------------------------------------------------------------------------


class Emulator:
    """The DataGOL emulator: a real HTTP server on a loopback address, run in a daemon thread.

    Settings (all changeable at runtime with `configure`): see `DEFAULT_SETTINGS`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"The DataGOL emulator listens on loopback only, not {host!r}")
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._initial_settings = {**copy.deepcopy(DEFAULT_SETTINGS), **validate_settings(settings)}
        self._settings = copy.deepcopy(self._initial_settings)
        self._records: list[dict[str, Any]] = []
        self._seq = 0
        self._jobs: dict[str, dict[str, Any]] = {}
        self._faults: list[dict[str, Any]] = []
        self._issued_tokens: dict[str, float] = {}  # access token -> monotonic expiry
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> Emulator:
        """Start serving in a daemon thread; a restart after stop() reuses the same port."""
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), self)
        # Keep the port for a restart so clients configured with .url keep working.
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_until_stopped,
            name=f"datagol-emulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections. Recorded state is kept."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop_serving()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        server.server_close()
        server.close_connections()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port == 0:
            raise RuntimeError("Emulator not started yet")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host.strip('[]')}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- inspection and control --

    def requests(
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

    def clear_requests(self) -> None:
        with self._lock:
            self._records.clear()

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
    ) -> dict[str, Any]:
        """Queue a fault for the next `count` matching non-control requests (FIFO)."""
        fault = _make_fault(
            status=status,
            count=count,
            retry_after=retry_after,
            path_contains=path_contains,
            method=method,
            body=body,
            content_type=content_type,
            delay=delay,
            close=close,
        )
        with self._lock:
            self._faults.append(fault)
        return copy.deepcopy(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        """Copies of the pending faults (remaining counts)."""
        with self._lock:
            return copy.deepcopy(self._faults)

    def configure(self, **settings: Any) -> None:
        """Change settings at runtime; ValueError (nothing changed) for unknown or bad ones."""
        validated = validate_settings(settings)
        with self._lock:
            self._settings.update(validated)

    @property
    def settings(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._settings)

    def settings_value(self, name: str) -> Any:
        with self._lock:
            return self._settings[name]

    def settings_snapshot(self) -> dict[str, Any]:
        # Values are replaced by configure(), never mutated, so a shallow copy is consistent.
        with self._lock:
            return dict(self._settings)

    def revoke_access_tokens(self) -> int:
        """Invalidate every OAuth access token issued so far; returns how many there were."""
        with self._lock:
            count = len(self._issued_tokens)
            self._issued_tokens.clear()
            return count

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        """request_id -> job (extraction_id, status, ...), status computed as of now."""
        now = time.time()
        with self._lock:
            return {rid: self._job_view(job, now) for rid, job in self._jobs.items()}

    def reset(self) -> None:
        """Back to the constructor's settings, with no records, jobs, faults or issued tokens."""
        with self._lock:
            self._settings = copy.deepcopy(self._initial_settings)
            self._records.clear()
            self._jobs.clear()
            self._faults.clear()
            self._issued_tokens.clear()

    # -- internals used by the handler (thread-safe) --

    def _record_arrival(
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

    def _update_record(self, record: dict[str, Any], **fields: Any) -> None:
        with self._lock:
            record.update(fields)

    def _take_fault(self, method: str, path: str) -> dict[str, Any] | None:
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

    def _oauth_enabled(self, settings: dict[str, Any]) -> bool:
        return any(
            settings[name] is not None
            for name in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token")
        )

    def _check_token(self, headers: Any, settings: dict[str, Any]) -> dict[str, Any]:
        scheme: str | None = None
        token: str | None = None
        authorization = headers.get("Authorization")
        if authorization:
            name, _, value = authorization.strip().partition(" ")
            scheme = name.lower() or None
            if scheme == "bearer":
                token = value.strip() or None
        elif headers.get("x-auth-token") is not None:
            scheme = "x-auth-token"
            token = headers.get("x-auth-token").strip() or None
        # OAuth settings switch enforcement on too: refresh-on-401 must be observable.
        enforced = bool(settings["tokens"]) or self._oauth_enabled(settings)
        valid = not enforced
        if enforced and token is not None:
            if token in (settings["tokens"] or ()):
                valid = True
            else:
                with self._lock:
                    expiry = self._issued_tokens.get(token)
                    if expiry is not None and expiry <= time.monotonic():
                        del self._issued_tokens[token]
                        expiry = None
                valid = expiry is not None
        return {
            "scheme": scheme,
            "token_sha256": sha256_hex(token) if token is not None else None,
            "valid": valid,
        }

    def _token_grant(
        self,
        method: str,
        data: bytes,
        headers: dict[str, str],
        basic_client: tuple[str, str] | None,
    ) -> tuple[int, Any, dict[str, str], bool]:
        """The OAuth 2.0 token endpoint (refresh_token grant), errors per RFC 6749 5.2.

        Returns (status, body, headers, whether the client authenticated).
        """
        settings = self.settings_snapshot()
        if method != "POST":
            return 405, {"message": "Use POST"}, {"Allow": "POST"}, False
        content_type = headers.get("content-type", "").lower()
        is_form = content_type.startswith("application/x-www-form-urlencoded")
        form = (_parse_form(data) if is_form else None) or {}
        if basic_client is not None:
            client_id, client_secret = basic_client
        else:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        expected_id = settings["oauth_client_id"]
        expected_secret = settings["oauth_client_secret"]
        # A setting left None is not checked (e.g. a public client without a secret).
        client_ok = (
            self._oauth_enabled(settings)
            and (expected_id is None or client_id == expected_id)
            and (expected_secret is None or client_secret == expected_secret)
        )

        def error(status: int, code: str, description: str) -> tuple[int, Any, dict, bool]:
            return (*_oauth_error(status, code, description), client_ok)

        if not self._oauth_enabled(settings):
            return error(400, "unsupported_grant_type", "OAuth is not configured")
        if not is_form:
            return error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        grant_type = form.get("grant_type")
        if not grant_type:
            return error(400, "invalid_request", "grant_type is required")
        if grant_type != "refresh_token":
            return error(400, "unsupported_grant_type", f"{grant_type} is not supported")
        if basic_client is not None and "client_secret" in form:
            return error(400, "invalid_request", "Use one client authentication method, not two")
        if not client_ok:
            return error(401, "invalid_client", "Client authentication failed")
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return error(400, "invalid_request", "refresh_token is required")
        expected_refresh = settings["oauth_refresh_token"]
        if expected_refresh is not None and refresh_token != expected_refresh:
            return error(400, "invalid_grant", "The refresh token is invalid")
        access_token = uuid.uuid4().hex + uuid.uuid4().hex
        expires_in = settings["oauth_expires_in"]
        with self._lock:
            self._issued_tokens[access_token] = time.monotonic() + expires_in
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh_token,
        }
        return 200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"}, True

    def _route_api(
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
                raise _HttpError(405, f"{method} not allowed; use POST", headers={"Allow": "POST"})
            return self._trigger(segments, query, data, settings)
        if len(segments) == 6 and segments[:5] == ["noCo", "api", "v1", "requestLog", "status"]:
            if method != "GET":
                raise _HttpError(405, f"{method} not allowed; use GET", headers={"Allow": "GET"})
            return self._poll(segments[5], settings)
        raise _HttpError(404, f"No route for {method} /{'/'.join(segments)}")

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
            raise _HttpError(400, f"workspaceId must be a UUID, got {workspace_id!r}")
        if element_type not in ELEMENT_TYPES:
            raise _HttpError(
                400, f"elementType must be one of {', '.join(ELEMENT_TYPES)}, got {element_type!r}"
            )
        extract_only_new = False
        if "extractOnlyNew" in query:
            raw = query["extractOnlyNew"]
            if raw not in ("true", "false"):
                raise _HttpError(400, f"extractOnlyNew must be 'true' or 'false', got {raw!r}")
            extract_only_new = raw == "true"
        body = _validate_trigger_body(data)
        known = settings["extractions"]
        if known is not None and extraction_id not in known:
            raise _HttpError(
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
            "final_status": "FAILED" if failing else "COMPLETED",
            "failure_reason": settings["failure_reason"] if failing else None,
        }
        with self._lock:
            self._jobs[request_id] = job

        shape = settings["response_shape"]
        triggered = {"status": "QUEUED", "message": "Extraction triggered"}
        if shape == "empty":
            return 200, None, "application/json", None, request_id
        if shape == "text":
            return 200, "OK", "text/plain; charset=utf-8", None, request_id
        if shape == "none":
            return 200, {"message": "Extraction triggered"}, "application/json", None, request_id
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
        return 200, response, "application/json", request_id, request_id

    def _poll(
        self, request_id: str, settings: dict[str, Any]
    ) -> tuple[int, Any, str, str | None, str | None]:
        now = time.time()
        with self._lock:
            job = self._jobs.get(request_id)
            view = self._job_view(job, now) if job is not None else None
        if view is None:
            raise _HttpError(404, f"Request {request_id} not found")
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


def _validate_trigger_body(data: bytes) -> dict[str, Any]:
    if not data.strip():
        return {}  # an empty body means {}: all fields are optional

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")  # Python accepts NaN; Java servers do not

    try:
        body = json.loads(data, parse_constant=reject_constant)
    except ValueError as exc:
        raise _HttpError(400, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _HttpError(400, "Request body must be a JSON object")
    rows = body.get("rows")
    if rows is not None and (
        not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows)
    ):
        raise _HttpError(400, "rows must be a list of JSON objects")
    where = body.get("whereClause")
    if where is not None and not isinstance(where, str):
        raise _HttpError(400, "whereClause must be a string")
    select_all = body.get("selectAll")
    if select_all is not None and not isinstance(select_all, bool):
        raise _HttpError(400, "selectAll must be a boolean")
    if select_all is False and not rows:
        raise _HttpError(400, "rows must be a non-empty list when selectAll is false")
    return body


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

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset")
