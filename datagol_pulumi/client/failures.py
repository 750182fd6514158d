"""Error mapping: every failed request becomes one error of the errors.py tree.

Each message names what went wrong and what to change, and says whether a job may be running
(``may_have_started``); none contains a credential (callers pass a scrubbing function).
"""

from __future__ import annotations

import html
import http.client
import json
import re
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

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
from .reply import Reply

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


def error_codes(payload: Any) -> list[str]:
    """The ``errorCodes`` of DataGOL's error envelope (``{"error": {"errorCodes": [...]}}``)."""
    for scope in scopes(payload):
        error = scope.get("error")
        codes = error.get("errorCodes") if isinstance(error, Mapping) else None
        if isinstance(codes, list) and codes:
            return [str(code) for code in codes if isinstance(code, (str, int))][:10]
    return []


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
    codes = error_codes(payload)
    if text is not None and codes:
        text += f" (error codes: {', '.join(codes)})"
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
        fix = (
            " No job was started: change what DataGOL's message names (the run's mode, "
            "where_clause, rows or extract_only_new, or its ids), then run `pulumi up` again."
            if method == "POST"
            else ""
        )
        return error(BadRequestError, f"DataGOL rejected {where} ({said}).{fix}")
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


def transport_error(
    settings: Settings,
    method: str,
    url: str,
    exc: BaseException,
    *,
    written: bool | None = None,
    proxy: str = "",
) -> TransportError:
    """The error for a request that got no answer: whether it may have started a job, and why.

    ``written`` says whether a byte of the request may have left (``tracking``): False proves
    nothing was sent, whatever the exception; True means the service may have read it. None (a
    session that does not track it) leaves it to the exception: only failures that happen
    before sending by their nature count as unsent, anything else may have started a job.
    ``proxy`` is the proxy in use, without credentials, for the message.
    """
    where = f"{method} {url.split('?')[0]}"
    reason = root_cause(exc)
    if written is None:
        written = not _unsent_by_nature(exc, reason)
    if not written:
        return TransportError(
            _unsent_text(settings, where, exc, reason, proxy), may_have_started=False
        )
    base = settings.base_url
    if isinstance(reason, urllib3.exceptions.ReadTimeoutError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return TransportError(
            f"DataGOL did not answer {where} within {settings.request_timeout:g} s after the "
            "request was sent. The job may be running, so it was not resent; raise "
            "datagol:requestTimeout for a slow service.",
            may_have_started=True,
        )
    if isinstance(exc, (requests.exceptions.ConnectionError, urllib3.exceptions.HTTPError)):
        return TransportError(
            f"The connection to {base} broke during {where} ({_what_broke(exc, reason)}). "
            "The job may have started, so it was not resent.",
            may_have_started=True,
        )
    return TransportError(f"{where} failed: {type(exc).__name__}", may_have_started=True)


#: Failures requests raises while preparing a request, before any connection.
_PREPARE_ERRORS = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    urllib3.exceptions.LocationValueError,
)
#: Failures that happen while connecting, so before the request is written.
_CONNECT_ERRORS = (
    urllib3.exceptions.NameResolutionError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.SSLError,
    ssl.SSLError,
)


def _unsent_by_nature(exc: BaseException, reason: BaseException) -> bool:
    """Without tracking: whether the failure can only happen before the request is written."""
    return (
        isinstance(exc, (*_PREPARE_ERRORS, requests.exceptions.SSLError))
        or isinstance(reason, _CONNECT_ERRORS)
        or _find(exc, urllib3.exceptions.ProxyError) is not None
    )


def _unsent_text(
    settings: Settings, where: str, exc: BaseException, reason: BaseException, proxy: str
) -> str:
    """Why a request that never left failed, and what to change; says nothing was sent."""
    base = settings.base_url
    fix = "Check HTTPS_PROXY / HTTP_PROXY and NO_PROXY of the `pulumi` command."
    if isinstance(exc, requests.exceptions.InvalidProxyURL) or _find(
        exc, urllib3.exceptions.ProxySchemeUnknown
    ):
        return f"The proxy URL for {base} is not valid; nothing was sent. {fix}"
    if isinstance(exc, _PREPARE_ERRORS[1:]) or isinstance(
        reason, (urllib3.exceptions.LocationValueError, urllib3.exceptions.LocationParseError)
    ):
        return f"datagol:baseUrl is not a valid URL ({base!r}); nothing was sent."
    if _is_header_error(exc):
        # Never the exception's text: requests and http.client quote the header's value.
        return (
            f"{where} was not sent: a header value cannot be sent over HTTP "
            f"({type(exc).__name__}: a newline, leading or trailing whitespace, a control "
            "character or a character outside Latin-1); nothing was sent. Check "
            f"{settings.credentials_hint}."
        )
    via = f"the proxy {proxy}" if proxy else "the proxy"
    tunnel = _tunnel_refusal(exc)
    if tunnel:
        return f"{via} refused to open a connection to {base} ({tunnel}); nothing was sent. {fix}"
    if isinstance(exc, requests.exceptions.ProxyError) or _find(exc, urllib3.exceptions.ProxyError):
        return f"Cannot connect to {via} ({_connect_failure(exc)}); nothing was sent. {fix}"
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return (
            f"Cannot resolve the host of {base} (datagol:baseUrl / DATAGOL_BASE_URL); "
            "nothing was sent."
        )
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return (
            f"Cannot connect to DataGOL at {base} (connection refused); nothing was sent. "
            "Check datagol:baseUrl / DATAGOL_BASE_URL and that the service is reachable."
        )
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        return f"Timed out connecting to DataGOL at {base} (datagol:baseUrl); nothing was sent."
    verification = _find(exc, ssl.SSLCertVerificationError)
    if verification is not None:
        return (
            f"TLS verification failed for {base}: {type(verification).__name__}. Set "
            "datagol:caBundle (or REQUESTS_CA_BUNDLE) to your CA certificates; verification "
            "stays on."
        )
    handshake = _handshake_failure(settings, exc)
    if handshake:
        through = f" (through {via})" if proxy else ""
        return (
            f"The TLS handshake with {base}{through} failed ({handshake}); nothing was sent. "
            "The server or something on the way (a proxy, load balancer or firewall) ended "
            "it before a request could be sent; this is not a certificate problem. Try "
            "again; if it persists, check that datagol:baseUrl serves https."
        )
    return (
        f"{where} failed before anything of it was sent ({type(reason).__name__}); nothing "
        "was sent."
    )


def _is_header_error(exc: BaseException) -> bool:
    """requests' InvalidHeader, or http.client refusing a header value (a ValueError; a
    UnicodeEncodeError for a character outside Latin-1)."""
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return True
    if isinstance(exc, (requests.RequestException, urllib3.exceptions.HTTPError)):
        return False
    return isinstance(exc, UnicodeEncodeError) or (
        isinstance(exc, ValueError) and "header" in str(exc).lower()
    )


def _handshake_failure(settings: Settings, exc: BaseException) -> str:
    """What ended the TLS handshake of a request that wrote nothing over https, or ""."""
    if not settings.base_url.lower().startswith("https:"):
        return ""
    if _find(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return "EOF: the connection was closed during the handshake"
    if _find(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "connection reset"
    if _find(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)) or isinstance(
        exc, requests.exceptions.Timeout
    ):
        return f"no answer within datagol:connectTimeout, {settings.connect_timeout:g} s"
    tls = _find(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        return f"{type(tls).__name__}: {tls.reason or 'protocol error'}"
    return ""


def _what_broke(exc: BaseException, reason: BaseException) -> str:
    """The innermost failure of a connection that broke once the request was written."""
    inner = _find(exc, (ConnectionError, ssl.SSLError, http.client.HTTPException))
    return type(inner or reason).__name__


def _connect_failure(exc: BaseException) -> str:
    if _find(exc, urllib3.exceptions.NameResolutionError):
        return "its host does not resolve"
    if _find(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused"
    if _find(exc, urllib3.exceptions.ConnectTimeoutError):
        return "timed out"
    return type(root_cause(exc)).__name__


def _tunnel_refusal(exc: BaseException) -> str:
    """The proxy's answer to CONNECT when it refused the tunnel ("403 Forbidden"), or ""."""
    for cause in _chain(exc):
        text = str(cause.args[0]) if cause.args and isinstance(cause.args[0], str) else ""
        if isinstance(cause, OSError) and text.startswith("Tunnel connection failed"):
            return text.split(":", 1)[-1].strip()[:80] or "refused"
    return ""


def _find(
    exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]
) -> BaseException | None:
    """The first failure of ``kind`` in ``exc`` or anything it wraps."""
    return next((cause for cause in _chain(exc) if isinstance(cause, kind)), None)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (arguments, ``reason``, ``original_error``, causes)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 16:
        cause = todo.pop(0)
        if any(cause is s for s in seen):
            continue
        seen.append(cause)
        for inner in (
            *cause.args,
            getattr(cause, "reason", None),
            getattr(cause, "original_error", None),
            cause.__cause__,
            cause.__context__,
        ):
            if isinstance(inner, BaseException):
                todo.append(inner)
    return seen


def proxy_shown(proxy: str | None) -> str:
    """A proxy URL without its user and password, for messages ("" for none)."""
    if not proxy:
        return ""
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable proxy URL)"
    return f"{parts.scheme}://{host}{port}"


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
