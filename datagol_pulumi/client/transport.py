"""HTTP transport: one ``requests`` session whose resends are decided by urllib3's ``Retry``.

Resend rules (AI extraction jobs cost credits and the API has no idempotency key):

* A POST is resent only when the service cannot have started a job: the connection could not
  be made (nothing was sent), or the answer was 429 or 503 *with* ``Retry-After`` (the service
  says it refused the request and when to come back).
* A GET (Poll Status) changes nothing, so it is also resent on 429, 502, 503 and 504 without
  ``Retry-After`` and on read errors (a timeout or a dropped connection after sending).
* Never resent: DNS failures, TLS errors and invalid URLs (a resend cannot fix them).
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
from urllib3.util.retry import Retry

from ..config import Settings
from .failures import transport_error

#: Replies above this are not read further: nothing sane the API sends is this large.
MAX_RESPONSE_BYTES = 1024 * 1024
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


class Reply:
    """A response whose body was read with a size cap."""

    def __init__(self, response: requests.Response, body: bytes, truncated: bool) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = body
        self.truncated = truncated
        retries = getattr(response.raw, "retries", None)
        #: How many times the request was sent, resends included.
        self.attempts = len(retries.history) + 1 if retries is not None else 1


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
        self._session = session or self._new_session(pool_size)

    def new_adapter(self, pool_size: int = 4) -> HTTPAdapter:
        """An adapter with the resend rules, for this session or another (the OAuth one)."""
        return HTTPAdapter(
            pool_connections=4,
            pool_maxsize=pool_size,
            max_retries=ResendPolicy.for_settings(self.settings),
        )

    def _new_session(self, pool_size: int) -> requests.Session:
        session = requests.Session()
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
        """Send with resends per the rules; raises TransportError when no answer came back."""
        try:
            with request_deadline(self.settings.retry_deadline):
                response = self._session.request(
                    method,
                    url,
                    data=data,
                    headers=dict(headers or {}),
                    timeout=self.timeout,
                    verify=self.verify,
                    allow_redirects=False,
                    stream=True,
                )
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise transport_error(self.settings, method, url, exc) from None
        return _read_capped(response)


def _read_capped(response: requests.Response) -> Reply:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                response.close()  # stop reading; the connection is not reused
                break
    except requests.exceptions.RequestException:
        # The status line arrived; an unreadable body is handled like an empty one.
        response.close()
        chunks, size = [], 0
    body = b"".join(chunks)
    return Reply(response, body[:MAX_RESPONSE_BYTES], size > MAX_RESPONSE_BYTES)


__all__ = [
    "MAX_RESPONSE_BYTES",
    "Reply",
    "ResendPolicy",
    "Transport",
    "request_deadline",
]
