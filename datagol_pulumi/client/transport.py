"""HTTP transport: one ``requests`` session whose resends are decided by urllib3's ``Retry``.

Resend rules (AI extraction jobs cost credits and the API has no idempotency key):

* A POST is resent only when the service cannot have started a job: the connection could not
  be made (nothing was sent), or the answer was 429 or 503 *with* ``Retry-After`` (the service
  says it refused the request and when to come back).
* A GET (Poll Status) changes nothing, so it is also resent on 429, 502, 503 and 504 without
  ``Retry-After`` and on read errors (a timeout or a dropped connection after sending).
* Never resent: DNS failures, TLS errors and invalid URLs (a resend cannot fix them).
* Whether a request that got no answer may have reached the service is not guessed from the
  exception: the connections record whether its bytes may have left (``tracking``), and
  ``failures.transport_error`` turns that and the exception into the error. The rules above do
  not change with it: a POST whose TLS handshake was reset or timed out is reported as "nothing
  was sent" but, as before, not resent now (urllib3 counts it as a read error); the next
  ``pulumi up`` sends it.
* Every resend, and every wait for ``Retry-After``, must end before the request's deadline
  (``retry_deadline`` seconds after it was first sent); ``max_retries`` bounds their number.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.util.retry import Retry

from ..config import Settings
from . import tracking
from .failures import proxy_shown, transport_error
from .reply import MAX_RESPONSE_BYTES, Reply, read_capped

#: Statuses a GET is resent on even without Retry-After.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
#: Failures no resend can fix.
_NEVER_RESENT = (
    urllib3.exceptions.NameResolutionError,
    urllib3.exceptions.SSLError,
    urllib3.exceptions.LocationParseError,
)

# The deadline (time.monotonic) of the request being sent on this thread. urllib3 hands the
# same Retry object to every request of a pool, so a per-request deadline cannot live on it.
_DEADLINE: ContextVar[float | None] = ContextVar("datagol_request_deadline", default=None)


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[None]:
    """Resends (and waits for them) started inside this block end within ``seconds``."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class ResendPolicy(Retry):
    """urllib3's ``Retry`` with the resend rules above; only GET is "idempotent" to it."""

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    @classmethod
    def for_settings(cls, settings: Settings) -> ResendPolicy:
        return cls(
            total=settings.max_retries,
            other=0,  # anything neither a connect nor a read error (TLS among them)
            redirect=False,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=TRANSIENT_STATUSES,
            backoff_factor=0.25,
            backoff_max=8.0,
            # The last answer (429, 503, ...) comes back to be reported with its message.
            raise_on_status=False,
        )

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self._is_method_retryable(method):
            return super().is_retry(method, status_code, has_retry_after)
        # A POST is resent only on a refusal (no job started) that says when to come back.
        return bool(self.total) and has_retry_after and status_code in self.RETRY_AFTER_STATUS_CODES

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except urllib3.exceptions.InvalidHeader:
            return None  # an unreadable Retry-After: back off as if there were none

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> ResendPolicy:
        if error is not None and isinstance(error, _NEVER_RESENT):
            raise urllib3.exceptions.MaxRetryError(_pool, url, error) from error
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        deadline = _DEADLINE.get()
        if deadline is not None and time.monotonic() + new._next_wait(response) > deadline:
            reason = error or urllib3.exceptions.ResponseError("retry deadline reached")
            raise urllib3.exceptions.MaxRetryError(_pool, url, reason) from error
        return new

    def _next_wait(self, response: Any) -> float:
        if response is not None and self.respect_retry_after_header:
            if response.status in self.RETRY_AFTER_STATUS_CODES:
                retry_after = self.get_retry_after(response)
                if retry_after is not None:
                    return retry_after
        return self.get_backoff_time()


class Transport:
    """Sends requests with the resend rules, timeouts, TLS settings and a capped read.

    Thread-safe: the provider's gRPC server sends from several threads at once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        user_agent: str,
        session: requests.Session | None = None,
        pool_size: int = 32,
    ) -> None:
        self.settings = settings
        self.user_agent = user_agent
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
        # a session-wide `verify`, but never one given per request; datagol:caBundle must win.
        self.verify: str | bool = settings.ca_bundle or True
        self.timeout = (settings.connect_timeout, settings.request_timeout)
        # HTTP(S)_PROXY and NO_PROXY for the API's host, read once: requests would scan the
        # environment twice on every request (~0.2 ms a trigger), and the provider reads its
        # environment when it is configured, not on every request.
        try:
            self.proxies = requests.utils.get_environ_proxies(settings.base_url)
        except ValueError:
            self.proxies = {}  # an invalid base URL fails on its first request, with its message
        proxy = select_proxy(settings.base_url, self.proxies) if self.proxies else None
        #: The proxy the API is reached through, without its credentials, for messages.
        self.proxy_shown = proxy_shown(proxy)
        # Whether the connections record if a request's bytes left (tracking.py): not in a
        # session a caller brought, nor through a SOCKS proxy; then the exception decides.
        self._tracked = session is None and not (proxy or "").lower().startswith("socks")
        self._session = session or self._new_session(pool_size)

    def new_adapter(self, pool_size: int = 4) -> HTTPAdapter:
        """An adapter with the resend rules, for this session or another (the OAuth one)."""
        return tracking.TrackedAdapter(
            pool_connections=4,
            pool_maxsize=pool_size,
            max_retries=ResendPolicy.for_settings(self.settings),
        )

    def _new_session(self, pool_size: int) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # proxies and CA bundle are given per request (above)
        adapter = self.new_adapter(pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = self.user_agent
        session.headers["Accept"] = "application/json"
        return session

    def close(self) -> None:
        self._session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send with resends per the rules; raises TransportError when no answer came back.

        Any failure before a byte of the request was written (requests refusing a header
        included) is a TransportError with ``may_have_started=False``; another unexpected
        exception once the request may have left is raised as it is.
        """
        mark = tracking.begin()
        try:
            with request_deadline(self.settings.retry_deadline):
                response = self._session.request(
                    method,
                    url,
                    data=data,
                    headers=dict(headers or {}),
                    timeout=self.timeout,
                    verify=self.verify,
                    proxies=self.proxies,
                    allow_redirects=False,
                    stream=True,
                )
        except Exception as exc:
            written = tracking.state() == tracking.WRITTEN if self._tracked else None
            known = isinstance(
                exc, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)
            )
            if not known and written is not False:
                raise
            raise transport_error(
                self.settings, method, url, exc, written=written, proxy=self.proxy_shown
            ) from None
        finally:
            tracking.end(mark)
        return read_capped(response)


__all__ = [
    "MAX_RESPONSE_BYTES",
    "Reply",
    "read_capped",
    "ResendPolicy",
    "Transport",
    "request_deadline",
]
