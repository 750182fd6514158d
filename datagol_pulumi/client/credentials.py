"""The credential each request carries: the static token, or an OAuth access token."""

from __future__ import annotations

import threading

from ..config import Settings
from .transport import Transport


class Credentials:
    """Builds the auth headers; an OAuth access token is fetched once per process and again
    after a 401 (``renew``). Thread-safe; holds secrets, so it lives only in the process."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self._transport = transport
        self._lock = threading.Lock()
        self._access_token: str | None = None
        # An identity provider that rotates refresh tokens invalidates the configured one on
        # first use; the newest is kept here so that a renewal in this process still works.
        self._refresh_token: str | None = settings.oauth_refresh_token

    @property
    def renewable(self) -> bool:
        return self.settings.uses_oauth

    def headers(self) -> dict[str, str]:
        token = self._oauth_access_token() if self.renewable else self.settings.token
        if not token:
            return {}
        if self.settings.auth_scheme == "x-auth-token":
            return {"x-auth-token": token}
        return {"Authorization": f"Bearer {token}"}

    def renew(self) -> None:
        """Forget the access token (DataGOL refused it); the next request fetches a new one."""
        with self._lock:
            self._access_token = None

    def secrets(self) -> list[str]:
        """Every credential this process knows, to scrub from any text shown."""
        held = (self._access_token, self._refresh_token)
        return [*self.settings.secrets(), *(s for s in held if s)]

    def _oauth_access_token(self) -> str:
        with self._lock:
            if self._access_token is None:
                from ..oauth import fetch_access_token  # only OAuth users need authlib

                token = fetch_access_token(
                    self.settings,
                    verify=self._transport.verify,
                    user_agent=self._transport.user_agent,
                    adapter=self._transport.new_adapter(),
                    refresh_token=self._refresh_token,
                )
                self._access_token = token.access_token
                if token.refresh_token:
                    self._refresh_token = token.refresh_token
            return self._access_token
