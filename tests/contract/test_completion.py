"""The wait as a step of its own: the run returns once DataGOL answered, the completion polls.

Through the SDK's dynamic-provider servicer, against the emulator, counting its requests.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import rpc

from datagol_pulumi.completion import target
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.errors import RunFailedError
from datagol_pulumi.provider import ExtractionRunCompletionProvider
from tests.conftest import BASE_RUN

WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.05, "timeout_seconds": 5.0}


def awaited_run(**extra: Any) -> dict[str, Any]:
    return {**BASE_RUN, **WAIT, "__awaited_by_completion": True, **extra}


def awaited_once(emulator: Emulator, make_provider) -> tuple[Any, Any, dict, dict]:
    """A run and its completion, created and finished; the emulator's record cleared."""
    emulator.configure(job_seconds=0)
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    run = runs.create(awaited_run()).outs
    first = completions.create({"runs": {"": target(run)}}).outs
    emulator.clear_requests()
    return runs, completions, run, first


def test_a_run_awaited_by_a_completion_returns_once_answered_and_the_completion_waits(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(job_seconds=0.3)
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    created = runs.create(awaited_run())
    # The create returned on the answer: the engine checkpoints the request id before any wait.
    assert emulator.requests(method="GET") == []
    assert created.outs["status"] == "QUEUED" and created.outs["finished_at"] == ""
    done = completions.create({"runs": {"": target(created.outs)}}).outs["runs"][""]
    assert done["status"] == "COMPLETED" and done["awaited"] is True
    assert done["finished_at"] and done["error"] == ""
    assert len(emulator.requests(method="POST")) == 1  # the completion never triggers
    polls = emulator.requests(method="GET")
    assert polls and {p["path"].rsplit("/", 1)[-1] for p in polls} == {created.outs["request_id"]}


def test_a_completion_with_nothing_new_to_await_reads_nothing(
    emulator: Emulator, make_provider
) -> None:
    runs, completions, run, first = awaited_once(emulator, make_provider)
    news = {"runs": {"": target(run)}}
    assert completions.diff("c", first, news).changes is False
    # The run re-triggered: a new operation id and request id make the completion wait again.
    again = runs.update("r", run, awaited_run(triggers={"n": 2})).outs
    news = {"runs": {"": target(again)}}
    assert completions.diff("c", first, news).changes is True
    updated = completions.update("c", first, news).outs["runs"][""]
    assert updated["request_ids"] == [again["request_id"]] != run["request_ids"]
    assert [r["method"] for r in emulator.requests()] == ["POST", "GET"]


def test_a_failed_run_fails_the_completion_and_the_next_attempt_only_reads_again(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(job_seconds=0, failing_extractions=["ext-1"])
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    run = runs.create(awaited_run()).outs
    for _ in range(2):  # nothing is recorded: each `up` reads the status again, never triggers
        with pytest.raises(RunFailedError, match=r"finished with status FAILED.*triggers"):
            completions.create({"runs": {"": target(run)}})
    assert len(emulator.requests(method="POST")) == 1
    assert len(emulator.requests(method="GET")) == 2


def test_a_run_that_does_not_finish_in_time_is_awaited_again_by_the_next_attempt(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(job_seconds=1.0)
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    run = runs.create(awaited_run(timeout_seconds=0.2)).outs
    with pytest.raises(
        RunFailedError, match="did not finish within 0.2 s.*waits for it again"
    ) as e:
        completions.create({"runs": {"": target(run)}})
    assert str(e.value).count("nothing is sent") == 1  # said once, not once more as a hint
    patient = {**target(run), "timeout_seconds": 5.0}
    done = completions.create({"runs": {"": patient}}).outs["runs"][""]
    assert done["status"] == "COMPLETED"
    assert len(emulator.requests(method="POST")) == 1


def test_a_group_completion_awaits_each_key_and_names_the_ones_that_failed(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(job_seconds=0, failing_extractions=["ext-bad"])
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    good = runs.create(awaited_run(element_id="a")).outs
    bad = runs.create(awaited_run(element_id="b", extraction_id="ext-bad")).outs
    quiet = runs.create({**BASE_RUN, "element_id": "c"}).outs  # does not wait
    targets = {"good": target(good), "bad": target(bad), "quiet": target(quiet)}
    with pytest.raises(RunFailedError) as failure:
        completions.create({"runs": targets, "max_concurrency": 2})
    assert "1 run(s) did not complete" in str(failure.value)
    assert "bad: Run " in str(failure.value) and "good" not in str(failure.value)
    del targets["bad"]
    done = completions.create({"runs": targets, "max_concurrency": 2}).outs["runs"]
    assert done["good"]["status"] == "COMPLETED" and done["quiet"]["awaited"] is False


def test_a_run_that_waited_inside_its_own_step_is_taken_as_finished_without_a_request(
    emulator: Emulator, make_provider
) -> None:
    # As 0.2.0 recorded waited runs (and as `pulumi refresh` records them): the run's own
    # batches say how each ended, so the completion added by the upgrade reads nothing.
    emulator.configure(job_seconds=0)
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    waited_in_create = runs.create({**BASE_RUN, **WAIT}).outs
    assert waited_in_create["status"] == "COMPLETED"
    emulator.clear_requests()
    done = completions.create({"runs": {"": target(waited_in_create)}}).outs["runs"][""]
    assert done["status"] == "COMPLETED" and done["awaited"] is True
    assert emulator.requests() == []


def test_a_completion_whose_run_is_triggered_again_in_preview_plans_an_update(
    emulator: Emulator, make_provider
) -> None:
    # In a preview the run's new outputs are unknown (sent as the engine's unknown): the whole
    # input when the run itself is replaced, one value when only some outputs will change.
    runs, completions, run, first = awaited_once(emulator, make_provider)
    assert completions.diff("c", first, {"runs": rpc.UNKNOWN}).changes is True
    pending = {**target(run), "operation_id": rpc.UNKNOWN, "request_ids": rpc.UNKNOWN}
    assert completions.diff("c", first, {"runs": {"": pending}}).changes is True
    assert emulator.requests() == []  # a diff reads nothing


def test_a_run_whose_trigger_got_no_answer_fails_its_completion_reading_nothing(
    emulator: Emulator, make_provider
) -> None:
    emulator.add_fault(status=None, close=True, method="POST")
    runs, completions = make_provider(), make_provider(ExtractionRunCompletionProvider)
    run = runs.create(awaited_run()).outs
    assert (run["status"], run["request_ids"]) == ("UNKNOWN", [None])
    emulator.clear_requests()
    for _ in range(2):  # nothing recorded, nothing read, nothing sent: each time the same
        with pytest.raises(RunFailedError) as info:
            completions.create({"runs": {"": target(run)}})
        text = str(info.value)
        assert "broke during POST" in text and "The job may have started" in text
        assert "Its status stays UNKNOWN: DataGOL gave no request id to wait for" in text
        assert f"started at {run['triggered_at']}: if none did, change the run's `triggers`" in text
        assert "set wait_for_completion to false to stop waiting for it." in text
        assert "the run was triggered" not in text
    assert emulator.requests() == []


def test_a_group_key_whose_trigger_got_no_answer_is_named_before_anything_is_read(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(job_seconds=0)
    runs = make_provider()
    good = runs.create(awaited_run()).outs
    emulator.add_fault(status=None, close=True, method="POST")
    lost = runs.create(awaited_run(element_id="el-lost")).outs
    emulator.clear_requests()
    completions = make_provider(ExtractionRunCompletionProvider)
    with pytest.raises(RunFailedError) as info:
        completions.create({"runs": {"good": target(good), "lost": target(lost)}})
    assert "1 run(s) did not complete:\n  lost: " in str(info.value)
    assert "Its status stays UNKNOWN" in str(info.value)
    # Refused at check, as the preview refuses it: nothing is read, and the good run is not
    # waited for (up to its timeout) in a step bound to fail.
    assert emulator.requests() == []
