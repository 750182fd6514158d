"""The in-flight journal: a run whose trigger was cut off is recognised, and only that run.

Entries are written by real processes: a child that begins an entry and exits without ending
it is exactly a provider killed mid-trigger.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from datagol_pulumi import engine_link
from datagol_pulumi.journal import (
    InflightJournal,
    JournalUnwritableError,
    RunInProgressError,
    owner_alive,
)
from datagol_pulumi.runs import run_identity, trigger_run
from datagol_pulumi.validation import check_run
from tests.conftest import BASE_RUN

RUN = check_run({**BASE_RUN, "mode": "filter", "where_clause": "a = 1"})[0]
URN = "urn:pulumi:dev::p::pulumi-python:dynamic/datagol:ExtractionRun::a"
ROOT = Path(__file__).resolve().parents[2]


def begin_in_dead_process(
    directory: Path,
    run: str,
    inputs: str,
    operation_id: str = "op-1",
    batches: list[dict] | None = None,
) -> None:
    """An entry begun (and, with ``batches``, noted) by a process that then died without
    ending it."""
    code = (
        "import json, sys; from pathlib import Path\n"
        "from datagol_pulumi.journal import InflightJournal\n"
        "j = InflightJournal('org/p/dev', Path(sys.argv[1]))\n"
        "assert j.begin(j.path(sys.argv[2]), sys.argv[2], sys.argv[3], sys.argv[4]) is None\n"
        "batches = json.loads(sys.argv[5])\n"
        "assert batches is None or j.note(j.path(sys.argv[2]), batches)\n"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(directory),
            run,
            inputs,
            operation_id,
            json.dumps(batches),
        ],
        check=True,
        cwd=os.getcwd(),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


class NoClient:
    """Any request would fail the test."""

    def __getattr__(self, name):
        raise AssertionError(f"client.{name} used")


def test_begin_is_exclusive_while_its_owner_lives_and_end_leaves_nothing(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    entry = journal.path(URN)
    assert journal.begin(entry, URN, "inputs", "op-1") is None
    assert json.loads(entry.read_text())["owner"]["pid"] == os.getpid()
    with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
        journal.begin(entry, URN, "inputs", "op-2")  # this very process is alive
    journal.end(entry)
    assert entry.exists()  # until the engine has recorded the answer: this process stops
    InflightJournal.release()
    assert list(tmp_path.iterdir()) == []


def test_runs_with_identical_inputs_have_their_own_entries(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    other = URN[: -len("::a")] + "::b"
    assert journal.begin(journal.path(URN), URN, "same", "op-1") is None
    assert journal.begin(journal.path(other), other, "same", "op-2") is None
    assert journal.begin(journal.path(f"{URN}#k"), f"{URN}#k", "same", "op-3") is None
    assert len(list(tmp_path.iterdir())) == 3


def test_entries_are_per_stack_and_per_checkout(tmp_path, monkeypatch) -> None:
    dev = InflightJournal("org/p/dev", tmp_path)
    assert dev.path(URN) != InflightJournal("org/p/prod", tmp_path).path(URN)
    monkeypatch.chdir(tmp_path)  # a second checkout with equal org, project and stack names
    assert InflightJournal("org/p/dev", tmp_path).path(URN) != dev.path(URN)


def test_a_dead_owner_means_the_run_was_interrupted_and_is_recorded_unsent(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    begin_in_dead_process(tmp_path, URN, run_identity(RUN))
    outs = trigger_run(NoClient(), RUN, run_count=1, journal=journal, run=URN)
    assert outs["status"] == "UNKNOWN"
    assert "An earlier `pulumi up` was stopped at" in outs["error"]
    assert "was not sent again" in outs["error"]
    [batch] = outs["batches"]
    assert batch["state"] == "ambiguous" and batch["error"] in outs["error"]
    InflightJournal.release()  # the engine recorded the answer, and closes the provider
    assert list(tmp_path.iterdir()) == []  # state records it from now on


def test_a_reused_pid_is_not_taken_for_the_owner(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    entry = journal.path(URN)
    journal.begin(entry, URN, "inputs", "op-1")
    record = json.loads(entry.read_text())
    assert owner_alive(record["owner"]) is True
    record["owner"]["start"] = "1"  # this pid, but a process started at another time
    assert owner_alive(record["owner"]) is False
    entry.write_text(json.dumps(record))
    assert journal.begin(entry, URN, "inputs", "op-2")["started_at"] == record["started_at"]


@pytest.mark.parametrize("case", ["other inputs", "recorded in state", "torn"])
def test_entries_of_runs_that_were_not_interrupted_never_make_one_unknown(tmp_path, case) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    begin_in_dead_process(tmp_path, URN, "old-inputs" if case == "other inputs" else "inputs")
    entry = journal.path(URN)
    if case == "torn":  # killed while writing the entry, before anything was sent
        entry.write_text('{"run": "urn:pul')
    recorded = {"op-1"} if case == "recorded in state" else set()
    assert journal.begin(entry, URN, "inputs", "op-2", recorded) is None
    assert json.loads(entry.read_text())["operation_id"] == "op-2"


def test_an_entry_of_a_live_owner_for_other_inputs_is_not_taken_over(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    entry = journal.path(URN)
    journal.begin(entry, URN, "old-inputs", "op-1")
    with pytest.raises(RunInProgressError, match="delete"):
        journal.begin(entry, URN, "new-inputs", "op-2")


def test_an_interrupted_run_stays_recognised_when_only_its_settings_change(tmp_path) -> None:
    journal = InflightJournal("org/p/dev", tmp_path)
    begin_in_dead_process(tmp_path, URN, run_identity(RUN))
    patient = {**RUN, "wait_for_completion": True, "timeout_seconds": 60.0}
    outs = trigger_run(NoClient(), patient, run_count=1, journal=journal, run=URN)
    assert outs["status"] == "UNKNOWN"
    InflightJournal.release()
    begin_in_dead_process(tmp_path, URN, run_identity(RUN))
    other = {**RUN, "where_clause": "a = 2"}  # another run: the engine dropped the old attempt
    assert journal.begin(journal.path(URN), URN, run_identity(other), "op-2") is None


def test_a_cut_off_attempt_whose_batch_was_accepted_is_adopted_not_written_off(tmp_path) -> None:
    # Batch 1 of 3 answered (and recorded), batch 2 may have been in flight, batch 3 never left.
    rows = {**RUN, "mode": "selected", "where_clause": None, "batch_size": 1}
    rows["rows"] = [{"id": 1}, {"id": 2}, {"id": 3}]
    journal = InflightJournal("org/p/dev", tmp_path)
    recorded = [
        {"state": "accepted", "rows": [0, 1], "request_id": "req-1", "status": "QUEUED"},
        {"state": "unsent", "rows": [1, 2]},
        {"state": "unsent", "rows": [2, 3]},
    ]
    begin_in_dead_process(tmp_path, URN, run_identity(rows), batches=recorded)
    outs = trigger_run(NoClient(), rows, run_count=1, journal=journal, run=URN)
    assert [b["state"] for b in outs["batches"]] == ["accepted", "ambiguous", "unsent"]
    assert outs["request_ids"] == ["req-1", None]
    assert "was stopped" in outs["batches"][1]["error"]
    assert outs["status"] == "PARTIAL"  # the next `up` sends batch 3, and only it


def test_an_unwritable_journal_folder_names_the_setting_and_sends_nothing(tmp_path) -> None:
    (tmp_path / "a-file").write_text("")
    journal = InflightJournal("org/p/dev", tmp_path / "a-file" / "inflight")
    with pytest.raises(JournalUnwritableError) as failure:
        trigger_run(NoClient(), RUN, run_count=1, journal=journal, run=URN)
    text = str(failure.value)
    assert "DATAGOL_JOURNAL_DIR" in text and "nothing was sent" in text
    assert str(tmp_path / "a-file" / "inflight") in text


def test_the_engine_is_known_by_its_address_whatever_launched_the_provider() -> None:
    dynamic = "/venv/lib/python3.11/site-packages/pulumi/dynamic/__main__.py"
    assert engine_link.address_from_argv([dynamic, "127.0.0.1:41234"]) == "127.0.0.1:41234"
    assert engine_link.address_from_argv([dynamic, "-v=9", "--logtostderr", "[::1]:5"]) == "[::1]:5"
    assert engine_link.address_from_argv(["/usr/bin/pytest", "127.0.0.1:41234"]) is None
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        assert engine_link.listening(address)
    assert not engine_link.listening(address)  # nothing listens there any more: refused


def test_an_answered_entry_stays_until_the_engine_closes_the_provider(tmp_path) -> None:
    # The engine checkpoints a step only after the provider answered: a kill in between must
    # find the entry, with what was answered, and send nothing.
    code = (
        "import sys; from pathlib import Path\n"
        "from datagol_pulumi.journal import InflightJournal\n"
        "j = InflightJournal('org/p/dev', Path(sys.argv[1]))\n"
        "p = j.path(sys.argv[2])\n"
        "assert j.begin(p, sys.argv[2], sys.argv[3], 'op-1') is None\n"
        "j.end(p)\n"
        "import os; os._exit(0) if sys.argv[4] == 'killed' else sys.exit(0)\n"
    )
    for how, kept in (("killed", True), ("closed", False)):
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), URN, run_identity(RUN), how],
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert InflightJournal("org/p/dev", tmp_path).path(URN).exists() is kept, how
        if kept:
            outs = trigger_run(
                NoClient(),
                RUN,
                run_count=1,
                journal=InflightJournal("org/p/dev", tmp_path),
                run=URN,
            )
            assert outs["status"] == "UNKNOWN"  # not sent: the killed attempt may have started it
            InflightJournal.release()


def test_a_note_torn_by_a_kill_leaves_the_last_complete_one_in_force(tmp_path) -> None:
    rows = {**RUN, "mode": "selected", "where_clause": None, "batch_size": 1}
    rows["rows"] = [{"id": 1}, {"id": 2}]
    first = [
        {"state": "accepted", "rows": [0, 1], "request_id": "req-1"},
        {"state": "unsent", "rows": [1, 2]},
    ]
    begin_in_dead_process(tmp_path, URN, run_identity(rows), batches=first)
    entry = InflightJournal("org/p/dev", tmp_path).path(URN)
    with entry.open("a") as torn:
        torn.write('\n{"batches": [{"state": "accepted", "rows": [0, 1], "request_id": "re')
    journal = InflightJournal("org/p/dev", tmp_path)
    outs = trigger_run(NoClient(), rows, run_count=1, journal=journal, run=URN)
    # Batch 1 as the complete note says; batch 2's answer may have arrived: ambiguous.
    assert [b["state"] for b in outs["batches"]] == ["accepted", "ambiguous"]
    assert outs["request_ids"] == ["req-1", None]
    InflightJournal.release()
