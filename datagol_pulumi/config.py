"""Provider settings: the ``datagol:*`` Pulumi config keys and their environment fallbacks.

Read in the provider's ``configure`` (never in its constructor: the provider is pickled into
the stack state, and settings hold the token).
"""

from __future__ import annotations

import ipaddress
import math
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://be.datagol.ai"
AUTH_SCHEMES = ("bearer", "x-auth-token")
NAMESPACE = "datagol"

#: Keys whose values are credentials: never passed as provider inputs, so never in state.
SECRET_KEYS = ("token", "oauthClientId", "oauthClientSecret", "oauthRefreshToken")
#: Every other key, passed to the provider as inputs of its provider resource.
PUBLIC_KEYS = (
    "baseUrl",
    "authScheme",
    "requestTimeout",
    "connectTimeout",
    "maxRetries",
    "retryDeadline",
    "statusField",
    "successStatuses",
    "failureStatuses",
    "caBundle",
    "allowInsecureHttp",
    "oauthTokenUrl",
)
#: Provider inputs (not user config) naming the stack and which of its keys hold secrets.
STACK_KEY = f"{NAMESPACE}:stack"
STACK_SECRETS_KEY = f"{NAMESPACE}:stackSecrets"

# Poll Status values are undocumented; these cover the usual spellings and are settable.
DEFAULT_SUCCESS_STATUSES = (
    "COMPLETED",
    "COMPLETE",
    "SUCCESS",
    "SUCCEEDED",
    "SUCCESSFUL",
    "DONE",
    "FINISHED",
)
DEFAULT_FAILURE_STATUSES = (
    "FAILED",
    "FAILURE",
    "ERROR",
    "CANCELLED",
    "CANCELED",
    "ABORTED",
    "REJECTED",
)


@dataclass(frozen=True)
class Settings:
    """Everything the client needs; ``repr`` never shows a credential."""

    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    auth_scheme: str = "bearer"
    #: Seconds to wait for an answer once a request was sent.
    request_timeout: float = 60.0
    connect_timeout: float = 10.0
    #: Resends of a request the service cannot have started (refused connection, 429, 503).
    max_retries: int = 3
    #: Upper bound on the time spent retrying one request, Retry-After included.
    retry_deadline: float = 120.0
    status_field: str = "status"
    success_statuses: tuple[str, ...] = DEFAULT_SUCCESS_STATUSES
    failure_statuses: tuple[str, ...] = DEFAULT_FAILURE_STATUSES
    ca_bundle: str | None = None
    allow_insecure_http: bool = False
    oauth_token_url: str | None = None
    oauth_client_id: str | None = field(default=None, repr=False)
    oauth_client_secret: str | None = field(default=None, repr=False)
    oauth_refresh_token: str | None = field(default=None, repr=False)

    @property
    def oauth_grant(self) -> str | None:
        """The OAuth 2.0 grant in use: ``refresh_token`` when a refresh token is set, else
        ``client_credentials`` when a client id and secret are (CI); None: the static token."""
        if self.oauth_refresh_token is not None:
            return "refresh_token"
        if self.oauth_client_id and self.oauth_client_secret:
            return "client_credentials"
        return None

    @property
    def uses_oauth(self) -> bool:
        return self.oauth_grant is not None

    @property
    def credentials_hint(self) -> str:
        """Where the credential in use comes from, for error messages."""
        if self.oauth_grant == "refresh_token":
            return (
                "the OAuth refresh token (datagol:oauthRefreshToken, datagol:oauthClientId, "
                "datagol:oauthClientSecret, datagol:oauthTokenUrl)"
            )
        if self.oauth_grant == "client_credentials":
            return (
                "the OAuth client credentials (datagol:oauthClientId, "
                "datagol:oauthClientSecret, datagol:oauthTokenUrl)"
            )
        return "datagol:token (or DATAGOL_TOKEN)"

    def secrets(self) -> list[str]:
        """Every credential, so that callers can scrub them from any text."""
        values = (self.token, self.oauth_client_secret, self.oauth_refresh_token)
        return [v for v in values if v]

    @classmethod
    def load(
        cls,
        get: Callable[[str], object | None],
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Build settings from ``get("datagol:<key>")`` (Pulumi config), then the environment.

        Raises :class:`ConfigurationError` naming the key for a value that cannot be used.
        """
        env = os.environ if environ is None else environ

        def value(key: str, env_name: str | None = None) -> str | None:
            raw = get(f"{NAMESPACE}:{key}")
            if raw is None and env_name:
                raw = env.get(env_name)
            if raw is None or raw == "":
                return None
            return str(raw)

        def number(key: str, default: float, *, integer: bool = False, minimum: float = 0) -> float:
            raw = value(key)
            if raw is None:
                return default
            try:
                parsed = float(raw)
            except ValueError:
                parsed = math.nan
            if (
                not math.isfinite(parsed)
                or parsed < minimum
                or (integer and not parsed.is_integer())
            ):
                kind = "a whole number" if integer else "a number of seconds"
                raise ConfigurationError(
                    f"{NAMESPACE}:{key} must be {kind} of at least {minimum:g}, got {raw!r}; "
                    f"fix it with `pulumi config set {NAMESPACE}:{key} <value>`"
                )
            return int(parsed) if integer else parsed

        def statuses(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = value(key)
            if raw is None:
                return default
            return tuple(s.strip().upper() for s in raw.split(",") if s.strip())

        def flag(key: str) -> bool:
            raw = value(key)
            if raw is None:
                return False
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ConfigurationError(f"{NAMESPACE}:{key} must be true or false, got {raw!r}")

        auth_scheme = (value("authScheme", "DATAGOL_AUTH_SCHEME") or "bearer").lower()
        if auth_scheme not in AUTH_SCHEMES:
            raise ConfigurationError(
                f"{NAMESPACE}:authScheme must be one of {', '.join(AUTH_SCHEMES)}, got {auth_scheme!r}"
            )
        settings = cls(
            base_url=(value("baseUrl", "DATAGOL_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            token=value("token", "DATAGOL_TOKEN"),
            auth_scheme=auth_scheme,
            request_timeout=number("requestTimeout", cls.request_timeout, minimum=0.001),
            connect_timeout=number("connectTimeout", cls.connect_timeout, minimum=0.001),
            max_retries=int(number("maxRetries", cls.max_retries, integer=True)),
            retry_deadline=number("retryDeadline", cls.retry_deadline),
            status_field=value("statusField") or cls.status_field,
            success_statuses=statuses("successStatuses", DEFAULT_SUCCESS_STATUSES),
            failure_statuses=statuses("failureStatuses", DEFAULT_FAILURE_STATUSES),
            ca_bundle=value("caBundle", "DATAGOL_CA_BUNDLE"),
            allow_insecure_http=flag("allowInsecureHttp"),
            oauth_token_url=value("oauthTokenUrl", "DATAGOL_OAUTH_TOKEN_URL"),
            oauth_client_id=value("oauthClientId", "DATAGOL_OAUTH_CLIENT_ID"),
            oauth_client_secret=value("oauthClientSecret", "DATAGOL_OAUTH_CLIENT_SECRET"),
            oauth_refresh_token=value("oauthRefreshToken", "DATAGOL_OAUTH_REFRESH_TOKEN"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that cannot work or would expose a credential."""
        _check_url(f"{NAMESPACE}:baseUrl", self.base_url)
        if self.ca_bundle and not os.path.exists(self.ca_bundle):
            raise ConfigurationError(f"{NAMESPACE}:caBundle: no file at {self.ca_bundle!r}")
        if self.uses_oauth:
            if not self.oauth_token_url:
                given = (
                    f"{NAMESPACE}:oauthRefreshToken is"
                    if self.oauth_grant == "refresh_token"
                    else f"{NAMESPACE}:oauthClientId and {NAMESPACE}:oauthClientSecret are"
                )
                raise ConfigurationError(
                    f"{given} set but {NAMESPACE}:oauthTokenUrl is not; "
                    "set the token endpoint of your DataGOL tenant"
                )
            _check_url(f"{NAMESPACE}:oauthTokenUrl", self.oauth_token_url)
        if not self.allow_insecure_http and (self.token or self.uses_oauth):
            for key, url in (("baseUrl", self.base_url), ("oauthTokenUrl", self.oauth_token_url)):
                if url and not is_safe_for_credentials(url):
                    raise ConfigurationError(
                        f"{NAMESPACE}:{key} is plain http to a non-loopback host ({url}); "
                        "credentials are only sent over https. Use https, or set "
                        f"`pulumi config set {NAMESPACE}:allowInsecureHttp true` if you accept the risk"
                    )


def read_stack_config(key: str, stack: str) -> str | None:
    """One value of the stack's config, decrypted by the Pulumi CLI of this deployment.

    Secrets reach the provider this way, and not as provider inputs, because the engine keeps
    every provider input in the stack state (where `pulumi stack export --show-secrets` prints
    it). The provider process inherits the CLI's environment (backend, passphrase).
    """
    command = ["pulumi", "config", "get", key, "--stack", stack, "--non-interactive"]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(
            f"{key} is set in stack {stack}, but `pulumi config get` could not run "
            f"({type(exc).__name__}); put `pulumi` on PATH, or set the value in the environment "
            "(DATAGOL_TOKEN and friends) instead"
        ) from None
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:300]
        raise ConfigurationError(
            f"{key} is set in stack {stack}, but `pulumi config get` failed: {detail}. "
            "Is PULUMI_CONFIG_PASSPHRASE (or your secrets provider) available to `pulumi up`?"
        )
    value = result.stdout.rstrip("\n")
    return value or None


def _check_url(key: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{key} must be an http(s) URL such as {DEFAULT_BASE_URL}, got {url!r}"
        )


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where plain http does not leave the machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_safe_for_credentials(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or is_loopback(parts.hostname or "")
