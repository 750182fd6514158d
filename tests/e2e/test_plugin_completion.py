"""examples/yaml-completion through the real CLI: the YAML face's wait is a resource of its own.

The committed example (a run, a group, a completion for each, and a run that depends on both
completions), with only a ``plugins`` section added and a short poll interval. Each step counts
what the emulator received.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import pytest
import yaml

import devtools.engine
from devtools.lang_hosts import lang_hosts, with_plugins
from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.e2e.conftest import PASSPHRASE, ROOT, Stack, yaml_example_stack
from tests.e2e.test_another_runner import kill_job
from tests.e2e.test_seeding import wait_until

EXAMPLE = ROOT / "examples" / "yaml-completion"
RUN_TYPE = "datagol:index:ExtractionRun"
COMPLETION_TYPE = "datagol:index:ExtractionRunCompletion"
AWAITED = ("contract-terms", "invoice-fields", "order-lines")
DEPENDENT = "contract-summaries"  # the run that depends on both completions
JOB_SECONDS = 6.0


@pytest.fixture
def stack(tmp_path: Path, engine_bin: str, emulator) -> Stack:
    stack = yaml_example_stack(tmp_path, EXAMPLE, emulator)
    stack.pulumi("config", "set", "pollIntervalSeconds", "1")
    # The awaited runs take a while; the dependent one finishes at once (nothing awaits it).
    emulator.configure(job_seconds=JOB_SECONDS, job_seconds_by_extraction={DEPENDENT: 0})
    return stack


def extraction(post: dict) -> str:
    return post["path"].split("/extraction/")[1].split("/")[0]


def completions(stack: Stack) -> dict[str, dict]:
    return {r["urn"].split("::")[-1]: r["outputs"] for r in stack.resources(COMPLETION_TYPE)}


def test_a_yaml_program_killed_mid_wait_is_awaited_by_another_runner_without_a_resend(
    stack: Stack, tmp_path: Path
) -> None:
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 3)
        time.sleep(1.5)  # the runs are checkpointed; both completions are polling
        assert len(stack.resources(RUN_TYPE)) == 1  # `contracts` is in state, mid-wait
    finally:
        kill_job(process)
    accepted = {p["request_id"]: extraction(p) for p in stack.posts()}
    assert sorted(accepted.values()) == sorted(AWAITED)
    assert not any(j["status"] == "COMPLETED" for j in stack.emulator.jobs.values())
    assert completions(stack) == {}  # nothing recorded while waiting

    retry = stack.on_another_runner(tmp_path / "runner-2")
    retry.pulumi("cancel", "--yes")  # the killed job left its lock in the backend
    stack.emulator.clear_requests()
    result = retry.up(check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # No accepted run is paid for twice: the only POST is the run that was never sent.
    assert [extraction(p) for p in retry.posts()] == [DEPENDENT]
    polled = {r["path"].rsplit("/", 1)[-1] for r in stack.emulator.requests("/requestLog/status/")}
    assert polled == set(accepted)  # re-attached to the same request ids
    done = completions(retry)
    assert done["contractsFinished"]["status"] == "COMPLETED"
    assert done["seedFinished"]["status"] == "COMPLETED"
    awaited = done["contractsFinished"]["requestIds"] + done["seedFinished"]["requestIds"]
    assert sorted(awaited) == sorted(accepted)
    assert set(done["seedFinished"]["results"]) == {"invoices", "orders"}
    outputs = retry.outputs()
    assert outputs["contractsStatus"] == outputs["seedStatus"] == "COMPLETED"

    # dependsOn a completion means finished: the dependent run was sent after every job ended.
    jobs = stack.emulator.jobs
    [dependent] = [j for j in jobs.values() if j["extraction_id"] == DEPENDENT]
    ends = [jobs[r]["created_at"] + jobs[r]["duration"] for r in accepted]
    assert dependent["created_at"] >= max(ends)

    stack.emulator.clear_requests()
    assert "6 unchanged" in retry.up().stdout
    assert sent(stack.emulator) == []


def test_the_yaml_completions_show_what_is_pending_while_they_wait(stack: Stack) -> None:
    text = stack.up().stdout
    lines = [line for line in text.splitlines() if "ExtractionRunCompletion" in line]
    # The group's completion names its pending keys; the run's shows its status.
    assert any("seedFinished" in s and "[0/2] pending: invoices " in s for s in lines), text
    assert any("contractsFinished" in s and "waiting " in s for s in lines), text


def test_a_failed_run_fails_the_yaml_up_and_its_completion_records_nothing(stack: Stack) -> None:
    stack.emulator.configure(
        job_seconds=0.3, job_seconds_by_extraction={}, failing_extractions=["contract-terms"]
    )
    for attempt in range(2):
        result = stack.up(check=False)
        assert result.returncode != 0
        text = result.stdout + result.stderr
        assert "finished with status FAILED" in text and "contractsFinished" in text, text
        assert "stop awaiting it with this ExtractionRunCompletion" in text
        assert "contracts" in {r["urn"].split("::")[-1] for r in stack.resources(RUN_TYPE)}
        assert "contractsFinished" not in completions(stack)
        # Nothing that depends on the completion was sent, and no run is sent again.
        sent = [extraction(p) for p in stack.posts()]
        assert sorted(sent) == (sorted(AWAITED) if attempt == 0 else []), sent
        [failed] = [r for r, j in stack.emulator.jobs.items() if j["extraction_id"] == AWAITED[0]]
        polled = {
            r["path"].rsplit("/", 1)[-1] for r in stack.emulator.requests("/requestLog/status/")
        }
        assert failed in polled
        stack.emulator.clear_requests()


def plugin_before_the_completion(into: Path) -> Path:
    """A folder holding pulumi-resource-datagol as it was before the completion existed: the
    package of the commit before plugin/completion.py was added, run by this interpreter."""
    added = subprocess.run(
        [
            "git",
            "log",
            "--diff-filter=A",
            "--format=%H",
            "--",
            "datagol_pulumi/plugin/completion.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    archive = subprocess.run(
        ["git", "archive", "--format=tar", f"{added}^", "datagol_pulumi"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into / "src", filter="data")
    launcher = into / "bin" / "pulumi-resource-datagol"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(
        f'#!/bin/sh\nPYTHONPATH="{into / "src"}" exec "{sys.executable}" '
        '-m datagol_pulumi.plugin "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher.parent


def test_a_plugin_stack_deployed_before_the_completion_upgrades_with_no_diff_and_no_request(
    tmp_path: Path, engine_bin: str, emulator
) -> None:
    try:
        lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    emulator.configure(job_seconds=0.3)
    run = {
        "workspaceId": WORKSPACE_ID,
        "extractionId": "contract-terms",
        "elementType": "FILE",
        "elementId": "file-7781",
        "pollIntervalSeconds": 1,
    }
    waited = {"type": RUN_TYPE, "properties": {**run, "waitForCompletion": True}}
    group = {
        "type": "datagol:index:ExtractionRunGroup",
        "properties": {"waitForCompletion": True, "runs": {"a": {**run, "elementId": "a"}}},
    }
    project = {"name": "upgrade", "runtime": "yaml", "resources": {"r": waited, "g": group}}
    workdir = tmp_path / "project"
    workdir.mkdir()

    def write(program: dict, plugin: Path | None = None) -> None:
        declared = with_plugins(program, yaml_host=True)
        if plugin is not None:
            declared["plugins"]["providers"][0]["path"] = str(plugin)
        (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(declared))

    write(project, plugin_before_the_completion(tmp_path / "old"))
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)
    stack = Stack(workdir, env, emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.up()  # both runs waited inside their own create, as plugin stacks did
    [old] = stack.resources(RUN_TYPE)
    assert old["outputs"]["status"] == "COMPLETED" and "completionTarget" not in old["outputs"]
    stack.emulator.clear_requests()

    write(project)  # the plugin of this package: the same program sees no change
    preview = stack.preview("--diff")
    assert "3 unchanged" in preview.stdout and "~ " not in preview.stdout, preview.stdout
    assert "3 unchanged" in stack.up().stdout
    assert sent(stack.emulator) == []

    # Moving to the two-step wait: the run stops waiting (an update that sends nothing) and a
    # completion takes the status it recorded, without a request.
    waited["properties"]["waitForCompletion"] = False
    project["resources"]["done"] = {
        "type": COMPLETION_TYPE,
        "properties": {"run": "${r.completionTarget}"},
    }
    project["resources"]["groupDone"] = {
        "type": COMPLETION_TYPE,
        "properties": {"runs": "${g.results}"},
    }
    write(project)
    stack.up()
    assert sent(stack.emulator) == []
    done = completions(stack)
    assert done["done"]["status"] == done["groupDone"]["status"] == "COMPLETED"
    assert done["done"]["requestIds"] == old["outputs"]["requestIds"]


def test_ctrl_c_stops_the_yaml_waits_and_the_next_up_resumes_by_request_id(stack: Stack) -> None:
    """The plugin hears the engine's Cancel: a 15-minute wait ends the CLI within seconds,
    records nothing, and the next `up` waits for the same request ids, sending none again."""
    stack.emulator.configure(job_seconds=900)
    process = stack.start_up()
    try:
        wait_until(lambda: len(stack.posts()) == 3)
        # Both completions are polling: Poll Status reads, not the Get Extractions reads that
        # the dependent run's check makes (those are GETs too, and came first in a CI run).
        wait_until(lambda: len(stack.emulator.requests("/requestLog/status/", "GET")) >= 3)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        took = time.monotonic() - interrupted
    finally:
        process.kill()
    assert took < 30, (took, output)
    assert "^C received; cancelling" in output and process.returncode != 0
    assert "Stopped waiting for run" in output and "the Pulumi engine cancelled" in output
    accepted = {p["request_id"]: extraction(p) for p in stack.posts() if p["path"].endswith("/run")}
    assert sorted(accepted.values()) == sorted(AWAITED)
    assert completions(stack) == {}  # nothing recorded

    stack.emulator.finish_jobs()
    stack.emulator.clear_requests()
    stack.emulator.configure(job_seconds=0)
    stack.up()
    # The only POST is the dependent run, never sent before; the waits read the same ids.
    assert [extraction(p) for p in stack.posts() if p["path"].endswith("/run")] == [DEPENDENT]
    done = completions(stack)
    awaited = done["contractsFinished"]["requestIds"] + done["seedFinished"]["requestIds"]
    assert sorted(awaited) == sorted(accepted)
