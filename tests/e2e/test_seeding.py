"""Why the seeding section of docs/resources.md advises against PULUMI_SKIP_CHECKPOINTS for paid runs.

A crash (the whole `pulumi up` process group killed) after some runs were triggered and answered:
with checkpoints the state records them and the next `up` does not send them again; with
checkpoints skipped the state was never written, and the next `up` sends them again.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

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
    make_stack, tmp_path, skip_checkpoints: bool
) -> None:
    # Each run's create returns once DataGOL answered (its completion waits), so with
    # checkpoints every answered run is in state while the waits go on.
    wait = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
    stack = make_stack([run(f"r{i}", **wait) for i in range(RUNS)])
    stack.emulator.configure(job_seconds=JOB_SECONDS)
    if skip_checkpoints:
        stack.env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    process = stack.start_up(new_session=True)  # killed as a group, as a crash would
    try:
        wait_until(lambda: len(stack.posts()) == RUNS)
        time.sleep(MARGIN)  # the engine records the answered runs; their waits go on
        assert any(j["status"] != "COMPLETED" for j in stack.emulator.jobs.values())
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    answered = {element(p) for p in stack.posts()}
    states = {r["urn"].split("::")[-1] for r in stack.resources()}

    if skip_checkpoints:
        # On this machine the in-flight records would cover the runs; a CI retry runs on
        # another machine, where only the state is there, and it holds nothing.
        stack = stack.on_another_runner(tmp_path / "runner-2")
    stack.pulumi("cancel", "--yes")  # the killed `up` left its lock behind
    stack.emulator.clear_requests()
    stack.up("--continue-on-error", check=False)
    sent_again = {element(p) for p in stack.posts()}

    if skip_checkpoints:
        assert states == set()  # nothing was written before the crash
        assert answered <= sent_again  # so runs DataGOL had accepted are sent again
    else:
        assert {e.removeprefix("el-") for e in answered} == states
        # Every run is in state from DataGOL's answer on: none is sent twice, and each
        # completion waited for the same request id again.
        assert sent_again == set()
        finished = stack.completed()
        assert {c[""]["status"] for c in finished.values()} == {"COMPLETED"}
        assert len(finished) == RUNS


def test_crash_during_a_groups_create_sends_none_of_its_runs_again(make_stack) -> None:
    # Four runs, two at a time; g3's trigger is held back, and the crash comes while the group
    # waits for it. The engine records a group only as a whole, so the three that answered
    # stay journaled with their request ids; g3 may have started.
    runs = [run(f"g{i}", wait_for_completion=True) for i in range(4)]
    stack = make_stack(runs, group=True, maxConcurrency=2)
    stack.emulator.add_fault(status=None, delay=30, path_contains="/el-g3/", method="POST")
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: {element(p) for p in stack.posts()} >= {"el-g0", "el-g1", "el-g2"})
        time.sleep(1.0)  # they are answered; g3 is held back
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=60)
    stack.emulator.clear_faults()
    stack.pulumi("cancel", "--yes")
    answered = {p["request_id"] for p in stack.posts() if element(p) != "el-g3"}
    stack.emulator.clear_requests()
    result = stack.up(check=False)
    assert stack.posts() == []  # none of them is sent again
    [group] = stack.resources("pulumi-python:dynamic/datagol:ExtractionRunGroup")
    results = group["outputs"]["results"]
    # Those that answered were re-attached to their request ids; g3 is recorded as possibly
    # started, never resent, and the `up` says so.
    assert {results[f"g{i}"]["request_id"] for i in range(3)} == answered
    assert results["g3"]["status"] == "UNKNOWN"
    assert {results[f"g{i}"]["status"] for i in range(3)}.isdisjoint({"UNKNOWN"})
    assert "was stopped" in result.stdout + result.stderr
    assert result.returncode != 0


def provider_processes(workdir) -> list[int]:
    """The dynamic-provider processes serving the stack in ``workdir`` (their cwd)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"pulumi.dynamic" in cmdline and Path(cwd) == Path(workdir):
            found.append(int(proc.name))
    return found


def test_cli_killed_while_its_provider_goes_on_sends_nothing_again(make_stack) -> None:
    # Only the CLI dies (Pulumi's launcher keeps `sh` alive as the provider's parent): the
    # provider sees its engine gone by its address, stops polling and exits, keeping the run
    # journaled with its request id; the next `up` re-attaches to it.
    stack = make_stack([run("a", wait_for_completion=True, poll_interval_seconds=0.1)])
    stack.emulator.configure(job_seconds=8.0)
    process = stack.start_up(new_session=True)
    try:
        wait_until(lambda: len(stack.posts()) == 1)
        wait_until(lambda: provider_processes(stack.workdir) != [])
        # Killed while it only waits: a CLI killed in the middle of writing its checkpoint
        # leaves a file the next command cannot load ("failed to load checkpoint: EOF"), the
        # file backend's own hazard, not what this test is about.
        wait_until(lambda: stack.emulator.requests("/requestLog/status/", "GET") != [])
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)  # the CLI alone, not its process group
        process.wait(timeout=60)
        wait_until(lambda: provider_processes(stack.workdir) == [], timeout=6.0)
        # It stopped polling: the job has not even finished yet.
        assert [j["status"] for j in stack.emulator.jobs.values()] != ["COMPLETED"]
    finally:
        process.kill()
    stack.pulumi("cancel", "--yes")
    stack.emulator.clear_requests()
    result = stack.up(check=False)
    assert stack.posts() == []
    [state] = stack.resources()
    assert state["outputs"]["request_id"] == next(iter(stack.emulator.jobs))
    assert stack.completed()["a"][""]["status"] == "COMPLETED", result.stdout
