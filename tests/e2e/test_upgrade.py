"""Upgrading from 0.1.0 and 0.2.0.

From 0.1.0: its state (provider inputs naming secret keys instead of holding them) becomes
current with one `pulumi up` that updates the provider and sends nothing.

fixtures/state-v0.1.0.json and fixtures/Pulumi.legacy.yaml were made with 0.1.0 itself
(fixtures/make_state_v0_1_0.py): runs "a" (fire and forget) and "b" (waits for completion).

From 0.2.0: a waited run gets its ExtractionRunCompletion on the first `up`, which takes the
final status the run recorded when 0.2.0 waited inside its create, so nothing is sent, and
the stack works on as if deployed by this version. fixtures/state-v0.2.0.json (runs "a" and
"b" as above) and state-v0.2.0.group.json (a group "runs" of two waited runs "c" and "d"),
with their Pulumi.v020*.yaml, were made by 0.2.0 itself (fixtures/make_state_v0_2_0.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import TOKEN, sent
from tests.e2e.conftest import COMPLETION_TYPE, RUN_TYPE, run

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
    assert sent(emulator) == []

    upgraded = stack.up()
    assert sent(emulator) == []  # no run re-triggered, no status read
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
    [get] = sent(emulator)
    assert get["method"] == "GET"
    assert get["path"].endswith(after[WAITED_RUN_URN]["outputs"]["request_id"])
    assert get["auth"]["token_sha256"] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert get["auth"]["valid"] is True
    assert json.dumps(emulator.requests()).count(TOKEN) == 0


#: Made by 0.2.0 itself (fixtures/make_state_v0_2_0.py), whose waited runs waited inside their
#: own create and recorded the final status there; it had no ExtractionRunCompletion.
V020_URL = FIXTURES / "state-v0.2.0.url"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"


def import_0_2_0(make_stack, tmp_path: Path, name: str, state_file: str) -> Any:
    """A fresh stack holding what 0.2.0 deployed, its URLs pointed at this test's emulator."""
    stack = make_stack([], name=name, token=None)
    old_url = V020_URL.read_text().strip()
    new_url = stack.emulator.url
    stack.config_file.write_text(
        (FIXTURES / f"Pulumi.{name}.yaml").read_text().replace(old_url, new_url)
    )
    state = tmp_path / "state.json"
    state.write_text((FIXTURES / state_file).read_text().replace(old_url, new_url))
    stack.pulumi("stack", "import", "--file", str(state))
    assert not stack.resources(COMPLETION_TYPE)  # 0.2.0 had none
    return stack


def with_triggers(stack: Any, name: str, triggers: dict[str, Any]) -> None:
    """Give run ``name`` ``triggers``; every other run and config key stays as it is."""
    runs = yaml.safe_load(stack.config_file.read_text())["config"]["datagol-pulumi:runs"]
    [entry] = [r for r in runs if r["name"] == name]
    entry["triggers"] = triggers
    stack.set_runs(runs)


def settled(stack: Any, after: dict[str, Any]) -> None:
    """After the upgrade's `up`: a preview and an `up` with nothing to do, sending nothing."""
    noop = stack.preview("--diff")  # nothing to change, no output left unknown
    assert "~ " not in noop.stdout and "[unknown]" not in noop.stdout, noop.stdout
    again = stack.up()
    assert sent(stack.emulator) == []
    assert "created" not in again.stdout and "updated" not in again.stdout
    assert stack.state() == after


def gets_only_for(emulator: Any, request_id: str) -> None:
    gets = [r for r in sent(emulator) if r["method"] == "GET"]  # not the checks' reads
    assert gets, "the completion read no status"
    assert all(g["path"].endswith(request_id) for g in gets), [g["path"] for g in gets]


def trigger_again(stack: Any, name: str) -> str:
    """Re-run ``name`` by a triggers change: one POST, for it, and its completion's status
    reads of that request only. Returns the new request id."""
    with_triggers(stack, name, {"rerun": 1})
    stack.up()
    [post] = stack.posts()
    assert f"/el-{name}" in post["path"]
    new_id = post["request_id"]
    gets_only_for(stack.emulator, new_id)
    assert len(stack.emulator.requests()) == 1 + len(stack.emulator.requests(method="GET"))
    return new_id


def test_upgrade_from_0_2_0_adds_completions_without_a_request(make_stack, tmp_path: Path) -> None:
    stack = import_0_2_0(make_stack, tmp_path, "v020", "state-v0.2.0.json")
    emulator = stack.emulator
    waited, fire_and_forget = stack.urn("b"), stack.urn("a")
    before = stack.state()
    assert before[waited]["outputs"]["status"] == "COMPLETED"  # 0.2.0's in-step wait wrote it

    upgraded = stack.up()
    assert sent(emulator) == []  # no trigger, and no Poll Status either
    assert "+ 1 created" in upgraded.stdout  # b's completion; a does not wait
    assert "replace" not in upgraded.stdout and "delete" not in upgraded.stdout
    after = stack.state()
    [completion] = after.keys() - before.keys()
    assert completion == stack.urn("b", COMPLETION_TYPE, parent_type=RUN_TYPE)  # the run's child
    result = after[completion]["outputs"]["runs"][""]
    assert result["status"] == "COMPLETED" and result["awaited"] is True
    assert result["request_ids"] == before[waited]["outputs"]["request_ids"]
    for urn in (waited, fire_and_forget):
        assert after[urn]["id"] == before[urn]["id"]
        for key in ("request_id", "request_ids", "run_count", "triggered_at"):
            assert after[urn]["outputs"][key] == before[urn]["outputs"][key], (urn, key)
    outputs = stack.outputs()
    assert outputs["b"]["status"] == "COMPLETED"
    assert outputs["b"]["finished_at"] == before[waited]["outputs"]["finished_at"]
    assert outputs["a"]["request_id"] == before[fire_and_forget]["outputs"]["request_id"]

    settled(stack, after)

    # Still a working stack: a re-run of the waited run is one POST, and its completion
    # waits for the new request id only.
    new_id = trigger_again(stack, "b")
    assert new_id != before[waited]["outputs"]["request_id"]
    [rerun] = stack.completed()["b"].values()
    assert rerun["status"] == "COMPLETED" and rerun["awaited"] is True
    assert rerun["request_ids"] == [new_id]
    final = stack.state()
    assert final[waited]["outputs"]["run_count"] == 2
    assert final[fire_and_forget] == after[fire_and_forget]
    assert stack.outputs()["b"]["request_id"] == new_id


def test_upgrade_from_0_2_0_group_adds_one_completion_without_a_request(
    make_stack, tmp_path: Path
) -> None:
    stack = import_0_2_0(make_stack, tmp_path, "v020-group", "state-v0.2.0.group.json")
    emulator = stack.emulator
    group = stack.urn("runs", GROUP_TYPE)
    before = stack.state()
    old_results = before[group]["outputs"]["results"]
    assert {k: r["status"] for k, r in old_results.items()} == {"c": "COMPLETED", "d": "COMPLETED"}

    upgraded = stack.up()
    assert sent(emulator) == []
    assert "+ 1 created" in upgraded.stdout  # one completion for the whole group
    assert "replace" not in upgraded.stdout and "delete" not in upgraded.stdout
    after = stack.state()
    [completion] = after.keys() - before.keys()
    assert completion == stack.urn("runs", COMPLETION_TYPE, parent_type=GROUP_TYPE)
    runs = after[completion]["outputs"]["runs"]
    assert set(runs) == {"c", "d"}
    for key, result in runs.items():
        assert result["status"] == "COMPLETED" and result["awaited"] is True, key
        assert result["request_ids"] == old_results[key]["request_ids"], key
    assert after[group]["id"] == before[group]["id"]
    for key, result in after[group]["outputs"]["results"].items():
        for field in ("request_id", "request_ids", "run_count", "triggered_at"):
            assert result[field] == old_results[key][field], (key, field)
    outputs = stack.outputs()
    assert outputs["c"]["status"] == outputs["d"]["status"] == "COMPLETED"

    settled(stack, after)

    new_id = trigger_again(stack, "d")
    runs = stack.completed()["runs"]
    assert runs["d"]["status"] == "COMPLETED" and runs["d"]["awaited"] is True
    assert runs["d"]["request_ids"] == [new_id]
    assert runs["c"]["request_ids"] == old_results["c"]["request_ids"]
    assert runs["c"]["status"] == "COMPLETED"
    final = stack.outputs()
    assert final["triggered_keys"] == ["d"]
    assert final["d"]["request_id"] == new_id
    assert final["c"]["request_id"] == old_results["c"]["request_id"]


def test_a_state_that_records_no_secret_input_as_a_list_stays_as_it_is(
    make_stack, tmp_path: Path
) -> None:
    """Runs with no secret input no longer record ``__secret_inputs: []`` (a smaller state per
    run): a state written before, which does, previews, refreshes and updates with no change,
    keeps its record where a refresh rewrites the outputs, and sends no trigger."""
    stack = make_stack([run("a"), run("b", wait_for_completion=True)])
    stack.up()
    urns = [stack.urn("a"), stack.urn("b")]
    fresh = stack.state()
    for urn in urns:  # what this version writes: no marker in inputs nor outputs
        assert "__secret_inputs" not in fresh[urn]["inputs"]
        assert "__secret_inputs" not in fresh[urn]["outputs"]

    # The state as the version before wrote it: [] in both.
    exported = stack.export()
    for resource in exported["deployment"]["resources"]:
        if resource["urn"] in urns:
            resource["inputs"]["__secret_inputs"] = []
            resource["outputs"]["__secret_inputs"] = []
    state = tmp_path / "old-state.json"
    state.write_text(json.dumps(exported))
    stack.pulumi("stack", "import", "--file", str(state))
    stack.emulator.clear_requests()

    noop = stack.preview("--diff")
    assert "~ " not in noop.stdout and "[unknown]" not in noop.stdout, noop.stdout
    refreshed = stack.pulumi("refresh", "--yes", "--diff")
    assert "~ " not in refreshed.stdout and "updated" not in refreshed.stdout, refreshed.stdout
    after = stack.state()
    for urn in urns:  # a refresh reads the outputs anew and keeps the record as it was
        assert after[urn]["outputs"]["__secret_inputs"] == []
    again = stack.up()
    assert "created" not in again.stdout and "updated" not in again.stdout, again.stdout
    assert stack.posts() == []
