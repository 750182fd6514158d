"""What the process that sent a run promised holds in the later ones that only read it (issue 21,
items 1 and 3), through the real CLI on both faces: a secret where clause's literal quoted by
DataGOL's failure message is masked by the next `up`, whose provider process never saw the
trigger; and a run whose trigger DataGOL never answered stays UNKNOWN, is never sent again,
and its completion says what to check instead of claiming a trigger or a finish.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import devtools.engine
from devtools.lang_hosts import lang_hosts, with_plugins
from tests.conftest import WORKSPACE_ID
from tests.e2e.conftest import PASSPHRASE, Stack, dev_stack, run
from tests.e2e.test_secret_messages import CLAUSE, program

#: The literal of CLAUSE that a database error quotes.
LITERAL = "987-65-4321"
FAILED = {"status": "FAILED", "message": f'invalid input syntax for type integer: "{LITERAL}"'}
STATUS_PATH = "/requestLog/status/"
#: The dynamic face's run: filtered by a secret clause, waited for by its completion.
WAITED = (
    "element_id='el-r', mode='filter', where_clause=pulumi.Output.secret({clause!r}),\n"
    "    wait_for_completion=True, poll_interval_seconds=0.1, timeout_seconds=1"
)


def run_requests(stack: Stack) -> list[tuple[str, str]]:
    """(method, path) of each trigger and status read the emulator received, in order."""
    return [
        (r["method"], r["path"])
        for r in stack.emulator.requests()
        if r["path"].endswith("/run") or STATUS_PATH in r["path"]
    ]


def fail_later_with_the_literal(stack: Stack) -> str:
    """After a first `up` whose wait timed out: the run's next status read answers FAILED with
    a message quoting the secret literal, as a database error would. Its request id."""
    [post] = stack.posts()
    request_id = post["request_id"]
    stack.emulator.clear_requests()
    stack.emulator.add_fault(status=200, method="GET", path_contains=request_id, body=FAILED)
    return request_id


def assert_nowhere_in_clear(stack: Stack) -> None:
    assert LITERAL not in stack.all_output()
    # The state holds the fragments to mask only as ciphertext.
    assert LITERAL not in stack.pulumi("stack", "export").stdout


def test_a_literal_quoted_by_a_failure_is_masked_by_the_next_up_that_only_polls(
    make_stack, tmp_path: Path
) -> None:
    spec = WAITED.format(clause=CLAUSE)
    stack = make_stack([run("unused")], program=program(tmp_path, spec))
    stack.emulator.configure(job_seconds=600)
    first = stack.up(check=False)
    assert first.returncode != 0 and "did not finish within 1 s" in first.stdout + first.stderr
    request_id = fail_later_with_the_literal(stack)

    second = stack.up(check=False)  # a new provider process: it only reads the status
    assert second.returncode != 0
    text = second.stdout + second.stderr
    shown = 'invalid input syntax for type integer: \\"[secret]\\"'
    assert f"Run {request_id} finished with status FAILED: " in text
    assert shown in text or shown.replace("\\", "") in text, text
    assert run_requests(stack) == [("GET", f"/noCo/api/v1/requestLog/status/{request_id}")]
    assert_nowhere_in_clear(stack)

    # A refresh, in a process of its own too, records the failure masked.
    stack.emulator.add_fault(status=200, method="GET", path_contains=request_id, body=FAILED)
    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert_nowhere_in_clear(stack)
    # Decrypted from state, the fragments are the run's own: the clause and its literal.
    [state] = stack.resources()
    assert {CLAUSE, LITERAL} <= set(json.loads(state["outputs"]["masked_values"]["plaintext"]))
    assert 'type integer: "[secret]"' in state["outputs"]["error"]


def test_a_group_masks_a_quoted_literal_on_the_next_up_too(make_stack) -> None:
    waited = {"wait_for_completion": True, "poll_interval_seconds": 0.1, "timeout_seconds": 1}
    stack = make_stack(
        [run("secret", mode="filter", where_clause="placeholder", **waited)], group=True
    )
    key = "datagol-pulumi:runs[0].where_clause"
    stack.pulumi("config", "set", "--secret", "--path", key, CLAUSE)
    stack.emulator.configure(job_seconds=600)
    first = stack.up(check=False)
    assert first.returncode != 0 and "did not finish within 1 s" in first.stdout + first.stderr
    request_id = fail_later_with_the_literal(stack)

    second = stack.up(check=False)
    assert second.returncode != 0
    text = second.stdout + second.stderr
    assert f"secret: Run {request_id} finished with status FAILED: " in text, text
    assert "[secret]" in text
    assert run_requests(stack) == [("GET", f"/noCo/api/v1/requestLog/status/{request_id}")]
    assert_nowhere_in_clear(stack)


def yaml_project(workdir: Path, resources: dict[str, Any]) -> None:
    project = {
        "name": "later-process",
        "runtime": "yaml",
        "config": {"filter": {"type": "string", "default": ""}},
        "resources": resources,
    }
    (workdir / "Pulumi.yaml").write_text(
        yaml.safe_dump(with_plugins(project, yaml_host=True), sort_keys=False)
    )


def yaml_run_and_completion(**run_properties: Any) -> dict[str, Any]:
    return {
        "filtered": {
            "type": "datagol:index:ExtractionRun",
            "properties": {
                "workspaceId": WORKSPACE_ID,
                "extractionId": "ext-1",
                "elementType": "FILE",
                "elementId": "f-1",
                **run_properties,
            },
        },
        "filteredFinished": {
            "type": "datagol:index:ExtractionRunCompletion",
            "properties": {
                "run": "${filtered.completionTarget}",
                "pollIntervalSeconds": 0.1,
                "timeoutSeconds": 1,
            },
        },
    }


@pytest.fixture
def yaml_stack(tmp_path: Path, engine_bin: str, emulator) -> Stack:
    try:
        lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    workdir = tmp_path / "project"
    workdir.mkdir()
    yaml_project(workdir, {})
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)
    return dev_stack(workdir, env, emulator)


def test_the_plugin_masks_a_quoted_literal_on_the_next_up_too(yaml_stack: Stack) -> None:
    stack = yaml_stack
    yaml_project(stack.workdir, yaml_run_and_completion(mode="filter", whereClause="${filter}"))
    stack.pulumi("config", "set", "--secret", "filter", CLAUSE)
    stack.emulator.configure(job_seconds=600)
    first = stack.up(check=False)
    assert first.returncode != 0 and "did not finish within 1 s" in first.stdout + first.stderr
    request_id = fail_later_with_the_literal(stack)

    second = stack.up(check=False)
    assert second.returncode != 0
    text = second.stdout + second.stderr
    assert f"Run {request_id} finished with status FAILED: " in text
    assert "[secret]" in text, text
    assert run_requests(stack) == [("GET", f"/noCo/api/v1/requestLog/status/{request_id}")]
    assert_nowhere_in_clear(stack)


UNANSWERED = (
    "Its status stays UNKNOWN: DataGOL gave no request id to wait for, and the run is not sent "
    "again on its own. Check in DataGOL whether an extraction of this run's element started at "
)


def test_a_waited_run_whose_trigger_got_no_answer_stays_unknown_and_is_never_resent(
    make_stack,
) -> None:
    stack = make_stack([run("a", wait_for_completion=True, poll_interval_seconds=0.1)])
    stack.emulator.add_fault(status=None, close=True, method="POST")
    first = stack.up(check=False)
    assert first.returncode != 0
    assert "The job may have started, so it was not resent" in first.stdout + first.stderr
    assert [m for m, _ in run_requests(stack)] == ["POST"]
    stack.emulator.clear_requests()

    # The preview fails as the `up` after it will, reading nothing (it was green before).
    previewed = stack.preview(check=False)
    text = previewed.stdout + previewed.stderr
    assert previewed.returncode != 0 and UNANSWERED in text, text
    assert stack.emulator.requests() == []

    for _ in range(2):  # every later `up` says the same, sending and reading nothing
        later = stack.up(check=False)
        text = later.stdout + later.stderr
        assert later.returncode != 0, text
        assert UNANSWERED in text, text
        assert "change the run's `triggers` to send it again on purpose" in text
        assert "the run was triggered" not in text and "no request id, so" not in text
        assert run_requests(stack) == []
        [state] = stack.resources()
        assert state["outputs"]["status"] == "UNKNOWN"
        assert "may have started" in state["outputs"]["error"]
        assert stack.completed() == {}  # no finish is recorded

    # Sending it again is the user's decision, and then it is awaited as usual.
    stack.set_runs(
        [run("a", wait_for_completion=True, poll_interval_seconds=0.1, triggers={"x": 1})]
    )
    stack.up()
    assert [m for m, _ in run_requests(stack)].count("POST") == 1
    assert stack.outputs()["a"]["status"] == "COMPLETED"


def test_the_plugin_keeps_a_run_whose_trigger_got_no_answer_unknown(yaml_stack: Stack) -> None:
    stack = yaml_stack
    yaml_project(stack.workdir, yaml_run_and_completion())
    stack.emulator.add_fault(status=None, close=True, method="POST")
    first = stack.up(check=False)
    assert first.returncode != 0
    stack.emulator.clear_requests()

    previewed = stack.preview(check=False)  # fails as the `up` after it will, reading nothing
    text = previewed.stdout + previewed.stderr
    assert previewed.returncode != 0 and UNANSWERED in text, text
    assert "stop awaiting it with this ExtractionRunCompletion" in text
    assert stack.emulator.requests() == []

    later = stack.up(check=False)
    text = later.stdout + later.stderr
    assert later.returncode != 0, text
    assert UNANSWERED in text, text
    assert "stop awaiting it with this ExtractionRunCompletion" in text
    assert "the run was triggered" not in text
    assert run_requests(stack) == []
    [state] = stack.resources("datagol:index:ExtractionRun")
    assert state["outputs"]["status"] == "UNKNOWN"
    assert stack.resources("datagol:index:ExtractionRunCompletion") == []
