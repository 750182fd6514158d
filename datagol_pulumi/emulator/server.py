"""The DataGOL emulator: Trigger Extraction, Poll Status and an OAuth 2.0 token endpoint as
documented in the DataGOL notes, over real HTTP on a loopback address.

It records every request (secrets hashed, never stored in plain text), injects faults on demand
and is controllable in-process (`Emulator`) or over HTTP from another process
(`EmulatorControl`, endpoints under `/_emulator/`). The parts: `handler` (HTTP), `service` (the
API side), `jobs`, `faults`, `oauth`, `records`, `control`, `common` (settings).

Standard library only: the emulator must run wherever the package is installed, including the
Pulumi provider process and offline demos.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from .common import (
    DEFAULT_SETTINGS,
    ELEMENT_TYPES,
    RESPONSE_SHAPES,
    is_loopback_host,
    sha256_hex,
    validate_settings,
)
from .control import EmulatorControl
from .extractions import ExtractionStore
from .faults import FaultQueue
from .handler import Server
from .jobs import JobBook
from .oauth import TokenIssuer
from .records import RequestLog


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
        self.request_log = RequestLog()
        self.job_book = JobBook()
        self.extractions = ExtractionStore()
        self.fault_queue = FaultQueue()
        self.token_issuer = TokenIssuer()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> Emulator:
        """Start serving in a daemon thread; a restart after stop() reuses the same port."""
        if self._server is not None:
            return self
        self._server = Server((self._host, self._port), self)
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
        return self.request_log.matching(path_contains, method)

    def clear_requests(self) -> None:
        self.request_log.clear()

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
        """Queue a fault for the next `count` matching non-control requests (FIFO)."""
        return self.fault_queue.add(**{k: v for k, v in locals().items() if k != "self"})

    def clear_faults(self) -> None:
        self.fault_queue.clear()

    def faults(self) -> list[dict[str, Any]]:
        """Copies of the pending faults (remaining counts)."""
        return self.fault_queue.pending()

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
        return self.token_issuer.revoke()

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        """request_id -> job (extraction_id, status, ...), status computed as of now."""
        return self.job_book.views()

    def extraction_configs(self) -> list[dict[str, Any]]:
        """Every extraction configuration held, as Get Extractions answers them."""
        return self.extractions.views()

    def edit_extraction(self, ident: int, **changes: Any) -> dict[str, Any]:
        """Change a configuration out of band, as a user of DataGOL's UI would."""
        return self.extractions.edit(int(ident), changes)

    def delete_extraction(self, ident: int) -> bool:
        """Delete a configuration out of band; False when there was none."""
        return self.extractions.remove(int(ident))

    def finish_jobs(self) -> int:
        """End every job still running now, with its final status; how many there were."""
        return self.job_book.finish()

    def reset(self) -> None:
        """Back to the constructor's settings, with no records, jobs, faults or issued tokens."""
        with self._lock:
            self._settings = copy.deepcopy(self._initial_settings)
        self.request_log.clear()
        self.job_book.clear()
        self.extractions.clear()
        self.fault_queue.clear()
        self.token_issuer.clear()


__all__ = [
    "DEFAULT_SETTINGS",
    "ELEMENT_TYPES",
    "RESPONSE_SHAPES",
    "Emulator",
    "EmulatorControl",
    "is_loopback_host",
    "sha256_hex",
]
