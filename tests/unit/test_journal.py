"""The in-flight journal: a run whose trigger was cut off is recognised, and only that run."""

from __future__ import annotations

import json
import time

from datagol_pulumi.journal import MAX_AGE_SECONDS, InflightJournal
from datagol_pulumi.runs import trigger_run
from datagol_pulumi.validation import check_run
from tests.conftest import BASE_RUN

RUN = check_run({**BASE_RUN, "mode": "filter", "where_clause": "a = 1"})[0]


def test_begin_then_end_leaves_nothing(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    entry = journal.path(RUN)
    journal.begin(entry, "2026-11-28T10:00:00.000Z")
    assert journal.interrupted(entry) == "2026-11-28T10:00:00.000Z"
    journal.end(entry)
    assert journal.interrupted(entry) is None
    assert list(tmp_path.iterdir()) == []


def test_entries_are_per_stack_and_per_run_inputs(tmp_path) -> None:
    dev = InflightJournal("org/p/dev", tmp_path)
    dev.begin(dev.path(RUN), "t")
    prod = InflightJournal("org/p/prod", tmp_path)
    assert prod.interrupted(prod.path(RUN)) is None
    assert dev.interrupted(dev.path({**RUN, "triggers": {"retry": 1}})) is None
    assert dev.interrupted(dev.path({**RUN, "wait_for_completion": True})) == "t"


def test_old_entries_expire(tmp_path) -> None:
    journal = InflightJournal("s", tmp_path)
    path = journal.path(RUN)
    journal.begin(path, "t")
    entry = json.loads(path.read_text())
    entry["epoch"] = time.time() - MAX_AGE_SECONDS - 1
    path.write_text(json.dumps(entry))
    assert journal.interrupted(path) is None
    assert not path.exists()


def test_an_interrupted_run_is_recorded_without_a_request(tmp_path) -> None:
    journal = InflightJournal("s", tmp_path)
    journal.begin(journal.path(RUN), "2026-11-28T10:00:00.000Z")

    class NoClient:  # any request would fail the test
        def __getattr__(self, name):
            raise AssertionError(f"client.{name} used")

    outs = trigger_run(NoClient(), RUN, run_count=1, journal=journal)
    assert outs["status"] == "UNKNOWN"
    assert "stopped at 2026-11-28T10:00:00.000Z" in outs["error"]
    assert outs["request_ids"] == [] and outs.get("request_id") is None
    assert journal.interrupted(journal.path(RUN)) is None  # state records it from now on
