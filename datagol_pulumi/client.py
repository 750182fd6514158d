"""The DataGOL HTTP client: one session, one request path, every failure mapped to an error.

Resend rules (AI extraction jobs cost credits and the API has no idempotency key):

* A POST is resent only when the service cannot have started a job: the connection was
  refused or timed out while connecting, or the answer was 429 or 503. ``Retry-After`` is
  honoured; resends are bounded by ``max_retries`` and ``retry_deadline``.
* Anything else after the request went out (500, 502, 504, a read timeout, a dropped
  connection) fails at once with the status and the service's message, saying a job may be running.
* A GET (Poll Status) changes nothing, so it is also retried on any 5xx and connection error.
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3.exceptions

from ._version import __version__
from .config import Settings
from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    DataGolError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .payload import TriggerRequest, status_path

USER_AGENT = f"datagol-pulumi/{__version__} python-requests/{requests.__version__}"
#: Replies above this are not read further: nothing sane the API sends is this large.
MAX_RESPONSE_BYTES = 1024 * 1024
#: Server text quoted in an error message is cut to this many characters.
MAX_MESSAGE_CHARS = 300
_RETRYABLE_STATUSES = (429, 503)
_ID_KEYS = ("requestId", "request_id", "id")
_MESSAGE_KEYS = ("message", "error_description", "errorMessage", "error", "detail", "title")


@dataclass(frozen=True)
class TriggerResult:
    """What Trigger Extraction answered. Its body is undocumented, so every field may be None."""

    request_id: str | None
    status: str | None
    message: str | None


@dataclass(frozen=True)
class RunStatus:
    """One Poll Status answer, classified with the configured status sets."""

    request_id: str
    status: str | None
    #: "succeeded", "failed" or "pending" (anything neither final nor known).
    outcome: str
    message: str | None

    @property
    def final(self) -> bool:
        return self.outcome != "pending"


def utc_now() -> str:
    """The current time as UTC ISO-8601 with a Z, the form of every timestamp output."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def find_request_id(payload: Any) -> str | None:
    """The request id from a Trigger Extraction answer, at the top or under data/result."""
    for scope in _scopes(payload):
        for key in _ID_KEYS:
            value = scope.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def _scopes(payload: Any) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return []
    nested = [payload[k] for k in ("data", "result") if isinstance(payload.get(k), Mapping)]
    return [payload, *nested]


def _find_text(payload: Any, keys: tuple[str, ...]) -> str | None:
    for scope in _scopes(payload):
        for key in keys:
            value = scope.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):  # {"error": {"message": ...}}
                inner = _find_text(value, keys)
                if inner:
                    return inner
    return None


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Reply:
    """A response whose body was read with a size cap."""

    def __init__(self, response: requests.Response, body: bytes, truncated: bool) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = body
        self.truncated = truncated
        self.response = response

    def json(self) -> Any:
        if self.truncated or not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class DataGolClient:
    """A small client for Trigger Extraction and Poll Status.

    Thread-safe: the provider's gRPC server calls it from several threads at once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        pool_size: int = 32,
    ) -> None:
        self.settings = settings
        self._session = session or self._new_session(pool_size)
        self._token_lock = threading.Lock()
        self._oauth_token: str | None = None

    def _new_session(self, pool_size: int) -> requests.Session:
        session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=pool_size, max_retries=0
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json"
        if self.settings.ca_bundle:
            session.verify = self.settings.ca_bundle
        return session

    def close(self) -> None:
        self._session.close()

    # -- the two endpoints ------------------------------------------------------------------

    def trigger(self, request: TriggerRequest, *, target: str = "") -> TriggerResult:
        """POST one Trigger Extraction request; never resent once it may have started a job.

        ``target`` names the workspace, extraction and element for a 404 message.
        """
        reply = self._request(
            "POST",
            request.path,
            params=request.query,
            data=request.data,
            headers={"Content-Type": "application/json"},
            idempotent=False,
            not_found=target or request.path,
        )
        payload = reply.json()
        status = _find_text(payload, ("status", "state"))
        return TriggerResult(
            request_id=find_request_id(payload),
            status=status.upper() if status else None,
            message=_find_text(payload, _MESSAGE_KEYS),
        )

    def poll_status(self, request_id: str) -> RunStatus:
        """GET Poll Status once and classify the answer."""
        reply = self._request(
            "GET", status_path(request_id), idempotent=True, not_found=f"request id {request_id}"
        )
        payload = reply.json()
        fields = dict.fromkeys((self.settings.status_field, "status", "state"))
        raw = _find_text(payload, tuple(fields))
        status = raw.upper() if raw else None
        if status in self.settings.success_statuses:
            outcome = "succeeded"
        elif status in self.settings.failure_statuses:
            outcome = "failed"
        else:
            outcome = "pending"
        message = _find_text(payload, _MESSAGE_KEYS)
        return RunStatus(request_id, status, outcome, self._scrub(message) if message else None)

    def wait_for_run(
        self,
        request_id: str,
        *,
        poll_interval: float,
        timeout: float,
    ) -> tuple[RunStatus, bool]:
        """Poll until a final status or ``timeout`` seconds; returns (last status, timed out)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.poll_status(request_id)
            remaining = deadline - time.monotonic()
            if status.final:
                return status, False
            if remaining <= 0:
                return status, True
            time.sleep(min(poll_interval, remaining))

    # -- the one request path -----------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        not_found: str,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Reply:
        # The query is encoded here once, not by requests on every attempt.
        url = self.settings.base_url + path + (f"?{urlencode(params)}" if params else "")
        started = time.monotonic()
        attempt = 0
        refreshed_token = False
        while True:
            attempt += 1
            error: DataGolError
            retry_after: float | None = None
            try:
                reply = self._send(method, url, data=data, headers=headers)
            except TransportError as exc:
                if exc.may_have_started and not idempotent:
                    raise
                error = exc
            else:
                if 200 <= reply.status < 300:
                    return reply
                if reply.status == 401 and self.settings.uses_oauth and not refreshed_token:
                    # An expired access token: the request was refused, so resending is safe.
                    refreshed_token = True
                    self._invalidate_oauth_token()
                    attempt -= 1
                    continue
                error = self._api_error(method, url, reply, attempt, not_found)
                retryable = reply.status in _RETRYABLE_STATUSES or (
                    idempotent and reply.status >= 500
                )
                if not retryable:
                    raise error
                retry_after = _retry_after(reply.response)
            if attempt > self.settings.max_retries:
                raise error
            delay = retry_after if retry_after is not None else min(0.25 * 2 ** (attempt - 1), 8.0)
            if time.monotonic() - started + delay > self.settings.retry_deadline:
                raise error
            time.sleep(delay)

    def _send(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> _Reply:
        all_headers = dict(headers or {})
        all_headers.update(self._auth_headers())
        try:
            response = self._session.request(
                method,
                url,
                data=data,
                headers=all_headers,
                timeout=(self.settings.connect_timeout, self.settings.request_timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(method, url, exc) from None
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
        return _Reply(response, body[:MAX_RESPONSE_BYTES], size > MAX_RESPONSE_BYTES)

    # -- credentials --------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        token = self._oauth_access_token() if self.settings.uses_oauth else self.settings.token
        if not token:
            return {}
        if self.settings.auth_scheme == "x-auth-token":
            return {"x-auth-token": token}
        return {"Authorization": f"Bearer {token}"}

    def _oauth_access_token(self) -> str:
        with self._token_lock:
            if self._oauth_token is None:
                from .oauth import refresh_access_token  # only OAuth users need the library

                self._oauth_token = refresh_access_token(self.settings, self._session)
            return self._oauth_token

    def _invalidate_oauth_token(self) -> None:
        with self._token_lock:
            self._oauth_token = None

    # -- error mapping ------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self.settings.secrets():
            text = text.replace(secret, "[secret]")
        if self._oauth_token:
            text = text.replace(self._oauth_token, "[secret]")
        return text

    def _server_message(self, reply: _Reply) -> str:
        payload = reply.json()
        text = _find_text(payload, _MESSAGE_KEYS) if payload is not None else None
        if text is None:
            raw = reply.body.decode("utf-8", errors="replace")
            title = re.search(r"<title[^>]*>(.*?)</title>", raw, re.IGNORECASE | re.DOTALL)
            if title:  # an HTML error page from a proxy: its title says it all
                raw = title.group(1)
            raw = re.sub(r"<[^>]+>", " ", raw) if "<" in raw else raw
            text = " ".join(html.unescape(raw).split())
        text = self._scrub(text)
        if len(text) > MAX_MESSAGE_CHARS or reply.truncated:
            text = text[:MAX_MESSAGE_CHARS] + " …(truncated)"
        return text or "(empty body)"

    def _api_error(
        self, method: str, url: str, reply: _Reply, attempts: int, not_found: str
    ) -> ApiError:
        status = reply.status
        message = self._server_message(reply)
        where = f"{method} {url.split('?')[0]}"
        said = f"HTTP {status}: {message}"
        if status in (401, 403):
            if self.settings.uses_oauth or self.settings.token:
                fix = f"Check {self.settings.credentials_hint}"
            else:
                fix = (
                    "No token is configured: set one with "
                    "`pulumi config set --secret datagol:token <token>` or DATAGOL_TOKEN"
                )
            return AuthenticationError(
                f"DataGOL refused the credentials for {where} ({said}). {fix}; auth scheme in use: "
                f"{self.settings.auth_scheme} (datagol:authScheme, 'bearer' or 'x-auth-token').",
                status=status,
                server_message=message,
            )
        if status == 404:
            return NotFoundError(
                f"DataGOL found no {not_found} ({said}). Check the ids, and that the token's "
                "account can see that workspace.",
                status=status,
                server_message=message,
            )
        if status in (400, 422):
            return BadRequestError(
                f"DataGOL rejected {where} ({said}).", status=status, server_message=message
            )
        if status == 413:
            return PayloadTooLargeError(
                f"DataGOL refused the request body as too large ({said}). Set batch_size (or "
                "lower it) to send the rows in smaller requests.",
                status=status,
                server_message=message,
            )
        if status in _RETRYABLE_STATUSES:
            return RateLimitedError(
                f"DataGOL still answered {said} after {attempts} attempt(s) for {where}; no job "
                "was started. Try again later, or raise datagol:maxRetries / datagol:retryDeadline.",
                status=status,
                server_message=message,
            )
        if status >= 500 and method == "POST":
            return ServerError(
                f"DataGOL answered {said} to {where}. The extraction job may have started, so "
                "the request was not resent (a second job would cost credits twice).",
                status=status,
                server_message=message,
            )
        if 300 <= status < 400:
            location = reply.headers.get("Location", "?")
            return ApiError(
                f"DataGOL redirected {where} to {location} ({said}); set datagol:baseUrl to the "
                "service's final address.",
                status=status,
                server_message=message,
            )
        return ApiError(
            f"DataGOL answered {said} to {where}.", status=status, server_message=message
        )

    def _transport_error(self, method: str, url: str, exc: Exception) -> TransportError:
        base = self.settings.base_url
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return TransportError(
                f"Timed out connecting to DataGOL at {base} (datagol:baseUrl); nothing was sent.",
                may_have_started=False,
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return TransportError(
                f"DataGOL did not answer {method} {url.split('?')[0]} within "
                f"{self.settings.request_timeout:g} s after the request was sent. The job may be "
                "running, so it was not resent; raise datagol:requestTimeout for a slow service.",
                may_have_started=True,
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return TransportError(
                f"TLS verification failed for {base}: {type(exc).__name__}. Set datagol:caBundle "
                "(or REQUESTS_CA_BUNDLE) to your CA certificates; verification stays on.",
                may_have_started=False,
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = _root_cause(exc)
            if isinstance(reason, urllib3.exceptions.NameResolutionError):
                return TransportError(
                    f"Cannot resolve the host of {base} (datagol:baseUrl / DATAGOL_BASE_URL); "
                    "nothing was sent.",
                    may_have_started=False,
                )
            if isinstance(reason, urllib3.exceptions.NewConnectionError):
                return TransportError(
                    f"Cannot connect to DataGOL at {base} (connection refused); nothing was sent. "
                    "Check datagol:baseUrl / DATAGOL_BASE_URL and that the service is reachable.",
                    may_have_started=False,
                )
            return TransportError(
                f"The connection to {base} broke during {method} {url.split('?')[0]} "
                f"({type(reason).__name__}). The job may have started, so it was not resent.",
                may_have_started=True,
            )
        if isinstance(exc, requests.exceptions.InvalidURL):
            return TransportError(
                f"datagol:baseUrl is not a valid URL ({base!r}); nothing was sent.",
                may_have_started=False,
            )
        return TransportError(
            f"{method} {url.split('?')[0]} failed: {type(exc).__name__}", may_have_started=True
        )


def _root_cause(exc: BaseException) -> BaseException:
    # requests wraps urllib3's MaxRetryError, whose `reason` is the real failure.
    cause: BaseException = exc
    seen = 0
    while seen < 5:
        seen += 1
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        inner = getattr(inner, "reason", inner)
        if inner is None or inner is cause:
            break
        cause = inner
    return cause
