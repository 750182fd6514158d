"""The emulator's OAuth 2.0 token endpoint (refresh_token and client_credentials grants, errors
per RFC 6749 5.2) and the access tokens it issued. Secrets are only ever recorded as sha256."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import urllib.parse
import uuid
from typing import Any

from .common import sha256_hex

#: Form/JSON fields of the token endpoint that are recorded only as sha256.
SECRET_FIELDS = frozenset(
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


def no_auth() -> dict[str, Any]:
    return {"scheme": None, "token_sha256": None, "valid": False}


def _redact(fields: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for name, value in fields.items():
        if name in SECRET_FIELDS:
            redacted[f"{name}_sha256"] = sha256_hex(value if isinstance(value, str) else str(value))
        else:
            redacted[name] = value
    return redacted


def redacted_token_body(data: bytes | None, content_type: str) -> Any:
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


def basic_auth(header: str | None) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Parse HTTP Basic client credentials (RFC 6749 2.3.1: form-encoded, then base64)."""
    auth = no_auth()
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
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="datagol-emulator"'
    return status, {"error": error, "error_description": description}, headers


GRANT_TYPES = ("refresh_token", "client_credentials")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Answer = tuple[int, Any, dict[str, str], bool]


class TokenIssuer:
    """Issues access tokens at /oauth/token and checks the credentials of API requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[str, float] = {}  # access token -> monotonic expiry
        # With oauth_rotate_refresh_tokens: the one refresh token still valid (None: the
        # configured one).
        self._current_refresh: str | None = None

    @staticmethod
    def enabled(settings: dict[str, Any]) -> bool:
        return any(
            settings[name] is not None
            for name in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token")
        )

    def revoke(self) -> int:
        """Invalidate every access token issued so far; returns how many there were."""
        with self._lock:
            count = len(self._issued)
            self._issued.clear()
            return count

    def clear(self) -> None:
        with self._lock:
            self._issued.clear()
            self._current_refresh = None

    def check(self, headers: Any, settings: dict[str, Any]) -> dict[str, Any]:
        """The auth record of an API request: scheme, token hash, and whether it is valid."""
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
        enforced = bool(settings["tokens"]) or self.enabled(settings)
        valid = not enforced
        if enforced and token is not None:
            if token in (settings["tokens"] or ()):
                valid = True
            else:
                with self._lock:
                    expiry = self._issued.get(token)
                    if expiry is not None and expiry <= time.monotonic():
                        del self._issued[token]
                        expiry = None
                valid = expiry is not None
        return {
            "scheme": scheme,
            "token_sha256": sha256_hex(token) if token is not None else None,
            "valid": valid,
        }

    def grant(
        self,
        method: str,
        data: bytes,
        headers: dict[str, str],
        basic_client: tuple[str, str] | None,
        settings: dict[str, Any],
    ) -> Answer:
        """Answer one token request: (status, body, headers, whether the client authenticated)."""
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
            self.enabled(settings)
            and (expected_id is None or client_id == expected_id)
            and (expected_secret is None or client_secret == expected_secret)
        )

        def error(status: int, code: str, description: str) -> Answer:
            return (*_oauth_error(status, code, description), client_ok)

        grant_type = form.get("grant_type")
        if not self.enabled(settings):
            return error(400, "unsupported_grant_type", "OAuth is not configured")
        if not is_form:
            return error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        if not grant_type:
            return error(400, "invalid_request", "grant_type is required")
        if grant_type not in GRANT_TYPES:
            return error(400, "unsupported_grant_type", f"{grant_type} is not supported")
        if basic_client is not None and "client_secret" in form:
            return error(400, "invalid_request", "Use one client authentication method, not two")
        if not client_ok:
            return error(401, "invalid_client", "Client authentication failed")
        if grant_type == "client_credentials":
            if expected_id is None or expected_secret is None:
                # A confidential client only: anyone could claim an unchecked identity.
                return error(400, "unauthorized_client", "No client credentials are configured")
            return self._issue(settings, refresh_token=None)
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            return error(400, "invalid_request", "refresh_token is required")
        if not self._take_refresh_token(refresh_token, settings):
            return error(400, "invalid_grant", "The refresh token is invalid")
        if settings["oauth_rotate_refresh_tokens"]:
            with self._lock:
                refresh_token = self._current_refresh = uuid.uuid4().hex + uuid.uuid4().hex
        return self._issue(settings, refresh_token=refresh_token)

    def _take_refresh_token(self, refresh_token: str, settings: dict[str, Any]) -> bool:
        with self._lock:
            expected = self._current_refresh or settings["oauth_refresh_token"]
        return expected is None or refresh_token == expected

    def _issue(self, settings: dict[str, Any], refresh_token: str | None) -> Answer:
        access_token = uuid.uuid4().hex + uuid.uuid4().hex
        expires_in = settings["oauth_expires_in"]
        with self._lock:
            self._issued[access_token] = time.monotonic() + expires_in
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        return 200, body, dict(_NO_STORE), True
