"""OAuth 2.0 refresh-token exchange for unattended ``pulumi up`` (authlib does the protocol)."""

from __future__ import annotations

import requests

from .config import Settings
from .errors import AuthenticationError, TransportError


def refresh_access_token(settings: Settings, session: requests.Session) -> str:
    """Exchange the configured refresh token for an access token at ``datagol:oauthTokenUrl``.

    ``session`` lends its TLS settings (CA bundle); the exchange uses authlib's own session.
    """
    from authlib.integrations.base_client.errors import OAuthError
    from authlib.integrations.requests_client import OAuth2Session

    url = settings.oauth_token_url or ""
    client = OAuth2Session(
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret,
        token_endpoint_auth_method="client_secret_post",
    )
    client.headers["User-Agent"] = session.headers.get("User-Agent", "datagol-pulumi")
    try:
        token = client.refresh_token(
            url,
            refresh_token=settings.oauth_refresh_token,
            timeout=(settings.connect_timeout, settings.request_timeout),
            verify=session.verify,
        )
    except OAuthError as exc:
        # Only the RFC 6749 error code: a description could quote what was sent.
        raise AuthenticationError(
            f"The OAuth token endpoint {url} refused the refresh token ({exc.error}). Check "
            "datagol:oauthRefreshToken, datagol:oauthClientId and datagol:oauthClientSecret.",
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
    return str(access_token)
