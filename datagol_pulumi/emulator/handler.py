"""HTTP plumbing of the emulator: the server, the request handler, reading request bodies."""

from __future__ import annotations

import json
import selectors
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .common import HttpError, MiB
from .control import serve_control
from .service import serve_api

if TYPE_CHECKING:
    from .server import Emulator

# Beyond this an oversized body is not drained; the connection is closed instead.
_DRAIN_LIMIT = 256 * MiB


class Server(ThreadingHTTPServer):
    """A threading HTTP server that stops at once and drops kept-alive connections."""

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
        super().__init__(address, Handler)

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


class Handler(BaseHTTPRequestHandler):
    """HTTP plumbing; what to answer is decided by `serve_api` and `serve_control`."""

    protocol_version = "HTTP/1.1"
    server_version = "datagol-emulator"
    # TCP_NODELAY on accepted sockets (StreamRequestHandler.setup does the setsockopt).
    disable_nagle_algorithm = True
    server: Server

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
            self.write(code, {"message": message or _reason(code)})
        except OSError:
            pass

    def write(
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

    def read_body(self, limit: int) -> tuple[bytes | None, int]:
        """Read the request body; (None, size) when it exceeds `limit` (it is then discarded)."""
        data, size, drained = read_body(self.rfile, self.headers, limit)
        if not drained:
            self.close_connection = True
        return data, size

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
                status = serve_control(self, emulator, raw_path, raw_query)
            else:
                status = serve_api(self, emulator, raw_path, raw_query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug in the emulator: answer 500 rather than hang the client
            traceback.print_exc()
            self.close_connection = True
            status = 500
            try:
                self.write(500, {"message": "Emulator internal error"})
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

    def respond(
        self,
        record: dict[str, Any],
        status: int,
        body: Any,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        request_id: str | None = None,
        job_id: str | None = None,
        close: bool = False,
    ) -> int:
        """Record the answer, then send it; returns the status."""
        if close:
            self.close_connection = True
        # Record before writing so a test that has the response also sees the final record.
        self.server.emulator.request_log.update(
            record, status=status, request_id=request_id, job_id=job_id
        )
        self.write(status, body, content_type=content_type, headers=headers)
        return status


def read_body(rfile: Any, headers: Any, limit: int) -> tuple[bytes | None, int, bool]:
    """(body, size, whether the connection can be reused); body None when over `limit`."""
    transfer_encoding = (headers.get("Transfer-Encoding") or "").lower()
    if "chunked" in transfer_encoding:
        data, total = _read_chunked(rfile, limit)
        return data, total, True
    raw_length = headers.get("Content-Length")
    if raw_length is None:
        return b"", 0, True
    try:
        length = int(raw_length)
        if length < 0:
            raise ValueError
    except ValueError:
        raise HttpError(400, f"Invalid Content-Length {raw_length!r}", close=True) from None
    if length > limit:
        if length > _DRAIN_LIMIT:
            return None, length, False
        # Drain so that the client, still sending, reads our 413 instead of a reset.
        _discard(rfile, length)
        return None, length, True
    data = rfile.read(length)
    if len(data) != length:
        raise ConnectionResetError("client closed the connection mid-body")
    return data, length, True


def _discard(rfile: Any, length: int) -> None:
    while length > 0:
        chunk = rfile.read(min(length, MiB))
        if not chunk:
            raise ConnectionResetError("client closed the connection mid-body")
        length -= len(chunk)


def _read_chunked(rfile: Any, limit: int) -> tuple[bytes | None, int]:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionResetError("client closed the connection mid-body")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HttpError(400, "Malformed chunked body", close=True) from None
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailers are ignored
            break
        total += size
        if total > limit:
            _discard(rfile, size)
        else:
            data = rfile.read(size)
            if len(data) != size:
                raise ConnectionResetError("client closed the connection mid-body")
            parts.append(data)
        rfile.readline()  # CRLF after each chunk
    if total > limit:
        return None, total
    return b"".join(parts), total


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
