"""Credentials the Pulumi way, through the real CLI: secrets travel as provider inputs.

Every request the emulator received is counted and the token it carried is compared by its
sha256 (the emulator records hashes, never tokens). Secrets are grepped for in the state
export (without --show-secrets), the CLI output (--debug included), the emulator's records
and log, and the error a refused token produces.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from typing import Any

import yaml

from datagol_pulumi.emulator import Emulator
from tests.conftest import sent
from tests.e2e.conftest import run

T1, T2, T3, WRONG = "tok-ONE-5150", "tok-TWO-5151", "tok-THREE-5152", "tok-WRONG-5153"
WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
PROVIDER_TYPE = "pulumi:providers:pulumi-python"


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_used(requests: list[dict[str, Any]]) -> set[tuple[str, str | None, bool]]:
    return {(r["method"], r["auth"]["token_sha256"], r["auth"]["valid"]) for r in requests}


def test_rotation_config_file_rename_and_no_secret_in_clear(make_stack, capfd) -> None:
    stack = make_stack([run("a", **WAIT)], token=WRONG)
    emulator = stack.emulator
    emulator.configure(tokens=[T1], verbose=True)

    # A refused token fails the `up` naming the setting, never the token; a 401 starts no job.
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert "DataGOL refused the credentials" in failed.stdout
    assert "datagol:token" in failed.stdout
    # Refused at check by the free read (Get Extractions), before the POST was sent.
    assert [(r["method"], r["status"]) for r in emulator.requests()] == [("GET", 401)]
    emulator.clear_requests()

    stack.pulumi("config", "set", "--secret", "datagol:token", T1)
    stack.up("--debug")
    assert len(stack.posts()) == 1
    assert tokens_used(emulator.requests()) == {("POST", sha(T1), True), ("GET", sha(T1), True)}
    emulator.clear_requests()

    # Rotation: the provider is updated, nothing is sent, and the next request carries T2.
    emulator.configure(tokens=[T2])
    stack.pulumi("config", "set", "--secret", "datagol:token", T2)
    rotated = stack.up("-v=9", "--logtostderr")
    assert sent(emulator) == []
    assert "~ 1 updated" in rotated.stdout
    assert f"{PROVIDER_TYPE} datagol updated" in rotated.stdout
    # The engine's own verbose log shows the provider's inputs with the token masked.
    assert "datagol:token:{[secret]}" in rotated.stderr
    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert tokens_used(emulator.requests()) == {("GET", sha(T2), True)}
    emulator.clear_requests()

    # A renamed stack refreshes without an `up` in between: nothing names the old stack.
    stack.pulumi("stack", "rename", "renamed")
    stack.name = "renamed"
    assert stack.config_file.exists()
    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert tokens_used(emulator.requests()) == {("GET", sha(T2), True)}
    emulator.clear_requests()

    # --config-file: the token is only in that file, next to a run edited to trigger again.
    other = stack.workdir / "other.yaml"
    shutil.copy(stack.config_file, other)
    stack.pulumi("config", "rm", "datagol:token")
    stack.pulumi("config", "set", "--secret", "datagol:token", T3, "--config-file", str(other))
    data = yaml.safe_load(other.read_text())
    data["config"]["datagol-pulumi:runs"][0]["triggers"] = {"rotation": "3"}
    other.write_text(yaml.safe_dump(data, sort_keys=False))
    emulator.configure(tokens=[T3])
    stack.up("--config-file", str(other))
    [post] = stack.posts()
    assert (post["auth"]["token_sha256"], post["auth"]["valid"]) == (sha(T3), True)

    # The state holds the token as ciphertext only, as a secret input of the provider.
    exported = stack.pulumi("stack", "export").stdout
    [provider] = [
        r for r in json.loads(exported)["deployment"]["resources"] if r["type"] == PROVIDER_TYPE
    ]
    assert set(provider["inputs"]["datagol:token"]) == {
        "4dabf18193072939515e22adb298388d",
        "ciphertext",
    }
    emulator_log = capfd.readouterr().err
    assert "datagol-emulator: POST" in emulator_log
    for secret in (T1, T2, T3, WRONG):
        assert secret not in exported
        assert secret not in stack.all_output()
        assert secret not in json.dumps(emulator.requests())
        assert secret not in emulator_log


TWO_TENANTS = """
import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider
from datagol_pulumi import ExtractionRun, Provider


class Echo(ResourceProvider):
    def create(self, props):
        return CreateResult("tenant", {"url": props["given"]})


class Tenant(Resource):
    url: pulumi.Output[str]

    def __init__(self, name, given):
        super().__init__(Echo(), name, {"given": given, "url": None})


tenants = pulumi.Config("tenants")
# Tenant B's URL is another resource's output: unknown at preview, known once it is created.
tenant_b_url = Tenant("tenant-b-url", tenants.require("bUrl")).url
tenant_b = Provider("tenant-b", base_url=tenant_b_url, token=tenants.require_secret("bToken"))


def spec(name, **extra):
    return dict(workspace_id="6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f", extraction_id="ext-1",
                element_type="COLUMN", element_id="el-" + name, **extra)


class Seeding(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Seeding", name, None, opts)
        ExtractionRun("b2", **spec("b2"), opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


# Tenant A: the implicit provider, from datagol:* config (its token only in DATAGOL_TOKEN).
ExtractionRun("a1", **spec("a1", wait_for_completion=True, poll_interval_seconds=0.1))
# Tenant B: an explicit provider, directly and through a component's providers.
ExtractionRun("b1", **spec("b1"), opts=pulumi.ResourceOptions(provider=tenant_b))
Seeding("seed", opts=pulumi.ResourceOptions(providers=[tenant_b]))
"""
ENV1, ENV2, TENANT_B = "env-ONE-7001", "env-TWO-7002", "tenant-B-7003"


def test_two_tenants_and_a_token_only_in_the_environment(make_stack, tmp_path) -> None:
    program = tmp_path / "two_tenants.py"
    program.write_text(TWO_TENANTS)
    stack = make_stack([], program=program, token=None)
    tenant_a = stack.emulator
    tenant_a.configure(tokens=[ENV1])
    with Emulator(tokens=[TENANT_B]) as tenant_b:
        stack.pulumi("config", "set", "tenants:bUrl", tenant_b.url)
        stack.pulumi("config", "set", "--secret", "tenants:bToken", TENANT_B)
        # tenant-b gets its token as an argument, which beats the environment.
        stack.env["DATAGOL_TOKEN"] = ENV1
        preview = stack.preview()
        # stack, tenant url, 2 providers, component, 3 runs, the waited run's completion
        assert "+ 9 to create" in preview.stdout
        assert sent(tenant_a) == [] and sent(tenant_b) == []
        stack.up()
        assert tokens_used(tenant_a.requests()) == {
            ("POST", sha(ENV1), True),
            ("GET", sha(ENV1), True),
        }
        assert [p["segments"][-2] for p in tenant_a.requests(method="POST")] == ["el-a1"]
        # The GETs of tenant b: the Get Extractions reads made at check, with its own token.
        assert tokens_used(tenant_b.requests()) == {
            ("POST", sha(TENANT_B), True),
            ("GET", sha(TENANT_B), True),
        }
        assert sorted(p["segments"][-2] for p in sent(tenant_b)) == ["el-b1", "el-b2"]
        tenant_a.clear_requests()
        tenant_b.clear_requests()

        state = stack.export()["deployment"]["resources"]  # secrets decrypted
        stack.transcript.pop()  # which is the point of --show-secrets: not grepped below
        providers = {r["urn"].rsplit("::", 1)[-1] for r in state if r["type"] == PROVIDER_TYPE}
        assert providers == {"datagol", "tenant-b", "default"}  # "default": Tenant's own
        uses = {
            r["urn"].rsplit("::", 1)[-1]: r["provider"].split("::")[-2]
            for r in state
            if r["type"].endswith("ExtractionRun")
        }
        assert uses == {"a1": "datagol", "b1": "tenant-b", "b2": "tenant-b"}
        assert ENV1 not in json.dumps(state)  # from the environment: never stored at all

        # The environment is read when the provider runs: refresh uses today's DATAGOL_TOKEN.
        tenant_a.configure(tokens=[ENV2])
        stack.env["DATAGOL_TOKEN"] = ENV2
        stack.pulumi("refresh", "--yes", "--skip-preview")
        assert tokens_used(tenant_a.requests()) == {("GET", sha(ENV2), True)}
        assert sent(tenant_b) == []  # its runs track nothing
        tenant_a.clear_requests()
        again = stack.up()
        assert "unchanged" in again.stdout and "updated" not in again.stdout
        stack.pulumi("destroy", "--yes", "--skip-preview")
        assert sent(tenant_a) == [] and sent(tenant_b) == []

    exported = stack.pulumi("stack", "export").stdout
    for secret in (ENV1, ENV2, TENANT_B):
        assert secret not in exported
        assert secret not in stack.all_output()
