"""Whether a request's bytes may have left: the fact behind every "was it sent?" answer.

The exception alone cannot say: urllib3 2.x reports a reset during the TLS handshake and a reset
while the request is being written alike, as ``ProtocolError('Connection aborted.', ...)``, and
a stalled handshake as a *read* timeout. So the connections record it instead:

* every attempt (resends included: urllib3 calls the pool's ``urlopen`` once per attempt)
  starts as NOT_WRITTEN;
* the connection marks WRITTEN just before it writes the first byte of the request, once it is
  connected. Connecting (TCP, a proxy's CONNECT, the TLS handshake) writes nothing of the
  request, so it does not count, and every byte of a request goes through ``send``.

The mark is a ContextVar: urllib3 sends on the caller's thread, so the transport reads back the
state of its own request. Cost per request: one ContextVar set per attempt and per ``send`` call
(two or three), tenths of a microsecond each.

Only pools built by :class:`TrackedAdapter` are tracked (not SOCKS proxies, nor a session a
caller brings): for those the state stays PREPARING and proves nothing.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

#: The request has reached no tracked connection pool (requests is still preparing it, or an
#: untracked pool sends it).
PREPARING = 0
#: A tracked attempt is under way and has written nothing of the request yet.
NOT_WRITTEN = 1
#: A tracked attempt has started writing the request: the service may have read it.
WRITTEN = 2

_STATE: ContextVar[int] = ContextVar("datagol_request_written", default=PREPARING)


def begin() -> Token[int]:
    """Start a request on this thread: nothing written; ``end`` with the token afterwards."""
    return _STATE.set(PREPARING)


def end(token: Token[int]) -> None:
    _STATE.reset(token)


def state() -> int:
    """PREPARING, NOT_WRITTEN or WRITTEN, for the latest attempt of this thread's request."""
    return _STATE.get()


class _Tracked:
    """Marks WRITTEN just before the first byte of a request leaves, after connecting."""

    _connecting = False

    def connect(self) -> None:
        # http.client's _tunnel writes the proxy's CONNECT through send(): not the request.
        self._connecting = True
        try:
            super().connect()  # type: ignore[misc]
        finally:
            self._connecting = False

    def send(self, data: Any) -> None:
        if not self._connecting:
            if self.sock is None and self.auto_open:  # type: ignore[attr-defined]
                # What http.client's send does first (plain http connects lazily): connect
                # before the mark, so that a refused connection counts as nothing written.
                self.connect()
            _STATE.set(WRITTEN)
        super().send(data)  # type: ignore[misc]


class TrackedHTTPConnection(_Tracked, HTTPConnection):
    pass


class TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _TrackedPool:
    def urlopen(self, *args: Any, **kwargs: Any) -> Any:
        _STATE.set(NOT_WRITTEN)  # one call per attempt: a resend starts afresh
        return super().urlopen(*args, **kwargs)  # type: ignore[misc]


class TrackedHTTPConnectionPool(_TrackedPool, HTTPConnectionPool):
    ConnectionCls = TrackedHTTPConnection


class TrackedHTTPSConnectionPool(_TrackedPool, HTTPSConnectionPool):
    ConnectionCls = TrackedHTTPSConnection


POOL_CLASSES = {"http": TrackedHTTPConnectionPool, "https": TrackedHTTPSConnectionPool}


class TrackedAdapter(HTTPAdapter):
    """requests' adapter with tracked pools, direct and through an http(s) proxy."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS manager's pools do the SOCKS handshake: left as they are, untracked.
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


__all__ = [
    "NOT_WRITTEN",
    "POOL_CLASSES",
    "PREPARING",
    "WRITTEN",
    "TrackedAdapter",
    "begin",
    "end",
    "state",
]
