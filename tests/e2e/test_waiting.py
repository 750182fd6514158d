"""Waiting for completion and run groups through the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import sent
from tests.e2e.conftest import COMPLETION_TYPE, run

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}


def test_waited_run_reports_completion(make_stack) -> None:
    stack = make_stack([run("a", **WAIT)])
    stack.emulator.configure(job_seconds=0.5)
    stack.up()
    out = stack.outputs()["a"]
    assert out["status"] == "COMPLETED"
    assert out["finished_at"] > out["triggered_at"]
    assert out["error"] == ""
    assert len(stack.posts()) == 1
    # The engine knows the completion waits on the run (for --target-dependents, destroy order).
    [run_state] = stack.resources()
    [completion] = stack.resources(COMPLETION_TYPE)
    assert run_state["urn"] in completion["dependencies"]
    # The engine closed the provider after recording every step: no in-flight record is left.
    journal = Path(stack.env["DATAGOL_JOURNAL_DIR"])
    assert not journal.exists() or list(journal.iterdir()) == []


def test_failed_run_fails_every_up_until_triggers_change_and_is_never_resent(make_stack) -> None:
    stack = make_stack([run("a", **WAIT), run("b", extraction_id="ext-bad", **WAIT)])
    stack.emulator.configure(failing_extractions=["ext-bad"], failure_reason="quota exceeded")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    failed_id = next(p["request_id"] for p in stack.posts() if p["segments"][6] == "ext-bad")
    assert f"Run {failed_id} finished with status FAILED: " in text
    assert "quota exceeded" in text
    # Both runs are in state since DataGOL answered; b's completion is not: it failed.
    states = {r["urn"].split("::")[-1]: r["outputs"] for r in stack.resources()}
    assert states["b"]["request_id"] == failed_id
    assert "b" not in stack.completed()
    stack.emulator.clear_requests()

    # The next up reads b's status again and fails again; it never triggers b again.
    result = stack.up(check=False)
    assert result.returncode != 0 and f"Run {failed_id} finished with status FAILED" in (
        result.stdout + result.stderr
    )
    assert stack.posts() == []
    assert {r["path"].rsplit("/", 1)[-1] for r in stack.emulator.requests()} == {failed_id}

    # Changing triggers is how a user asks for it again.
    stack.emulator.configure(failing_extractions=[])
    stack.set_runs(
        [run("a", **WAIT), run("b", extraction_id="ext-bad", triggers={"retry": 1}, **WAIT)]
    )
    stack.up()
    [post] = stack.posts()
    assert post["segments"][6] == "ext-bad"
    assert stack.outputs()["b"]["status"] == "COMPLETED"
    assert stack.outputs()["b"]["run_count"] == 2


def test_timeout_says_how_long_and_the_next_up_waits_again(make_stack) -> None:
    stack = make_stack([run("slow", timeout_seconds=1, **WAIT)])
    stack.emulator.configure(job_seconds=4)
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "did not finish within 1 s" in text
    assert "waits for it again" in text and "raise timeout_seconds" in text
    # Each line of the error says "nothing is sent" once (it used to end with it twice).
    said = [line for line in text.splitlines() if "did not finish within 1 s" in line]
    assert said and all(line.count("nothing is sent") == 1 for line in said), said
    assert len(stack.posts()) == 1
    stack.emulator.clear_requests()
    stack.set_runs([run("slow", timeout_seconds=30, **WAIT)])
    stack.up()  # re-attaches to the same request id and waits for it: nothing is sent
    assert stack.posts() == []
    assert stack.outputs()["slow"]["status"] == "COMPLETED"


def test_group_retriggers_only_the_changed_key(make_stack) -> None:
    runs = [
        run("a", **WAIT),
        run("b", mode="filter", where_clause="x = 1", **WAIT),
        run("c", mode="selected", rows=[{"id": i} for i in range(5)], batch_size=2, **WAIT),
    ]
    stack = make_stack(runs, group=True, maxConcurrency=8)
    stack.up()
    assert len(stack.posts()) == 5  # a, b, and c's three batches
    first = stack.outputs()
    assert sorted(first["triggered_keys"]) == ["a", "b", "c"]
    assert first["c"]["status"] == "COMPLETED"
    assert len(stack.resources("pulumi-python:dynamic/datagol:ExtractionRunGroup")) == 1
    stack.emulator.clear_requests()

    noop = stack.preview("--diff")
    assert "[unknown]" not in noop.stdout and "~ " not in noop.stdout, noop.stdout
    stack.up()
    assert sent(stack.emulator) == []

    runs[1] = run("b", mode="filter", where_clause="x = 2", **WAIT)
    stack.set_runs(runs)
    preview = stack.preview("--diff")
    assert "x = 2" in preview.stdout
    assert "~ 2 to update" in preview.stdout  # the group, and its completion (a read only)
    assert sent(stack.emulator) == []
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": True, "whereClause": "x = 2"}
    second = stack.outputs()
    assert second["triggered_keys"] == ["b"]
    assert second["a"]["request_id"] == first["a"]["request_id"]
    assert second["b"]["request_id"] == post["request_id"]


def test_group_failure_names_the_key_and_keeps_the_others(make_stack) -> None:
    runs = [run("ok", **WAIT), run("bad", extraction_id="ext-bad", **WAIT)]
    stack = make_stack(runs, group=True)
    stack.emulator.configure(failing_extractions=["ext-bad"])
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "1 run(s) did not complete" in text and "bad: Run " in text
    assert len(stack.posts()) == 2
    stack.emulator.clear_requests()
    stack.up(check=False)  # fails again, reading bad's status; never triggers
    assert stack.posts() == []


def test_a_waited_group_shows_which_runs_are_pending_while_it_waits(make_stack) -> None:
    runs = {
        "fast": run("fast", extraction_id="ext-1", **WAIT),
        "middle": run("middle", extraction_id="ext-2", **WAIT),
        "slow": run("slow", extraction_id="ext-3", **WAIT),
    }
    stack = make_stack(list(runs.values()), group=True)
    seconds = {"ext-1": 1.5, "ext-2": 4.5, "ext-3": 7.5}
    stack.emulator.configure(job_seconds_by_extraction=seconds)
    text = stack.up().stdout
    # The completion's status line, as each run ends: pending keys, last status, time waited.
    lines = [line for line in text.splitlines() if "ExtractionRunCompletion" in line]
    shown = [line.split("waiting ", 1)[1] for line in lines if "waiting " in line]
    assert any("[0/3] pending: fast " in s and "slow QUEUED" in s for s in shown), text
    assert any("[1/3] pending: middle RUNNING, slow " in s for s in shown), text
    assert any("[2/3] pending: slow RUNNING" in s for s in shown), text
    # Throttled: a message when something changed, not one per poll (~75 polls here).
    assert len(shown) <= 8, shown
    assert stack.outputs()["slow"]["status"] == "COMPLETED"
