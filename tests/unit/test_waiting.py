"""Waits that stop early (waiting) and what a wait shows meanwhile (progress)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from datagol_pulumi import waiting
from datagol_pulumi.progress import HEARTBEAT_SECONDS, MIN_GAP_SECONDS, Progress, waited


def test_stop_all_stops_the_waits_in_progress_at_once_and_not_later_ones() -> None:
    with waiting.stoppable() as stop:
        woke: list[float] = []
        sleeper = threading.Thread(target=lambda: woke.append(stop.sleep(60.0)))
        sleeper.start()
        time.sleep(0.1)
        started = time.monotonic()
        assert waiting.stop_all() >= 1
        sleeper.join(2.0)
        assert woke == [True] and time.monotonic() - started < 0.5  # the event wakes it
        assert stop.reason == waiting.CANCELLED
    # The engine's Cancel at the end of a deployment finds no wait: a later one is unaffected.
    with waiting.stoppable() as later:
        assert later.sleep(0.05) is False and later.reason == ""
    assert waiting.stop_all() == 0


def test_an_unregistered_stop_is_not_stopped_by_cancel() -> None:
    own = waiting.Stop()  # a run's own wait: only the engine gone or the process ending
    with waiting.stoppable():
        waiting.stop_all()
    assert own.stopped() is False and own.reason == ""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def status(text: str) -> SimpleNamespace:
    return SimpleNamespace(status=text)


def test_progress_says_what_is_pending_only_when_it_changes_or_once_a_minute() -> None:
    clock = Clock()
    progress = Progress(["b", "a", "c"], None, names_secret=False, clock=clock)
    progress.seen("a")(status("QUEUED"))
    progress.seen("b")(status("RUNNING"))
    assert progress.tick() == "waiting 0s: [0/3] pending: a QUEUED, b RUNNING, c not read yet"
    progress.done("a")
    clock.now += 0.5
    assert progress.tick() is None  # changed, but too soon after the last message
    clock.now += MIN_GAP_SECONDS
    assert progress.tick() == "waiting 2s: [1/3] pending: b RUNNING, c not read yet"
    clock.now += MIN_GAP_SECONDS + 1
    assert progress.tick() is None  # nothing changed
    clock.now += HEARTBEAT_SECONDS
    assert progress.tick() == "waiting 1m05s: [1/3] pending: b RUNNING, c not read yet"


def test_progress_of_one_run_and_of_secret_keys_names_no_key() -> None:
    one = Progress([""], None, names_secret=True, clock=Clock())
    one.seen("")(status("RUNNING"))
    assert one.tick() == "waiting 0s: RUNNING"
    hidden = Progress(["secret-a", "secret-b"], None, names_secret=True, clock=Clock())
    hidden.seen("secret-a")(status("RUNNING"))
    hidden.seen("secret-b")(status("RUNNING"))
    assert hidden.tick() == "waiting 0s: [0/2] pending: 2 RUNNING"


def test_progress_names_at_most_five_runs_and_counts_the_rest() -> None:
    progress = Progress([f"k{i}" for i in range(8)], None, clock=Clock(), names_secret=False)
    assert progress.line() == (
        "[0/8] pending: k0 not read yet, k1 not read yet, k2 not read yet, k3 not read yet, "
        "k4 not read yet and 3 more"
    )


def test_progress_reports_from_its_own_thread_until_the_wait_ends() -> None:
    sent: list[str] = []
    with Progress(["a"], sent.append, names_secret=False) as progress:
        progress.seen("a")(status("RUNNING"))
        time.sleep(1.8)
    count = len(sent)
    time.sleep(1.2)
    # One message (nothing changed after it), and none once the wait ended.
    assert count == 1 and sent[0].endswith(": [0/1] pending: a RUNNING") and len(sent) == 1


def test_waited_reads_as_time() -> None:
    assert [waited(s) for s in (0, 59.9, 61, 3599, 3725)] == [
        "0s",
        "59s",
        "1m01s",
        "59m59s",
        "1h02m",
    ]
