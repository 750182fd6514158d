"""Settings both faces check before anything is sent: key names, the base URL's shape."""

from __future__ import annotations

import pytest

from datagol_pulumi.config import KEYS_BY_NAME, Settings
from datagol_pulumi.errors import ConfigurationError
from datagol_pulumi.setting_checks import unknown_key_problem


def load(config: dict[str, str], env: dict[str, str] | None = None) -> Settings:
    return Settings.load(config.get, env or {})


@pytest.mark.parametrize(
    ("key", "closest"),
    [("baseURL", "baseUrl"), ("tokn", "token"), ("maxTriggerPerUpdate", "maxTriggersPerUpdate")],
)
def test_unknown_key_names_the_closest_valid_one(key: str, closest: str) -> None:
    problem = unknown_key_problem(key, KEYS_BY_NAME)
    assert problem is not None
    assert problem.startswith(f"unknown setting datagol:{key}; did you mean datagol:{closest}? ")
    assert f"`pulumi config rm datagol:{key}`" in problem


def test_known_keys_pass_and_far_ones_get_no_guess() -> None:
    assert all(unknown_key_problem(k, KEYS_BY_NAME) is None for k in KEYS_BY_NAME)
    problem = unknown_key_problem("region", KEYS_BY_NAME)
    assert problem is not None and "did you mean" not in problem
    assert "valid: allowInsecureHttp, authScheme, baseUrl" in problem


@pytest.mark.parametrize(
    ("url", "problem", "fix"),
    [
        ("http://127.0.0.1:18791/noCo/api/v2", "has a path", "http://127.0.0.1:18791"),
        ("https://tenant.example/api", "has a path", "https://tenant.example"),
        ("https://tenant.example?x=1", "has a query or a fragment", "https://tenant.example"),
        ("https://tenant.example#top", "has a query or a fragment", "https://tenant.example"),
        ("http://127.0.0.1:notaport", "has a port that is not a number", "http://127.0.0.1:<port>"),
        ("http://127.0.0.1:70000", "has a port that is not a number", "http://127.0.0.1:<port>"),
        ("http://127.0.0.1:0", "has a port that is not a number", "http://127.0.0.1:<port>"),
    ],
)
def test_base_url_is_scheme_host_and_port_only(url: str, problem: str, fix: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load({"datagol:baseUrl": url})
    text = str(refused.value)
    assert text.startswith(f"datagol:baseUrl {problem}")
    assert f"`pulumi config set datagol:baseUrl {fix}`" in text


@pytest.mark.parametrize(
    "url", ["https://be.datagol.ai", "https://be.datagol.ai/", "http://[::1]:8080", "http://h:1"]
)
def test_plain_hosts_pass(url: str) -> None:
    assert load({"datagol:baseUrl": url}).base_url == url.rstrip("/")


def test_skip_preview_reads_from_config_or_environment() -> None:
    assert load({}).skip_preview_reads is False
    assert load({"datagol:skipPreviewReads": "true"}).skip_preview_reads is True
    assert load({}, {"DATAGOL_SKIP_PREVIEW_READS": "true"}).skip_preview_reads is True
    with pytest.raises(ConfigurationError, match="datagol:skipPreviewReads must be true or false"):
        load({"datagol:skipPreviewReads": "maybe"})
