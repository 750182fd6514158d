"""Secrets in a run's inputs stay secret in state, with everything computed from them, through
the real CLI: the stack-YAML program (a secret set with `config set --secret --path`) and a
YAML program through the packaged plugin (a secret config value and `fn::secret` rows).

Each test greps the plain `pulumi stack export` (no --show-secrets) for the secret and for the
digests computed the way the core computes them, and checks the run was still sent as written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

import devtools.engine
from datagol_pulumi.payload import RequestDigest, rows_digest, trigger_requests
from datagol_pulumi.validation import check_run
from devtools.lang_hosts import lang_hosts, with_plugins
from tests.conftest import TOKEN, WORKSPACE_ID
from tests.e2e.conftest import PASSPHRASE, RUN_TYPE, Stack, run

#: How `pulumi stack export` shows a secret it does not decrypt.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
CLAUSE = "ssn = '078-05-1120'"
ROWS = [{"id": "row-7f3a", "name": "Jane Q. Secret"}]


def request_digest(inputs: dict[str, Any]) -> str:
    """The run's request_digest as the core computes it (payload.RequestDigest)."""
    normalised, failures = check_run(inputs)
    assert failures == []
    digest = RequestDigest()
    for request in trigger_requests(normalised):
        digest.add(request)
    return digest.hexdigest()


def plain_export(stack: Stack) -> tuple[str, dict[str, dict[str, Any]]]:
    """The state as `pulumi stack export` prints it without --show-secrets, and its runs."""
    text = stack.pulumi("stack", "export").stdout
    resources = json.loads(text)["deployment"]["resources"]
    runs = [r for r in resources if r["type"].endswith(":ExtractionRun")]
    return text, {r["urn"].rsplit("::", 1)[-1]: r for r in runs}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def test_stack_yaml_secret_set_by_path_stays_secret_with_its_digests(make_stack) -> None:
    runs = [
        run("filter", mode="filter", where_clause="placeholder"),
        # Waited: its completion takes secret inputs (the batch record) and must still finish.
        run(
            "selected",
            mode="selected",
            rows=[{"id": "placeholder"}],
            wait_for_completion=True,
            poll_interval_seconds=0.1,
        ),
        run("plain"),
    ]
    stack = make_stack(runs)
    key = "datagol-pulumi:runs"
    stack.pulumi("config", "set", "--secret", "--path", f"{key}[0].where_clause", CLAUSE)
    stack.pulumi("config", "set", "--secret", "--path", f"{key}[1].rows[0].id", ROWS[0]["id"])
    stack.pulumi("config", "set", "--secret", "--path", f"{key}[1].rows[0].name", ROWS[0]["name"])
    assert CLAUSE not in stack.config_file.read_text()

    stack.up()
    bodies = {p["segments"][-2]: p["body"] for p in stack.posts()}
    assert bodies == {
        "el-filter": {"selectAll": True, "whereClause": CLAUSE},
        "el-selected": {"selectAll": False, "rows": ROWS},
        "el-plain": {"selectAll": True},
    }

    base = {"workspace_id": WORKSPACE_ID, "extraction_id": "ext-1", "element_type": "COLUMN"}
    digests = {
        request_digest(
            {**base, "element_id": "el-filter", "mode": "filter", "where_clause": CLAUSE}
        ),
        request_digest({**base, "element_id": "el-selected", "mode": "selected", "rows": ROWS}),
        rows_digest(ROWS),
    }
    text, resources = plain_export(stack)
    for secret in (CLAUSE, ROWS[0]["id"], ROWS[0]["name"], *digests):
        assert secret.split(":")[-1] not in text, f"{secret!r} in plain state"
    derived = {
        "filter": ("where_clause", "request_digest"),
        "selected": ("request_digest", "rows_digest", "row_count", "batches"),
    }
    for name, outs in derived.items():
        for out in outs:
            assert is_secret(resources[name]["outputs"][out]), (name, out)
    # The whole key is secret (the SDK names keys, not paths), so every run read from it is; a
    # run's name, and what the service answered, stay plain.
    assert is_secret(resources["plain"]["outputs"]["request_digest"])
    assert not is_secret(resources["filter"]["outputs"]["request_id"])
    # --show-secrets decrypts them: they are there, as secrets, and are what the core computes.
    shown = {r["urn"].rsplit("::", 1)[-1]: r["outputs"] for r in stack.resources(RUN_TYPE)}
    assert json.loads(shown["selected"]["rows_digest"]["plaintext"]) == rows_digest(ROWS)
    assert json.loads(shown["filter"]["request_digest"]["plaintext"]) in digests

    # A refresh reads the runs again: still secret, and still protected for the same inputs (so
    # the up below has nothing to re-protect).
    stack.pulumi("refresh", "--yes", "--skip-preview")
    text, _ = plain_export(stack)
    assert not [s for s in (CLAUSE, ROWS[0]["name"], *digests) if s.split(":")[-1] in text]

    # The marker the program adds changes nothing by itself: a second up sends nothing.
    stack.emulator.clear_requests()
    again = stack.up()
    assert "unchanged" in again.stdout and "updated" not in again.stdout, again.stdout
    assert stack.emulator.requests(method="POST") == []
    assert stack.outputs()["selected"]["status"] == "COMPLETED"
    exported = json.loads(stack.pulumi("stack", "export").stdout)["deployment"]["resources"]
    [completion] = [r for r in exported if r["type"].endswith(":ExtractionRunCompletion")]
    assert is_secret(completion["outputs"]["runs"][""])  # it records the run's batches
    printed = "\n".join(t for t in stack.transcript if not t.startswith("$ pulumi stack"))
    assert CLAUSE not in printed and ROWS[0]["name"] not in printed


YAML_PROGRAM = {
    "name": "datagol-secrets",
    "runtime": "yaml",
    "config": {"filter": {"type": "string"}},
    "resources": {
        "filtered": {
            "type": "datagol:index:ExtractionRun",
            "properties": {
                "workspaceId": WORKSPACE_ID,
                "extractionId": "ext-1",
                "elementType": "FILE",
                "elementId": "f-1",
                "mode": "filter",
                "whereClause": "${filter}",
            },
        },
        "selected": {
            "type": "datagol:index:ExtractionRun",
            "properties": {
                "workspaceId": WORKSPACE_ID,
                "extractionId": "ext-1",
                "elementType": "COLUMN",
                "elementId": "c-1",
                "mode": "selected",
                "rows": {"fn::secret": ROWS},
            },
        },
    },
    "outputs": {"rowCount": "${selected.rowCount}"},
}


def test_plugin_keeps_digests_and_counts_of_secret_inputs_secret(
    tmp_path: Path, engine_bin: str, emulator
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    program = with_plugins(YAML_PROGRAM, yaml_host=True)
    lang_hosts()
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)
    stack = Stack(workdir, env, emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.pulumi("config", "set", "--secret", "filter", CLAUSE)

    stack.up()
    bodies = sorted(json.dumps(p["body"], sort_keys=True) for p in stack.posts())
    assert bodies == sorted(
        json.dumps(b, sort_keys=True)
        for b in ({"selectAll": True, "whereClause": CLAUSE}, {"selectAll": False, "rows": ROWS})
    )
    digests = {
        request_digest(
            {
                "workspace_id": WORKSPACE_ID,
                "extraction_id": "ext-1",
                "element_type": "FILE",
                "element_id": "f-1",
                "mode": "filter",
                "where_clause": CLAUSE,
            }
        ),
        request_digest(
            {
                "workspace_id": WORKSPACE_ID,
                "extraction_id": "ext-1",
                "element_type": "COLUMN",
                "element_id": "c-1",
                "mode": "selected",
                "rows": ROWS,
            }
        ),
        rows_digest(ROWS),
    }
    text, resources = plain_export(stack)
    for secret in (CLAUSE, ROWS[0]["id"], ROWS[0]["name"], *digests):
        assert secret.split(":")[-1] not in text, f"{secret!r} in plain state"
    assert is_secret(resources["filtered"]["outputs"]["requestDigest"])
    assert is_secret(resources["filtered"]["outputs"]["whereClause"])
    for out in ("requestDigest", "rowsDigest", "rowCount", "batches"):
        assert is_secret(resources["selected"]["outputs"][out]), out
    assert not is_secret(resources["filtered"]["outputs"]["requestId"])
    assert not any(k.startswith("__") for r in resources.values() for k in r["outputs"])

    # Nothing re-protects a state already protected: a second up sends nothing, changes nothing.
    stack.emulator.clear_requests()
    again = stack.up()
    assert "unchanged" in again.stdout and "updated" not in again.stdout, again.stdout
    assert stack.emulator.requests(method="POST") == []


NESTED_PROGRAM = """
import pulumi
from datagol_pulumi import ExtractionRun

WORKSPACE = pulumi.Config().require_object("defaults")["workspace_id"]
ExtractionRun(
    "nested",
    workspace_id=WORKSPACE,
    extraction_id="ext-1",
    element_type="COLUMN",
    element_id="el-nested",
    mode="selected",
    # One field of one row is secret; the rows themselves are a plain list.
    rows=[{"id": "r1", "name": pulumi.Output.secret("Jane Q. Secret")}, {"id": "r2"}],
    triggers={"release": "1", "ticket": pulumi.Output.secret("SEC-4411")},
)
"""


def test_a_secret_nested_in_rows_keeps_the_digests_of_the_rows_secret(
    make_stack, tmp_path: Path
) -> None:
    program = tmp_path / "nested.py"
    program.write_text(NESTED_PROGRAM)
    stack = make_stack([run("unused")], program=program)
    stack.up()
    rows = [{"id": "r1", "name": "Jane Q. Secret"}, {"id": "r2"}]
    [post] = stack.posts()
    assert post["body"] == {"selectAll": False, "rows": rows}
    inputs = {"workspace_id": WORKSPACE_ID, "extraction_id": "ext-1", "element_type": "COLUMN"}
    digests = {
        rows_digest(rows),
        request_digest({**inputs, "element_id": "el-nested", "mode": "selected", "rows": rows}),
    }
    text, resources = plain_export(stack)
    for secret in ("Jane Q. Secret", "SEC-4411", *digests):
        assert secret.split(":")[-1] not in text, f"{secret!r} in plain state"
    outputs = resources["nested"]["outputs"]
    for out in ("rows_digest", "row_count", "request_digest", "batches"):
        assert is_secret(outputs[out]), out
    # Inputs not holding a secret stay readable.
    assert outputs["element_id"] == "el-nested" and not is_secret(outputs["request_id"])
