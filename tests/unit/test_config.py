"""Settings: config keys, environment fallbacks, clear errors, no credential in repr."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from datagol_pulumi import ConfigurationError, ExtractionRunProvider, Settings
from datagol_pulumi.config import DEFAULT_BASE_URL
from tests.conftest import configure_request


def load(config: dict, env: dict | None = None) -> Settings:
    return Settings.load(config.get, env or {})


def test_defaults() -> None:
    s = load({})
    assert s.base_url == DEFAULT_BASE_URL
    assert s.token is None
    assert s.auth_scheme == "bearer"
    assert (s.request_timeout, s.max_retries) == (60.0, 3)


def test_config_wins_over_environment() -> None:
    env = {"DATAGOL_BASE_URL": "http://127.0.0.1:1", "DATAGOL_TOKEN": "env-token"}
    assert load({}, env).base_url == "http://127.0.0.1:1"
    assert load({}, env).token == "env-token"
    s = load({"datagol:baseUrl": "https://tenant.example/", "datagol:token": "cfg"}, env)
    assert (s.base_url, s.token) == ("https://tenant.example", "cfg")


def test_all_keys_are_read() -> None:
    s = load(
        {
            "datagol:authScheme": "X-Auth-Token",
            "datagol:requestTimeout": "12.5",
            "datagol:maxRetries": "0",
            "datagol:statusField": "state",
            "datagol:successStatuses": "ok, Done",
            "datagol:failureStatuses": "boom",
        }
    )
    assert s.auth_scheme == "x-auth-token"
    assert s.request_timeout == 12.5
    assert s.max_retries == 0
    assert s.status_field == "state"
    assert s.success_statuses == ("OK", "DONE")
    assert s.failure_statuses == ("BOOM",)


@pytest.mark.parametrize(
    ("config", "text"),
    [
        ({"datagol:authScheme": "basic"}, "datagol:authScheme must be one of bearer, x-auth-token"),
        (
            {"datagol:successStatuses": '["DONE", {"a": 1}]'},
            "datagol:successStatuses must be a list",
        ),
        ({"datagol:requestTimeout": "soon"}, "datagol:requestTimeout must be a number of seconds"),
        ({"datagol:maxRetries": "1.5"}, "datagol:maxRetries must be a whole number"),
        ({"datagol:baseUrl": "tenant-7.example"}, "datagol:baseUrl must be an http(s) URL"),
        ({"datagol:allowInsecureHttp": "maybe"}, "datagol:allowInsecureHttp must be true or false"),
        ({"datagol:caBundle": "/nonexistent/ca.pem"}, "datagol:caBundle: no file"),
        ({"datagol:oauthRefreshToken": "rt-7f3a"}, "datagol:oauthTokenUrl is not"),
    ],
)
def test_bad_values_name_the_key(config: dict, text: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as info:
        load(config)
    assert text in str(info.value)
    # Never the value itself: any setting may have been set with `--secret`.
    [value] = config.values()
    assert value not in str(info.value)


def test_token_is_not_sent_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ConfigurationError) as info:
        load({"datagol:baseUrl": "http://datagol.internal", "datagol:token": "s3cret"})
    assert "datagol:allowInsecureHttp" in str(info.value)
    assert "s3cret" not in str(info.value)
    # Loopback is fine, and so is an explicit opt-in.
    load({"datagol:baseUrl": "http://127.0.0.1:8080", "datagol:token": "s3cret"})
    load({"datagol:baseUrl": "http://localhost:8080", "datagol:token": "s3cret"})
    load(
        {
            "datagol:baseUrl": "http://datagol.internal",
            "datagol:token": "s3cret",
            "datagol:allowInsecureHttp": "true",
        }
    )


def test_repr_hides_credentials() -> None:
    s = load(
        {
            "datagol:token": "tok-123",
            "datagol:oauthTokenUrl": "https://idp.example/token",
            "datagol:oauthClientSecret": "cs-456",
            "datagol:oauthRefreshToken": "rt-789",
        }
    )
    text = repr(s)
    for secret in ("tok-123", "cs-456", "rt-789"):
        assert secret not in text
    assert sorted(s.secrets()) == ["cs-456", "rt-789", "tok-123"]


def test_configured_provider_pickles_without_settings() -> None:
    provider = ExtractionRunProvider()
    provider.configure(
        configure_request({"datagol:token": "tok-123", "datagol:baseUrl": "http://127.0.0.1:9"})
    )
    provider.client()  # builds the session
    data = pickle.dumps(provider)
    assert b"tok-123" not in data
    assert b"Session" not in data
    clone = pickle.loads(data)
    assert not hasattr(clone, "_settings")
    assert provider.client().settings.token == "tok-123"


def test_every_setting_falls_back_to_its_environment_variable() -> None:
    env = {
        "DATAGOL_BASE_URL": "https://env.example",
        "DATAGOL_TOKEN": "env-tok",
        "DATAGOL_AUTH_SCHEME": "x-auth-token",
        "DATAGOL_REQUEST_TIMEOUT": "11",
        "DATAGOL_CONNECT_TIMEOUT": "2",
        "DATAGOL_MAX_RETRIES": "5",
        "DATAGOL_RETRY_DEADLINE": "30",
        "DATAGOL_STATUS_FIELD": "state",
        "DATAGOL_SUCCESS_STATUSES": "ok",
        "DATAGOL_FAILURE_STATUSES": "bad",
        "DATAGOL_CA_BUNDLE": __file__,
        "DATAGOL_ALLOW_INSECURE_HTTP": "true",
        "DATAGOL_OAUTH_TOKEN_URL": "https://idp.example/token",
        "DATAGOL_OAUTH_CLIENT_ID": "cid",
        "DATAGOL_OAUTH_CLIENT_SECRET": "csec",
        "DATAGOL_OAUTH_REFRESH_TOKEN": "rtok",
    }
    s = load({}, env)
    assert s == Settings(
        base_url="https://env.example",
        token="env-tok",
        auth_scheme="x-auth-token",
        request_timeout=11.0,
        connect_timeout=2.0,
        max_retries=5,
        retry_deadline=30.0,
        status_field="state",
        success_statuses=("OK",),
        failure_statuses=("BAD",),
        ca_bundle=__file__,
        allow_insecure_http=True,
        oauth_token_url="https://idp.example/token",
        oauth_client_id="cid",
        oauth_client_secret="csec",
        oauth_refresh_token="rtok",
    )
    # A provider input (argument or config) beats the variable, key by key.
    assert load({"datagol:maxRetries": 0.0}, env).max_retries == 0


def test_values_as_provider_arguments_arrive_typed() -> None:
    # The engine hands numbers as floats, booleans as booleans, lists as lists.
    s = load(
        {
            "datagol:requestTimeout": 7.5,
            "datagol:maxRetries": 2.0,
            "datagol:allowInsecureHttp": True,
            "datagol:successStatuses": ["ok", "Done"],
            "datagol:baseUrl": "http://datagol.internal",
            "datagol:token": "t",
        }
    )
    assert (s.request_timeout, s.max_retries, s.allow_insecure_http) == (7.5, 2, True)
    assert s.success_statuses == ("OK", "DONE")


def test_a_bad_number_names_every_place_it_can_come_from() -> None:
    with pytest.raises(ConfigurationError) as info:
        load({}, {"DATAGOL_REQUEST_TIMEOUT": "soon"})
    text = str(info.value)
    assert "datagol:requestTimeout" in text
    assert "Provider argument request_timeout" in text and "DATAGOL_REQUEST_TIMEOUT" in text


def test_no_module_the_provider_runs_starts_a_process() -> None:
    # Settings travel as provider inputs; the provider never shells out to `pulumi` (or
    # anything else). The emulator is a separate tool and may.
    package = Path(__file__).resolve().parents[2] / "datagol_pulumi"
    offenders = []
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if isinstance(node, ast.Attribute) and node.attr in ("system", "popen", "execvp"):
                names = [f"os.{node.attr}"]
            offenders += [f"{path.name}: {n}" for n in names if {n, n.split(".")[0]} & BANNED]
    assert offenders == []


BANNED = {"subprocess", "os.system", "os.popen", "os.execvp", "pty", "multiprocessing"}


CREDENTIALS = [
    ("token", "DATAGOL_TOKEN"),
    ("oauthClientId", "DATAGOL_OAUTH_CLIENT_ID"),
    ("oauthClientSecret", "DATAGOL_OAUTH_CLIENT_SECRET"),
    ("oauthRefreshToken", "DATAGOL_OAUTH_REFRESH_TOKEN"),
]
SECRET = "s3cr3t-VALUE"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (SECRET + "\n", "has a trailing newline"),
        (SECRET + "\r\n", "has a trailing newline"),
        (SECRET + " ", "has trailing whitespace"),
        ("\t" + SECRET, "has leading whitespace"),
        (" \n", "is only whitespace"),
        (SECRET[:3] + "\x00" + SECRET[3:], "contains a control character"),
        (SECRET[:3] + "\n" + SECRET[3:], "contains a control character"),
        (SECRET + "\u201d", "contains a character outside Latin-1, which HTTP headers"),
    ],
)
@pytest.mark.parametrize(("key", "env"), CREDENTIALS)
def test_an_unusable_credential_is_refused_naming_it_never_quoting_it(
    key: str, env: str, value: str, problem: str
) -> None:
    oauth = {"datagol:oauthTokenUrl": "https://idp.example/token"}
    for config, environ, named in (
        ({f"datagol:{key}": value, **oauth}, {}, f"datagol:{key}"),
        (oauth, {env: value}, env),
    ):
        with pytest.raises(ConfigurationError) as info:
            load(config, environ)
        text = str(info.value)
        assert text.startswith(f"{named} {problem}")
        assert "nothing was sent" in text and "Set it again" in text
        assert SECRET not in text and SECRET[:3] not in text


def test_a_trailing_newline_names_the_fix_for_where_it_came_from() -> None:
    with pytest.raises(ConfigurationError) as info:
        load({"datagol:token": "tok\n"})
    assert '`pulumi config set --secret datagol:token "$(cat file)"`' in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        load({}, {"DATAGOL_TOKEN": "tok\n"})
    assert '`export DATAGOL_TOKEN="$(cat file)"`' in str(info.value)


def test_credentials_are_kept_exactly_as_given() -> None:
    # Refused, never stripped; inner spaces and Latin-1 letters are legal header text.
    s = load({"datagol:token": "a b\u00e9"})
    assert s.token == "a b\u00e9"
