"""Error mapping: every failed request becomes one error of the errors.py tree.

Each message names what went wrong and what to change, and says whether a job may be running
(``may_have_started``); none contains a credential (callers pass a scrubbing function).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import requests
import urllib3.exceptions

from ..config import Settings
from ..errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    from .transport import Reply

#: Server text quoted in an error message is cut to this many characters.
MAX_MESSAGE_CHARS = 300
MESSAGE_KEYS = ("message", "error_description", "errorMessage", "error", "detail", "title")
_REFUSALS = (429, 503)


def scopes(payload: Any) -> list[Mapping[str, Any]]:
    """The answer and its ``data`` / ``result`` objects, where DataGOL's fields may be."""
    if not isinstance(payload, Mapping):
        return []
    nested = [payload[k] for k in ("data", "result") if isinstance(payload.get(k), Mapping)]
    return [payload, *nested]


def find_text(payload: Any, keys: tuple[str, ...]) -> str | None:
    """The first non-empty string under one of ``keys``, at the top or one level down."""
    for scope in scopes(payload):
        for key in keys:
            value = scope.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, Mapping):  # {"error": {"message": ...}}
                inner = find_text(value, keys)
                if inner:
                    return inner
    return None


def reply_json(reply: Reply) -> Any:
    """The answer's JSON, or None when it is empty, cut off or not JSON."""
    if reply.truncated or not reply.body:
        return None
    try:
        return json.loads(reply.body)
    except ValueError:
        return None


def server_message(reply: Reply, scrub: Callable[[str], str]) -> str:
    """The service's message in readable form: JSON field, HTML page title or plain text."""
    payload = reply_json(reply)
    text = find_text(payload, MESSAGE_KEYS) if payload is not None else None
    if text is None:
        raw = reply.body.decode("utf-8", errors="replace")
        title = re.search(r"<title[^>]*>(.*?)</title>", raw, re.IGNORECASE | re.DOTALL)
        if title:  # an HTML error page from a proxy: its title says it all
            raw = title.group(1)
        raw = re.sub(r"<[^>]+>", " ", raw) if "<" in raw else raw
        text = " ".join(html.unescape(raw).split())
    text = scrub(text)
    if len(text) > MAX_MESSAGE_CHARS or reply.truncated:
        text = text[:MAX_MESSAGE_CHARS] + " …(truncated)"
    return text or "(empty body)"


def api_error(
    settings: Settings,
    method: str,
    url: str,
    reply: Reply,
    *,
    not_found: str,
    scrub: Callable[[str], str],
) -> ApiError:
    """The error for an answer with a non-2xx status."""
    status = reply.status
    message = server_message(reply, scrub)
    where = f"{method} {url.split('?')[0]}"
    said = f"HTTP {status}: {message}"

    def error(cls: type[ApiError], text: str) -> ApiError:
        return cls(text, status=status, server_message=message)

    if status in (401, 403):
        return error(AuthenticationError, _auth_text(settings, where, said))
    if status == 404:
        return error(
            NotFoundError,
            f"DataGOL found no {not_found} ({said}). Check the ids, and that the token's "
            "account can see that workspace.",
        )
    if status in (400, 422):
        return error(BadRequestError, f"DataGOL rejected {where} ({said}).")
    if status == 413:
        return error(
            PayloadTooLargeError,
            f"DataGOL refused the request body as too large ({said}). Set batch_size (or "
            "lower it) to send the rows in smaller requests.",
        )
    if status in _REFUSALS:
        return error(RateLimitedError, _refusal_text(method, where, said, reply))
    if status >= 500 and method == "POST":
        return error(
            ServerError,
            f"DataGOL answered {said} to {where}. The extraction job may have started, so "
            "the request was not resent (a second job would cost credits twice).",
        )
    if 300 <= status < 400:
        location = reply.headers.get("Location", "?")
        return error(
            ApiError,
            f"DataGOL redirected {where} to {location} ({said}); set datagol:baseUrl to the "
            "service's final address.",
        )
    tries = f" (after {reply.attempts} attempts)" if reply.attempts > 1 else ""
    return error(ApiError, f"DataGOL answered {said} to {where}{tries}.")


def _auth_text(settings: Settings, where: str, said: str) -> str:
    if settings.uses_oauth or settings.token:
        fix = f"Check {settings.credentials_hint}"
    else:
        fix = (
            "No token is configured: set one with "
            "`pulumi config set --secret datagol:token <token>` or DATAGOL_TOKEN"
        )
    return (
        f"DataGOL refused the credentials for {where} ({said}). {fix}; auth scheme in use: "
        f"{settings.auth_scheme} (datagol:authScheme, 'bearer' or 'x-auth-token')."
    )


def _refusal_text(method: str, where: str, said: str, reply: Reply) -> str:
    if reply.attempts > 1:
        return (
            f"DataGOL still answered {said} after {reply.attempts} attempt(s) for {where}; no "
            "job was started. Try again later, or raise datagol:maxRetries / "
            "datagol:retryDeadline."
        )
    if method == "POST" and "Retry-After" not in reply.headers:
        why = "it gave no Retry-After, so it was not resent"
    else:
        why = "a resend would not have ended within datagol:retryDeadline"
    return f"DataGOL answered {said} to {where}; no job was started, and {why}. Try again later."


def transport_error(settings: Settings, method: str, url: str, exc: Exception) -> TransportError:
    """The error for a request that got no answer, from the failure at its root."""
    base = settings.base_url
    where = f"{method} {url.split('?')[0]}"
    reason = root_cause(exc)
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
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        return TransportError(
            f"Timed out connecting to DataGOL at {base} (datagol:baseUrl); nothing was sent.",
            may_have_started=False,
        )
    if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(
        exc, requests.exceptions.SSLError
    ):
        return TransportError(
            f"TLS verification failed for {base}: {type(reason).__name__}. Set datagol:caBundle "
            "(or REQUESTS_CA_BUNDLE) to your CA certificates; verification stays on.",
            may_have_started=False,
        )
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return TransportError(
            f"DataGOL did not answer {where} within {settings.request_timeout:g} s after the "
            "request was sent. The job may be running, so it was not resent; raise "
            "datagol:requestTimeout for a slow service.",
            may_have_started=True,
        )
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            urllib3.exceptions.LocationValueError,
        ),
    ):
        return TransportError(
            f"datagol:baseUrl is not a valid URL ({base!r}); nothing was sent.",
            may_have_started=False,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(
            f"The connection to {base} broke during {where} ({type(reason).__name__}). The "
            "job may have started, so it was not resent.",
            may_have_started=True,
        )
    return TransportError(f"{where} failed: {type(exc).__name__}", may_have_started=True)


def root_cause(exc: BaseException) -> BaseException:
    """The failure inside requests' and urllib3's wrappers (MaxRetryError's ``reason``)."""
    cause: BaseException = exc
    for _ in range(5):
        inner = cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None
        inner = getattr(cause, "reason", None) if inner is None else inner
        inner = getattr(inner, "reason", inner)
        if not isinstance(inner, BaseException) or inner is cause:
            break
        cause = inner
    return cause
