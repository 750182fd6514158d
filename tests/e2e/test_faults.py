"""Faults through the real CLI: no duplicate jobs, clear errors, state that the next up reconciles.

Each test counts what the emulator received; docs/reliability.md's table lists these cases.
"""

from __future__ import annotations

import signal
import socket
import time

import pytest

from tests.conftest import sent
from tests.e2e.conftest import run

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1), (503, 0)])
def test_throttling_is_resent_and_up_succeeds(make_stack, status, retry_after) -> None:
    stack = make_stack([run("a")])
    stack.emulator.add_fault(status=status, count=2, retry_after=retry_after, method="POST")
    stack.up()
    assert [p["status"] for p in stack.posts()] == [status, status, 200]
    assert stack.outputs()["a"]["request_id"] == stack.posts()[-1]["request_id"]


@pytest.mark.parametrize("status", [429, 503])
def test_refusal_without_retry_after_fails_and_the_next_up_sends(make_stack, status) -> None:
    stack = make_stack([run("a")])
    stack.emulator.add_fault(status=status, count=1, method="POST")
    result = stack.up(check=False)
    assert result.returncode != 0
    assert "no job was started" in result.stdout + result.stderr
    assert len(stack.posts()) == 1
    assert stack.resources() == []  # the refusal started nothing, so nothing is recorded
    stack.up()
    assert [p["status"] for p in stack.posts()] == [status, 200]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_error_on_trigger_is_not_resent_now_or_later(make_stack, status) -> None:
    stack = make_stack([run("a")])
    stack.emulator.add_fault(
        status=status, count=5, method="POST", body='{"message": "gateway broke"}'
    )
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"HTTP {status}: gateway broke" in text
    assert "may have started" in text
    assert len(stack.posts()) == 1
    [state] = stack.resources()
    assert state["outputs"]["status"] == "UNKNOWN"
    stack.emulator.clear_faults()
    stack.emulator.clear_requests()

    stack.up()  # the run is recorded: nothing is sent on its own
    assert stack.posts() == []
    stack.set_runs([run("a", triggers={"resend": "checked in DataGOL"})])
    stack.up()  # the user asked for it
    assert len(stack.posts()) == 1


def test_read_timeout_is_not_resent_and_says_the_job_may_be_running(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:requestTimeout", "0.5")
    stack.emulator.add_fault(status=None, delay=2.0, method="POST")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "did not answer" in text and "may be running" in text
    assert len(stack.posts()) == 1
    stack.emulator.clear_requests()
    stack.up()
    assert stack.posts() == []


def test_connection_refused_names_the_base_url_and_the_next_up_recovers(make_stack) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    stack = make_stack([run("a")])
    stack.pulumi("config", "set", "datagol:baseUrl", dead)
    stack.pulumi("config", "set", "datagol:maxRetries", "1")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Cannot connect to DataGOL at {dead} (connection refused)" in text
    assert stack.resources() == []  # nothing started, nothing recorded
    stack.pulumi("config", "set", "datagol:baseUrl", stack.emulator.url)
    stack.up()
    assert len(stack.posts()) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "shown"),
    [
        (
            "<html><title>503 Service Unavailable</title><body>nginx</body></html>",
            "text/html",
            "503 Service Unavailable",
        ),
        ("not json at all", "text/plain", "not json at all"),
        ("", "application/json", "(empty body)"),
    ],
)
def test_odd_error_bodies_are_shown_readably(make_stack, body, content_type, shown) -> None:
    stack = make_stack([run("a")])
    stack.emulator.add_fault(status=400, body=body, content_type=content_type, method="POST")
    result = stack.up(check=False)
    assert result.returncode != 0
    assert f"HTTP 400: {shown}" in result.stdout + result.stderr
    assert len(stack.posts()) == 1


def test_emulator_stopped_during_a_waited_run(make_stack) -> None:
    stack = make_stack([run("a", **WAIT), run("b", **WAIT)])
    stack.pulumi("config", "set", "datagol:maxRetries", "1")
    stack.emulator.configure(job_seconds=3)
    process = stack.start_up()
    try:
        wait_until(lambda: len(stack.posts()) == 2)
        stack.emulator.stop()
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "was triggered, but its status could not be read" in output
    accepted = {r["urn"].split("::")[-1]: r["outputs"]["request_id"] for r in stack.resources()}
    assert sorted(accepted) == ["a", "b"]

    stack.emulator.start()  # same port; its jobs carry on
    finished = max(p["time"] for p in stack.posts()) + 3  # job_seconds after the last trigger
    stack.emulator.clear_requests()
    stack.up()
    assert stack.posts() == []  # accepted runs are never resent
    time.sleep(max(0.0, finished + 0.2 - time.time()))  # a fast machine gets here sooner
    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert stack.posts() == []
    refreshed = {r["urn"].split("::")[-1]: r["outputs"] for r in stack.resources()}
    assert {k: v["request_id"] for k, v in refreshed.items()} == accepted
    assert {v["status"] for v in refreshed.values()} == {"COMPLETED"}


def triggers(stack) -> list[dict]:
    """The Trigger Extraction POSTs the emulator got (other requests, reads, are free)."""
    return [p for p in stack.posts() if p["path"].endswith("/run")]


@pytest.mark.parametrize("count", [1, 6])
def test_ctrl_c_stops_a_long_wait_and_the_next_up_resumes_by_request_id(make_stack, count) -> None:
    """Ctrl-C during a 15-minute wait: the engine's Cancel stops the completions' waits within
    seconds (six: more than the SDK server's four worker threads); they record nothing, and
    the next `up` waits for the same request ids, sending nothing."""
    names = ["a", "b", "c", "d", "e", "f"][:count]
    stack = make_stack([run(name, **WAIT, timeout_seconds=900) for name in names])
    stack.emulator.configure(job_seconds=900)
    process = stack.start_up()
    try:
        # Every completion is polling (a second read of each: the waits are under way).
        def polling() -> bool:
            reads = [r["path"] for r in stack.emulator.requests("/requestLog/status/", "GET")]
            return len(set(reads)) == count and len(reads) >= 2 * count

        wait_until(polling)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
        took = time.monotonic() - interrupted
    finally:
        process.kill()
    assert took < 30, (took, output)
    assert "^C received; cancelling" in output and process.returncode != 0
    request_ids = set(stack.emulator.jobs)
    for request_id in request_ids:
        assert f"Stopped waiting for run {request_id}: the Pulumi engine cancelled" in output
    assert len(triggers(stack)) == count == len(request_ids)
    # The runs were recorded when DataGOL answered; their completions recorded nothing.
    assert {r["outputs"]["request_id"] for r in stack.resources()} == request_ids
    assert stack.completed() == {}

    stack.emulator.finish_jobs()
    stack.emulator.clear_requests()
    stack.up()
    assert triggers(stack) == []
    completed = stack.completed()
    assert {completed[name][""]["status"] for name in names} == {"COMPLETED"}
    assert {completed[name][""]["request_ids"][0] for name in names} == request_ids


def test_killed_during_a_wait_is_waited_for_again_never_resent(make_stack) -> None:
    """A second Ctrl-C terminates at once. The run was recorded when DataGOL answered; only
    its completion is left pending, and the next `up` waits for the same request id."""
    stack = make_stack([run("a", **WAIT)])
    stack.emulator.configure(job_seconds=6)
    process = stack.start_up()
    try:
        wait_until(lambda: len(stack.posts()) == 1)
        time.sleep(1.0)  # the completion is polling
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)  # "terminate immediately"
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    # The first Ctrl-C alone stops the wait within seconds (see the test above); the second
    # may find the CLI already ending.
    assert "^C received; terminating" in output or "^C received; cancelling" in output
    [request_id] = stack.emulator.jobs
    [state] = stack.resources()  # in state since DataGOL answered, before the wait
    assert state["outputs"]["request_id"] == request_id
    assert stack.completed() == {}
    stack.emulator.clear_requests()

    result = stack.up(check=False)
    text = result.stdout + result.stderr
    # Pulumi warns of "1 pending operations" (the completion) when the second Ctrl-C won.
    assert result.returncode == 0, text
    assert stack.posts() == []
    assert stack.completed()["a"][""]["status"] == "COMPLETED"
    assert stack.completed()["a"][""]["request_ids"] == [request_id]
    stack.emulator.clear_requests()
    again = stack.up()
    assert sent(stack.emulator) == [], again.stdout


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once closed


@pytest.mark.parametrize("fault", ["proxy refused", "service refused"])
def test_a_request_that_never_left_is_not_recorded_and_the_fixed_up_sends_it_once(
    make_stack, fault: str
) -> None:
    stack = make_stack([run("a")])
    if fault == "proxy refused":
        stack.env["HTTP_PROXY"] = f"http://127.0.0.1:{closed_port()}"
        expected = "Cannot connect to the proxy"
    else:
        stack.pulumi("config", "set", "datagol:baseUrl", f"http://127.0.0.1:{closed_port()}")
        expected = "Cannot connect to DataGOL at"
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0 and expected in text and "nothing was sent" in text
    assert sent(stack.emulator) == []
    assert stack.resources() == []  # nothing recorded: not written off as "may have started"

    stack.env.pop("HTTP_PROXY", None)
    stack.pulumi("config", "set", "datagol:baseUrl", stack.emulator.url)
    stack.up()
    assert len(stack.posts()) == 1
    [state] = stack.resources()
    assert state["outputs"]["status"] == "QUEUED"
