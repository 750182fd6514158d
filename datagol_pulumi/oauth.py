"""OAuth 2.0 access tokens for unattended ``pulumi up`` (authlib does the protocol).

Two grants: ``refresh_token`` (``datagol:oauthRefreshToken`` set, with the client id and
secret) and ``client_credentials`` (client id and secret only: what CI uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter

from .config import Settings
from .errors import AuthenticationError, TransportError


@dataclass(frozen=True)
class OAuthToken:
    """What the token endpoint answered; ``repr`` shows neither token."""

    access_token: str = field(repr=False)
    #: A new refresh token when the identity provider rotates them, else None.
    refresh_token: str | None = field(default=None, repr=False)


def fetch_access_token(
    settings: Settings,
    *,
    verify: str | bool,
    user_agent: str,
    adapter: HTTPAdapter | None = None,
    refresh_token: str | None = None,
) -> OAuthToken:
    """Get an access token at ``datagol:oauthTokenUrl`` with the grant the settings name.

    ``verify`` is passed with the request, so ``datagol:caBundle`` beats REQUESTS_CA_BUNDLE;
    ``adapter`` brings the client's resend rules; ``refresh_token`` overrides the configured
    one (a rotated token kept by the caller).
    """
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    from .client.transport import request_deadline

    url = settings.oauth_token_url or ""
    grant = settings.oauth_grant
    client = OAuth2Session(
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret,
        token_endpoint_auth_method="client_secret_post",
    )
    if adapter is not None:
        client.mount("https://", adapter)
        client.mount("http://", adapter)
    client.headers["User-Agent"] = user_agent
    options = {"timeout": (settings.connect_timeout, settings.request_timeout), "verify": verify}
    try:
        with request_deadline(settings.retry_deadline):
            if grant == "refresh_token":
                token = client.refresh_token(
                    url, refresh_token=refresh_token or settings.oauth_refresh_token, **options
                )
            else:
                token = client.fetch_token(url, grant_type="client_credentials", **options)
    except OAuthError as exc:
        # Only the RFC 6749 error code: a description could quote what was sent.
        raise AuthenticationError(
            f"The OAuth token endpoint {url} refused the {_what(grant)} ({exc.error}). Check "
            f"{settings.credentials_hint}.",
            status=400,
            server_message=str(exc.error),
        ) from None
    except requests.RequestException as exc:
        raise TransportError(
            f"Cannot get an access token from {url} (datagol:oauthTokenUrl): {type(exc).__name__}.",
            may_have_started=False,
        ) from None
    finally:
        client.close()
    access_token = token.get("access_token") if isinstance(token, dict) else None
    if not access_token:
        raise AuthenticationError(
            f"The OAuth token endpoint {url} answered without an access_token.", status=200
        )
    rotated = token.get("refresh_token")
    return OAuthToken(str(access_token), str(rotated) if rotated else None)


def _what(grant: str | None) -> str:
    return "refresh token" if grant == "refresh_token" else "client credentials"
