"""``Provider`` in a program (Pulumi's mocks): which inputs the engine receives, which are
secret, and which provider each run is registered with."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pulumi
import pytest

from datagol_pulumi import ExtractionRun, ExtractionRunGroup, Provider, ProviderArgs, Settings
from datagol_pulumi.config import KEYS
from tests.conftest import BASE_RUN
from tests.unit.mocks import run_program

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": value}


def test_every_setting_is_an_argument_of_provider_and_a_field_of_settings() -> None:
    names = [k.field for k in KEYS]
    assert [f.name for f in fields(ProviderArgs)] == names
    assert [f.name for f in fields(Settings)] == names
    assert {k.env for k in KEYS} == {"DATAGOL_" + n.upper() for n in names}


def test_arguments_beat_config_and_the_environment_is_never_read(monkeypatch) -> None:
    monkeypatch.setenv("DATAGOL_CONNECT_TIMEOUT", "99")
    monkeypatch.setenv("DATAGOL_TOKEN", "env-token")
    config = {
        "datagol:baseUrl": "https://config.example",
        "datagol:token": "config-token",
        "datagol:requestTimeout": "5",
    }

    def body() -> None:
        Provider("arg", token="arg-token", request_timeout=7.5, success_statuses=["OK"])
        Provider("config")

    mocks = run_program(body, config, ["datagol:token"])
    stack = "datagol:stack"
    assert mocks.providers()["arg"] == {
        "datagol:baseUrl": "https://config.example",
        "datagol:token": secret("arg-token"),
        "datagol:requestTimeout": 7.5,
        "datagol:successStatuses": ["OK"],
        stack: mocks.providers()["arg"][stack],
    }
    assert mocks.providers()["config"] == {
        "datagol:baseUrl": "https://config.example",
        "datagol:token": secret("config-token"),
        "datagol:requestTimeout": "5",
        stack: mocks.providers()["arg"][stack],
    }
    assert mocks.providers()["arg"][stack].endswith("/datagol-pulumi/test")


def test_credentials_are_secret_even_from_plain_config_and_arguments() -> None:
    config = {
        "datagol:oauthTokenUrl": "https://idp.example/token",
        "datagol:oauthClientId": "client",
        "datagol:oauthClientSecret": "client-secret",
        "datagol:oauthRefreshToken": "refresh",
        "datagol:baseUrl": "https://secret-url.example",
    }

    def body() -> None:
        Provider("p", args=ProviderArgs(token="plain-arg"))

    inputs = run_program(body, config, ["datagol:baseUrl"]).providers()["p"]
    assert inputs["datagol:token"] == secret("plain-arg")
    assert inputs["datagol:oauthClientId"] == secret("client")
    assert inputs["datagol:oauthClientSecret"] == secret("client-secret")
    assert inputs["datagol:oauthRefreshToken"] == secret("refresh")
    assert inputs["datagol:oauthTokenUrl"] == "https://idp.example/token"
    # A key the user chose to keep secret stays secret.
    assert inputs["datagol:baseUrl"] == secret("https://secret-url.example")


def test_args_and_keywords_together_are_refused_and_opts_may_come_second() -> None:
    def body() -> None:
        with pytest.raises(TypeError, match="either as ProviderArgs or as keyword arguments"):
            Provider("both", ProviderArgs(token="a"), token="b")
        Provider("opts-second", pulumi.ResourceOptions(protect=True), base_url="https://x.example")

    mocks = run_program(body)
    assert list(mocks.providers()) == ["opts-second"]
    assert mocks.providers()["opts-second"]["datagol:baseUrl"] == "https://x.example"


def run_kwargs(name: str) -> dict[str, Any]:
    return {**BASE_RUN, "element_id": f"el-{name}"}


def test_runs_share_one_implicit_provider_unless_given_one() -> None:
    def body() -> None:
        ExtractionRun("a", **run_kwargs("a"))
        ExtractionRun("b", **run_kwargs("b"))
        ExtractionRunGroup("g", runs={"x": run_kwargs("x")})
        tenant = Provider("tenant", base_url="https://tenant.example")
        ExtractionRun("c", **run_kwargs("c"), opts=pulumi.ResourceOptions(provider=tenant))
        component = pulumi.ComponentResource(
            "test:index:Seeding", "seed", None, pulumi.ResourceOptions(providers=[tenant])
        )
        ExtractionRun("d", **run_kwargs("d"), opts=pulumi.ResourceOptions(parent=component))

    mocks = run_program(body, {"datagol:baseUrl": "https://implicit.example"})
    assert sorted(mocks.providers()) == ["datagol", "tenant"]
    assert mocks.providers()["datagol"]["datagol:baseUrl"] == "https://implicit.example"
    assert [mocks.provider_of(n) for n in "abgcd"] == ["datagol"] * 3 + ["tenant"] * 2


def test_a_program_with_only_explicit_providers_creates_no_implicit_one() -> None:
    def body() -> None:
        tenant = Provider("tenant", base_url="https://tenant.example")
        ExtractionRun("a", **run_kwargs("a"), opts=pulumi.ResourceOptions(provider=tenant))

    assert list(run_program(body).providers()) == ["tenant"]


def test_each_program_run_gets_its_own_implicit_provider() -> None:
    # Concurrent programs are proven end to end (tests/e2e/test_automation.py); the SDK's
    # mocks keep process-wide state and cannot run two programs at once.
    for name in ("east", "west"):

        def body(name: str = name) -> None:
            ExtractionRun(f"{name}-1", **run_kwargs("1"))

        mocks = run_program(body, {"datagol:baseUrl": f"https://{name}.example"})
        assert mocks.providers() == {
            "datagol": {
                "datagol:baseUrl": f"https://{name}.example",
                "datagol:stack": mocks.providers()["datagol"]["datagol:stack"],
            }
        }
        assert mocks.provider_of(f"{name}-1") == "datagol"


def test_the_docs_two_tenant_example_does_what_it_says() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "installation-configuration.md"
    [example] = [
        b for b in re.findall(r"```python\n(.*?)```", docs.read_text(), re.S) if "eu_tenant" in b
    ]
    config = {"datagol:baseUrl": "https://default.example", "eu:token": "eu-token"}
    mocks = run_program(lambda: exec(example, {}), config, ["eu:token"])
    assert mocks.providers()["eu"]["datagol:token"] == secret("eu-token")
    assert mocks.providers()["eu"]["datagol:requestTimeout"] == 120
    assert mocks.providers()["datagol"]["datagol:baseUrl"] == "https://default.example"
    assert {n: mocks.provider_of(n) for n in ("orders", "orders-eu", "invoices-eu")} == {
        "orders": "datagol",
        "orders-eu": "eu",
        "invoices-eu": "eu",
    }
