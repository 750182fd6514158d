"""The credential each request carries: the static token, or an OAuth access token.

An OAuth access token comes from one :class:`TokenSource` per credential (token endpoint, client
and refresh token) per process, shared by every client built from it: both resource kinds and
both faces build their own client from the same settings, and an identity provider that
rotates refresh tokens accepts the configured one exactly once. The sources live here, at
module level, never on a provider object (which is pickled into the state).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ..config import Settings
from .transport import Transport


class TokenSource:
    """The access token of one OAuth credential, fetched once and again after a 401, and the
    newest refresh token. Thread-safe; holds secrets, so it lives only in the process."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._access_token: str | None = None
        # An identity provider that rotates refresh tokens invalidates the configured one on
        # first use; the newest is kept here so that a renewal in this process still works.
        self._refresh_token: str | None = settings.oauth_refresh_token
        #: Token exchanges made, for tests and diagnostics.
        self.exchanges = 0

    def access_token(self, settings: Settings, transport: Transport) -> str:
        """The current access token, fetched first with ``transport``'s TLS and resend rules."""
        with self._lock:
            if self._access_token is None:
                from ..oauth import fetch_access_token  # only OAuth users need authlib

                self.exchanges += 1
                token = fetch_access_token(
                    settings,
                    verify=transport.verify,
                    user_agent=transport.user_agent,
                    adapter=transport.new_adapter(),
                    refresh_token=self._refresh_token,
                )
                self._access_token = token.access_token
                if token.refresh_token:
                    self._refresh_token = token.refresh_token
            return self._access_token

    def renew(self, refused: str | None) -> None:
        """Forget the access token DataGOL refused; one already replaced (another client got
        the 401 first) is kept, so that two concurrent refusals make one exchange."""
        with self._lock:
            if refused is None or refused == self._access_token:
                self._access_token = None

    def secrets(self) -> list[str]:
        held = (self._access_token, self._refresh_token)
        return [s for s in held if s]


_SOURCES: dict[tuple[str | None, ...], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def _credential(settings: Settings) -> tuple[str | None, ...]:
    # What names one credential: other settings (timeouts, statuses) may differ between two
    # providers that still share a refresh token, and must not split it into two sources.
    return (
        settings.oauth_grant,
        settings.oauth_token_url,
        settings.oauth_client_id,
        settings.oauth_client_secret,
        settings.oauth_refresh_token,
    )


def token_source(settings: Settings) -> TokenSource:
    """The process's one source for the OAuth credential ``settings`` name."""
    key = _credential(settings)
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            source = _SOURCES[key] = TokenSource(settings)
        return source


def forget_token_sources() -> None:
    """Drop every source (tests: a new emulator on a reused port must not see an old token)."""
    with _SOURCES_LOCK:
        _SOURCES.clear()


class Credentials:
    """Builds one client's auth headers: the static token, or the shared OAuth access token."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self._transport = transport
        self._source = token_source(settings) if settings.uses_oauth else None

    @property
    def renewable(self) -> bool:
        return self._source is not None

    def headers(self) -> dict[str, str]:
        if self._source is not None:
            token: str | None = self._source.access_token(self.settings, self._transport)
        else:
            token = self.settings.token
        if not token:
            return {}
        if self.settings.auth_scheme == "x-auth-token":
            return {"x-auth-token": token}
        return {"Authorization": f"Bearer {token}"}

    def renew(self, refused: Mapping[str, str] | None = None) -> None:
        """Forget the access token sent with ``refused`` headers (DataGOL answered 401); the
        next request fetches a new one."""
        if self._source is None:
            return
        sent = None
        if refused is not None:
            sent = refused.get("x-auth-token") or refused.get("Authorization", "")[7:] or None
        self._source.renew(sent)

    def secrets(self) -> list[str]:
        """Every credential this process knows, to scrub from any text shown."""
        held = self._source.secrets() if self._source is not None else []
        return [*self.settings.secrets(), *held]
