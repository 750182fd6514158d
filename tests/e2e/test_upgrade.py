"""Upgrading from 0.1.0: its state (provider inputs naming secret keys instead of holding
them) becomes current with one `pulumi up` that updates the provider and sends nothing.

fixtures/state-v0.1.0.json and fixtures/Pulumi.legacy.yaml were made with 0.1.0 itself
(fixtures/make_state_v0_1_0.py): runs "a" (fire and forget) and "b" (waits for completion).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import TOKEN

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROVIDER_URN = "urn:pulumi:legacy::datagol-pulumi::pulumi:providers:pulumi-python::datagol"
WAITED_RUN_URN = "urn:pulumi:legacy::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::b"


def test_upgrade_from_0_1_0_is_a_provider_update_only(make_stack, tmp_path: Path) -> None:
    stack = make_stack([], name="legacy", token=None)
    emulator = stack.emulator
    # The fixture's emulator listened on another free port: point both files at this one.
    old_url = (FIXTURES / "state-v0.1.0.url").read_text().strip()
    stack.config_file.write_text(
        (FIXTURES / "Pulumi.legacy.yaml").read_text().replace(old_url, emulator.url)
    )
    state = tmp_path / "state.json"
    state.write_text((FIXTURES / "state-v0.1.0.json").read_text().replace(old_url, emulator.url))
    stack.pulumi("stack", "import", "--file", str(state))
    before = {r["urn"]: r for r in stack.export()["deployment"]["resources"]}
    assert before[PROVIDER_URN]["inputs"]["datagol:stackSecrets"] == "token"

    # Before the upgrade's `up`, the old provider has no token: a run that tracks nothing
    # refreshes without one, a waited run says what to do, and neither sends a request.
    failed = stack.pulumi("refresh", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert "deployed by datagol-pulumi 0.1.0" in failed.stdout
    assert "Run `pulumi up` once" in failed.stdout
    assert emulator.requests() == []

    upgraded = stack.up()
    assert emulator.requests() == []  # no run re-triggered, no status read
    assert "~ 1 updated" in upgraded.stdout and "3 unchanged" in upgraded.stdout
    # The waited run gets its completion, which takes the run's own record: it finished.
    assert "+ 1 created" in upgraded.stdout
    assert "replace" not in upgraded.stdout
    after = {r["urn"]: r for r in stack.export()["deployment"]["resources"]}
    [completion] = after.keys() - before.keys()
    assert after[completion]["outputs"]["runs"][""]["status"] == "COMPLETED"
    provider = after[PROVIDER_URN]
    assert provider["id"] == before[PROVIDER_URN]["id"]  # updated in place, not replaced
    assert "datagol:stackSecrets" not in provider["inputs"]
    # --show-secrets (export()) decrypts it, as for any provider's credentials.
    assert provider["inputs"]["datagol:token"]["plaintext"] == json.dumps(TOKEN)
    for urn, resource in before.items():
        if resource["type"].endswith("ExtractionRun"):
            assert after[urn]["id"] == resource["id"]
            assert after[urn]["outputs"]["run_count"] == 1
            assert after[urn]["outputs"]["request_id"] == resource["outputs"]["request_id"]
    exported = stack.pulumi("stack", "export").stdout
    assert TOKEN not in exported

    # From now on refresh reads the waited run's status with the token from the state.
    stack.pulumi("refresh", "--yes", "--skip-preview")
    [get] = emulator.requests()
    assert get["method"] == "GET"
    assert get["path"].endswith(after[WAITED_RUN_URN]["outputs"]["request_id"])
    assert get["auth"]["token_sha256"] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert get["auth"]["valid"] is True
    assert json.dumps(emulator.requests()).count(TOKEN) == 0
