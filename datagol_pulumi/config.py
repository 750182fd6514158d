"""Provider settings: ``Provider`` arguments, ``datagol:*`` config keys, ``DATAGOL_*`` variables.

The program turns arguments and config into the provider resource's inputs (secrets as
secrets, so the state holds their ciphertext); the provider process reads those inputs, then
the environment for what is still missing, in ``configure`` (never in its constructor: the
provider is pickled into the stack state, and settings hold the token).
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .setting_checks import check_base_url

DEFAULT_BASE_URL = "https://be.datagol.ai"
AUTH_SCHEMES = ("bearer", "x-auth-token")
#: Setting messages never quote the value: configure gets plain values with no secret marker, and
#: any setting may have been set with `--secret` (a baseUrl can carry user:password, too).
NOT_SHOWN = " (the value is not shown: it may be secret)"
NAMESPACE = "datagol"


@dataclass(frozen=True)
class Key:
    """One setting: its ``datagol:`` config key, ``Settings``/``Provider`` field and variable."""

    name: str
    field: str
    secret: bool = False

    @property
    def config_key(self) -> str:
        return f"{NAMESPACE}:{self.name}"

    @property
    def env(self) -> str:
        return f"DATAGOL_{self.field.upper()}"


#: Every setting, in the order of the table in docs/installation-configuration.md. Secret ones are always passed to the
#: provider resource as secrets. The client id is not a password, but it names an account
#: and costs nothing to keep encrypted.
KEYS = (
    Key("baseUrl", "base_url"),
    Key("token", "token", secret=True),
    Key("authScheme", "auth_scheme"),
    Key("requestTimeout", "request_timeout"),
    Key("connectTimeout", "connect_timeout"),
    Key("maxRetries", "max_retries"),
    Key("retryDeadline", "retry_deadline"),
    Key("statusField", "status_field"),
    Key("successStatuses", "success_statuses"),
    Key("failureStatuses", "failure_statuses"),
    Key("caBundle", "ca_bundle"),
    Key("allowInsecureHttp", "allow_insecure_http"),
    Key("oauthTokenUrl", "oauth_token_url"),
    Key("oauthClientId", "oauth_client_id", secret=True),
    Key("oauthClientSecret", "oauth_client_secret", secret=True),
    Key("oauthRefreshToken", "oauth_refresh_token", secret=True),
    Key("maxTriggersPerUpdate", "max_triggers_per_update"),
    Key("skipPreviewReads", "skip_preview_reads"),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}
#: Settings whose variable beats the config: a one-off override for one command (raising the
#: limit of runs for one deliberate update), where every other variable only fills a gap.
ENV_FIRST = frozenset({"maxTriggersPerUpdate"})
#: Runs one update may trigger unless set (see docs/cost.md, "Know the bill before you pay it").
DEFAULT_MAX_TRIGGERS_PER_UPDATE = 25
#: A provider input that is no setting: the stack the provider serves, which scopes the
#: in-flight journal (not secret; not read from config).
STACK_SCOPE_KEY = f"{NAMESPACE}:stack"
#: What 0.1.0 stored instead of secrets: the names of the stack's secret keys, read back with
#: `pulumi config get`. Still found in old states; ``configure`` only notes that they existed.
LEGACY_SECRET_NAMES_KEY = f"{NAMESPACE}:stackSecrets"

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
    #: Runs (paid jobs) one update may trigger, across the stack; 0: no limit.
    max_triggers_per_update: int = DEFAULT_MAX_TRIGGERS_PER_UPDATE
    #: No Get Extractions at check (previews without network or credentials: forks' PRs).
    skip_preview_reads: bool = False

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
        """Build settings from ``get("datagol:<key>")``, then the ``DATAGOL_*`` environment.

        ``get`` is the provider's inputs (from a ``Provider`` argument or the stack config).
        Raises :class:`ConfigurationError` naming the key for a value that cannot be used.
        """
        env = os.environ if environ is None else environ
        from_env: set[str] = set()  # the keys whose value came from the environment

        def value(key: str) -> str | None:
            raw = env.get(KEYS_BY_NAME[key].env) or None if key in ENV_FIRST else None
            if raw is not None:
                from_env.add(key)
            else:
                raw = get(f"{NAMESPACE}:{key}")
            if raw is None:
                raw = env.get(KEYS_BY_NAME[key].env)
                if raw is not None:
                    from_env.add(key)
            if isinstance(raw, bool):  # a Provider argument, not a config string
                raw = "true" if raw else "false"
            elif isinstance(raw, (list, tuple)):
                raw = ",".join(str(item) for item in raw)
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
                    f"{NAMESPACE}:{key} must be {kind} of at least {minimum:g}{NOT_SHOWN}; "
                    f"fix the Provider argument {KEYS_BY_NAME[key].field}, "
                    f"`pulumi config set {NAMESPACE}:{key} <value>` or {KEYS_BY_NAME[key].env}"
                )
            return int(parsed) if integer else parsed

        def statuses(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            raw = value(key)
            if raw is None:
                return default
            items = status_list(raw)
            if items is None:
                raise ConfigurationError(
                    f"{NAMESPACE}:{key} must be a list of statuses or a comma-separated string"
                    f"{NOT_SHOWN}; e.g. `pulumi config set --path '{NAMESPACE}:{key}[0]' DONE`"
                )
            return items or default

        def flag(key: str) -> bool:
            raw = value(key)
            if raw is None:
                return False
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ConfigurationError(f"{NAMESPACE}:{key} must be true or false{NOT_SHOWN}")

        auth_scheme = (value("authScheme") or "bearer").lower()
        if auth_scheme not in AUTH_SCHEMES:
            raise ConfigurationError(
                f"{NAMESPACE}:authScheme must be one of {', '.join(AUTH_SCHEMES)}{NOT_SHOWN}"
            )
        settings = cls(
            base_url=(value("baseUrl") or DEFAULT_BASE_URL).rstrip("/"),
            token=value("token"),
            auth_scheme=auth_scheme,
            request_timeout=number("requestTimeout", cls.request_timeout, minimum=0.001),
            connect_timeout=number("connectTimeout", cls.connect_timeout, minimum=0.001),
            max_retries=int(number("maxRetries", cls.max_retries, integer=True)),
            retry_deadline=number("retryDeadline", cls.retry_deadline),
            status_field=value("statusField") or cls.status_field,
            success_statuses=statuses("successStatuses", DEFAULT_SUCCESS_STATUSES),
            failure_statuses=statuses("failureStatuses", DEFAULT_FAILURE_STATUSES),
            ca_bundle=value("caBundle"),
            allow_insecure_http=flag("allowInsecureHttp"),
            oauth_token_url=value("oauthTokenUrl"),
            oauth_client_id=value("oauthClientId"),
            oauth_client_secret=value("oauthClientSecret"),
            oauth_refresh_token=value("oauthRefreshToken"),
            max_triggers_per_update=int(
                number("maxTriggersPerUpdate", DEFAULT_MAX_TRIGGERS_PER_UPDATE, integer=True)
            ),
            skip_preview_reads=flag("skipPreviewReads"),
        )
        settings.validate(from_env)
        return settings

    def validate(self, from_env: Collection[str] = ()) -> None:
        """Refuse settings that cannot work or would expose a credential.

        ``from_env``: the keys read from ``DATAGOL_*`` variables, so that a message names the
        place the value came from.
        """
        for name in CREDENTIAL_KEYS:
            _check_credential(KEYS_BY_NAME[name], getattr(self, KEYS_BY_NAME[name].field), from_env)
        _check_url(f"{NAMESPACE}:baseUrl", self.base_url)
        check_base_url(self.base_url)
        if self.ca_bundle and not os.path.exists(self.ca_bundle):
            raise ConfigurationError(f"{NAMESPACE}:caBundle: no file at the path given{NOT_SHOWN}")
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


def status_list(raw: str) -> tuple[str, ...] | None:
    """Statuses from a setting: a comma-separated string, or a list. A YAML list in the stack
    config reaches the provider as JSON text (``["COMPLETED","DONE"]``), so text that starts
    with ``[`` is read as JSON. None: a JSON list that is not a list of plain values."""
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            return None
        if not isinstance(items, list) or any(isinstance(i, (dict, list)) for i in items):
            return None
        parts = ["" if i is None else str(i) for i in items]
    else:
        parts = text.split(",")
    return tuple(p.strip().upper() for p in parts if p.strip())


#: The settings sent as they are, in a header or the token request's form: each must be
#: exactly what was issued.
CREDENTIAL_KEYS = ("token", "oauthClientId", "oauthClientSecret", "oauthRefreshToken")


def credential_problem(value: str) -> str | None:
    """What makes ``value`` unusable as a credential (never quoting it), or None.

    Refused, not stripped: a silently changed credential would hide where it went wrong (a
    file read with its newline, a paste with a stray character).
    """
    stripped = value.strip()
    if not stripped:
        return "is only whitespace"
    if stripped != value:
        trailing = value.startswith(stripped)
        where = "trailing" if trailing else "leading"
        ends = value[len(stripped) :] if trailing else value[: value.index(stripped)]
        return (
            f"has a {where} newline" if "\n" in ends or "\r" in ends else f"has {where} whitespace"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains a control character (a tab, a newline or another unprintable one)"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return (
            "contains a character outside Latin-1, which HTTP headers cannot carry (a "
            "typographic quote or dash pasted with it?)"
        )
    return None


def _check_credential(key: Key, value: str | None, from_env: Collection[str]) -> None:
    problem = credential_problem(value) if value else None
    if problem is None:
        return
    name = key.env if key.name in from_env else key.config_key
    if problem.startswith(("has", "is only")):  # whitespace at an end
        if key.name in from_env:
            how = f'`export {key.env}="$(cat file)"`'
        else:
            how = f'`pulumi config set --secret {key.config_key} "$(cat file)"`'
        fix = f"Set it again without it, e.g. {how}: `$(...)` drops trailing newlines"
    else:
        place = (
            key.env if key.name in from_env else f"`pulumi config set --secret {key.config_key}`"
        )
        fix = f"Set it again exactly as issued ({place})"
    raise ConfigurationError(
        f"{name} {problem}; it was not used and nothing was sent. {fix}. The value is not shown."
    )


def _check_url(key: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{key} must be an http(s) URL such as {DEFAULT_BASE_URL}{NOT_SHOWN}"
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
