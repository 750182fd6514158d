"""Why the README's seeding section advises against PULUMI_SKIP_CHECKPOINTS for paid runs.

A crash (the whole `pulumi up` process group killed) after some runs were triggered and answered:
with checkpoints the state records them and the next `up` does not send them again; with
checkpoints skipped the state was never written, and the next `up` sends them again.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.conftest import run

RUNS = 8  # two rounds of the provider's four workers
JOB_SECONDS = 4.0
#: Time for the engine to record a run that has answered, even on a loaded machine.
MARGIN = 2.5


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def element(post: dict) -> str:
    return post["path"].split("/")[-2]


@pytest.mark.parametrize("skip_checkpoints", [False, True])
def test_crash_mid_up_resends_answered_runs_only_without_checkpoints(
    make_stack, skip_checkpoints: bool
) -> None:
    wait = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
    stack = make_stack([run(f"r{i}", **wait) for i in range(RUNS)])
    stack.emulator.configure(job_seconds=JOB_SECONDS)
    if skip_checkpoints:
        stack.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    process = stack.start_up(new_session=True)  # killed as a group, as a crash would
    try:
        # The second round starts only when runs of the first have finished and answered.
        wait_until(lambda: len(stack.posts()) == RUNS)
        time.sleep(MARGIN)  # the engine records the answered runs
        os.killpg(process.pid, signal.SIGKILL)
        killed_at = time.time()
    finally:
        process.kill()
        process.wait(timeout=60)
    answered = [
        element(p)
        for p in stack.posts()
        # Finished well before the kill, so answered: a run still waiting when the CLI died is
        # never answered to it, and stays in the in-flight record (recorded UNKNOWN, not resent).
        if p["time"] + JOB_SECONDS + 1.5 < killed_at
    ]
    assert len(answered) >= 1 and len(stack.posts()) == RUNS
    states = {r["urn"].split("::")[-1] for r in stack.resources()}

    stack.pulumi("cancel", "--yes")  # the killed `up` left its lock behind
    stack.emulator.clear_requests()
    # Runs found cut off fail their step; the others must be tried all the same.
    stack.up("--continue-on-error", check=False)
    sent_again = {element(p) for p in stack.posts()}

    if skip_checkpoints:
        assert states == set()  # nothing was written before the crash
        assert set(answered) <= sent_again  # so runs DataGOL had accepted are sent again
    else:
        assert {e.removeprefix("el-") for e in answered} <= states
        # Answered runs are in state, the others in the in-flight record: none is sent twice.
        assert sent_again == set()


def test_crash_during_a_groups_create_sends_none_of_its_runs_again(make_stack) -> None:
    # Four waiting runs, two at a time: the first two answer (and finish), then the crash
    # comes while the next two wait. The engine records a group only as a whole, so the two
    # that answered must stay journaled until then.
    wait = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
    stack = make_stack([run(f"g{i}", **wait) for i in range(4)], group=True, maxConcurrency=2)
    stack.emulator.configure(job_seconds=JOB_SECONDS)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 4)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    stack.pulumi("cancel", "--yes")
    stack.emulator.clear_requests()
    result = stack.up(check=False)
    assert stack.posts() == []  # none of the four is sent again
    [group] = stack.resources("pulumi-python:dynamic/datagol:ExtractionRunGroup")
    results = group["outputs"]["results"]
    assert {results[f"g{i}"]["status"] for i in range(4)} == {"UNKNOWN"}, result.stdout
    assert "was stopped" in result.stdout + result.stderr


def test_cli_killed_while_its_provider_goes_on_sends_nothing_again(make_stack) -> None:
    # Only the CLI dies: its provider finishes the wait and answers an engine that is gone.
    # The answer is never recorded, so the provider must keep the run journaled.
    stack = make_stack([run("a", wait_for_completion=True, poll_interval_seconds=0.1)])
    stack.emulator.configure(job_seconds=1.0)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 1)
        process.send_signal(signal.SIGKILL)  # the CLI alone, not its process group
        process.wait(timeout=60)
        # The provider goes on polling until the job ends, then answers nobody.
        wait_until(lambda: all(j["status"] == "COMPLETED" for j in stack.emulator.jobs.values()))
        time.sleep(MARGIN)
    finally:
        process.kill()
    stack.pulumi("cancel", "--yes")
    stack.emulator.clear_requests()
    result = stack.up(check=False)
    assert stack.posts() == []
    [state] = stack.resources()
    assert state["outputs"]["status"] == "UNKNOWN", result.stdout
    assert "was stopped" in result.stdout + result.stderr
