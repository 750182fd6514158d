"""A CI job killed mid-wait, retried on a fresh runner: the stack's state is the record.

The whole job is killed (SIGKILL of its process group) at several points of a waited run and of
a waited group; the retry runs from another checkout with another HOME (no in-flight journal)
against the same state backend. No accepted run is sent again, and each run's final status is
recorded: the run was checkpointed with its request ids when DataGOL answered, and only its
completion, which reads Poll Status, is left to redo.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.conftest import sent
from tests.e2e.conftest import run
from tests.e2e.test_seeding import wait_until

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
JOB_SECONDS = 6.0


def kill_job(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)


@pytest.mark.parametrize("kill_after", [0.5, 3.0])  # early in the wait, and late in it
def test_a_waited_run_killed_mid_wait_is_awaited_by_another_runner_not_resent(
    make_stack, tmp_path, kill_after: float
) -> None:
    stack = make_stack([run("a", **WAIT), run("b", **WAIT)])
    stack.emulator.configure(job_seconds=JOB_SECONDS)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 2)
        time.sleep(kill_after)
    finally:
        kill_job(process)
    accepted = {p["request_id"] for p in stack.posts()}
    assert not any(j["status"] == "COMPLETED" for j in stack.emulator.jobs.values())

    retry = stack.on_another_runner(tmp_path / "runner-2")
    retry.pulumi("cancel", "--yes")  # the killed job left its lock in the backend
    stack.emulator.clear_requests()
    result = retry.up(check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert retry.posts() == []  # no accepted run is paid for twice
    polled = {r["path"].rsplit("/", 1)[-1] for r in stack.emulator.requests(method="GET")}
    assert polled == accepted  # it re-attached to the same request ids
    assert {c[""]["status"] for c in retry.completed().values()} == {"COMPLETED"}
    outputs = retry.outputs()
    assert {outputs[n]["request_id"] for n in "ab"} == accepted
    assert {outputs[n]["status"] for n in "ab"} == {"COMPLETED"}
    stack.emulator.clear_requests()
    retry.up()
    assert sent(stack.emulator) == []


def test_a_waited_group_killed_mid_wait_is_awaited_by_another_runner_not_resent(
    make_stack, tmp_path
) -> None:
    runs = [run(f"g{i}", **WAIT) for i in range(6)]
    stack = make_stack(runs, group=True, maxConcurrency=3)
    stack.emulator.configure(job_seconds=JOB_SECONDS)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 6)
        time.sleep(1.5)  # the group is recorded; its completion is waiting
        assert stack.resources("pulumi-python:dynamic/datagol:ExtractionRunGroup")
    finally:
        kill_job(process)
    accepted = {p["request_id"] for p in stack.posts()}

    retry = stack.on_another_runner(tmp_path / "runner-2")
    retry.pulumi("cancel", "--yes")
    stack.emulator.clear_requests()
    result = retry.up(check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert retry.posts() == []
    [completion] = retry.completed().values()
    assert {r["status"] for r in completion.values()} == {"COMPLETED"}
    assert {r["request_ids"][0] for r in completion.values()} == accepted
    outputs = retry.outputs()
    assert {outputs[f"g{i}"]["status"] for i in range(6)} == {"COMPLETED"}
