"""What the ledger keeps in state, through the real CLI: each test reproduces a way a run was
lost, sent twice, reported wrongly or leaked, and counts the requests the emulator received."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import sent
from tests.e2e.conftest import run

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"
#: Five batches of two rows; batch 3 carries a row too large for a 1,000-byte body limit.
ROWS = [{"id": i, "blob": "x" * (3000 if i == 4 else 1)} for i in range(10)]


def test_a_secret_where_clause_of_a_group_never_reaches_state_in_clear(
    make_stack, tmp_path: Path
) -> None:
    program = tmp_path / "secret_group.py"
    program.write_text(
        "import pulumi\n"
        "from datagol_pulumi import ExtractionRun, ExtractionRunGroup\n"
        "ws = '6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f'\n"
        "ExtractionRunGroup('g', runs={\n"
        "    'hidden': {'workspace_id': ws, 'extraction_id': 'e', 'element_type': 'FILE',\n"
        "               'element_id': 'f1', 'mode': 'filter',\n"
        "               'where_clause': pulumi.Output.secret(\"name = 'WHERE-SECRET-58'\")},\n"
        "    'open': {'workspace_id': ws, 'extraction_id': 'e', 'element_type': 'FILE',\n"
        "             'element_id': 'f2', 'mode': 'filter', 'where_clause': \"name = 'OPEN-7'\"},\n"
        "})\n"
        "ExtractionRun('single', workspace_id=ws, extraction_id='e', element_type='FILE',\n"
        "    element_id='f3', mode='filter',\n"
        "    where_clause=pulumi.Output.secret(\"name = 'WHERE-SECRET-58'\"))\n"
    )
    stack = make_stack([run("unused")], program=program)
    stack.up()
    posted = {p["path"].split("/")[-2]: p for p in stack.posts()}
    assert posted["f1"]["body"]["whereClause"] == "name = 'WHERE-SECRET-58'"
    assert len(posted) == 3
    exported = stack.pulumi("stack", "export").stdout  # without --show-secrets
    assert "WHERE-SECRET-58" not in exported
    assert "WHERE-SECRET-58" not in stack.all_output()
    # Only the key with a secret input is protected: the other one stays readable.
    assert posted["f2"]["request_id"] in exported and "OPEN-7" in exported
    # A single run's outputs computed from the secret are secret too, not only same-named ones.
    [single] = [
        r["outputs"]
        for r in json.loads(exported)["deployment"]["resources"]
        if r["urn"].endswith("::single")
    ]
    assert "ciphertext" in single["request_digest"]
    assert "ciphertext" in single["where_clause"]
    [group] = stack.resources(GROUP_TYPE)  # with --show-secrets: all there
    hidden = group["outputs"]["results"]["hidden"]
    assert set(hidden) == {"4dabf18193072939515e22adb298388d", "plaintext"}  # a secret
    assert json.loads(hidden["plaintext"])["where_clause"] == "name = 'WHERE-SECRET-58'"
    stack.emulator.clear_requests()
    stack.up()
    assert sent(stack.emulator) == []


def test_a_batch_refused_mid_run_reads_back_partial_and_only_it_is_sent_later(make_stack) -> None:
    stack = make_stack([run("big", mode="selected", rows=ROWS, batch_size=2, **WAIT)])
    stack.emulator.configure(max_body_bytes=1000)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Batch 3 of 5: refused" in text and "Batches 4-5 of 5 were not sent" in text
    assert [p["status"] for p in stack.posts()] == [200, 200, 413]
    stack.emulator.clear_requests()

    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert stack.posts() == [] and len(stack.emulator.requests("/requestLog/status/")) == 2
    [state] = stack.resources()
    assert state["outputs"]["status"] == "PARTIAL"
    assert "Batch 3 of 5: refused" in state["outputs"]["error"]
    stack.emulator.clear_requests()

    stack.emulator.configure(max_body_bytes=16 * 1024 * 1024)
    stack.up()
    assert [p["body"]["rows"] for p in stack.posts()] == [ROWS[4:6], ROWS[6:8], ROWS[8:10]]
    [state] = stack.resources()
    assert not state["outputs"].get("error")
    assert len(state["outputs"]["request_ids"]) == 5
    finished = stack.completed()["big"][""]
    assert (
        finished["status"] == "COMPLETED"
        and finished["request_ids"] == (state["outputs"]["request_ids"])
    )
    stack.emulator.clear_requests()
    stack.up()
    assert sent(stack.emulator) == []


def test_two_runs_with_identical_inputs_in_one_stack_both_trigger(make_stack) -> None:
    same = {"extraction_id": "ext-1", "element_type": "COLUMN", "element_id": "el-same", **WAIT}
    stack = make_stack([{"name": "first", **same}, {"name": "second", **same}])
    stack.emulator.configure(job_seconds=1)  # both triggers and waits overlap
    stack.up()
    posted = stack.posts()
    assert len(posted) == 2
    outputs = {r["urn"].split("::")[-1]: r["outputs"] for r in stack.resources()}
    assert sorted(o["request_id"] for o in outputs.values()) == sorted(
        p["request_id"] for p in posted
    )
    assert {c[""]["status"] for c in stack.completed().values()} == {"COMPLETED"}
    stack.emulator.clear_requests()
    stack.up()
    assert sent(stack.emulator) == []


def test_a_failure_is_reported_by_the_up_that_caused_it_whatever_the_clocks(
    make_stack, tmp_path: Path
) -> None:
    # A trigger that may have started a job (502) is recorded with its error and fails the up
    # that sent it; later ups that send nothing do not report it again, whatever the clocks.
    stack = make_stack([run("bad")])
    stack.emulator.add_fault(status=502, count=1, method="POST")
    result = stack.up(check=False)
    assert result.returncode != 0 and "may have started" in result.stdout + result.stderr
    assert len(stack.posts()) == 1
    # The state as a runner whose clock was far ahead wrote it.
    exported = stack.export()
    for resource in exported["deployment"]["resources"]:
        if "triggered_at" in resource.get("outputs", {}):
            resource["outputs"]["triggered_at"] = "2099-01-01T00:00:00.000Z"
    state_file = tmp_path / "skewed.json"
    state_file.write_text(json.dumps(exported))
    stack.pulumi("stack", "import", "--file", str(state_file))
    stack.emulator.clear_requests()

    stack.up()  # nothing triggered: the old failure is not reported again
    assert sent(stack.emulator) == []
    stack.set_runs([run("bad", poll_interval_seconds=0.2)])
    stack.up()  # a setting changed: an update that sends nothing reports nothing
    assert sent(stack.emulator) == []
