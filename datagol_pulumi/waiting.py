"""How a wait for runs stops early: the engine's Cancel, the provider process ending, the engine
gone. A stopped wait records nothing; the next ``pulumi up`` waits again by request id.

On Ctrl-C the engine sends ``Cancel`` to every provider and then waits for the operations in
flight, so a wait that ignores it holds the CLI until the run's timeout. The engine also sends
``Cancel`` at the normal end of every deployment: it stops only the waits in progress then,
never one begun later. A provider closed by a signal (SIGINT, SIGTERM) stops its waits as well,
so that it can exit before the engine kills it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from . import engine_link

#: Longest a wait sleeps before it looks again at what cannot wake it (the process ending,
#: the engine gone): the bound on how late it notices those.
CHECK_SECONDS = 0.5
CANCELLED = "the Pulumi engine cancelled the update"
SHUTTING_DOWN = "the provider process is shutting down"
ENGINE_GONE = "the Pulumi engine is gone"

_lock = threading.Lock()
_waits: set[Stop] = set()
#: Told the number of waits in progress each time one begins (see dynamic_cancel).
_on_begin: list[Callable[[int], object]] = []


class Stop:
    """One wait's stop signal; ``reason`` says why it was stopped ("" while it was not)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def stopped(self) -> bool:
        if not self._event.is_set():
            if engine_link.gone():
                self.set(ENGINE_GONE)
            elif not threading.main_thread().is_alive():
                # The dynamic provider's server returned from its main thread (SIGINT): the
                # interpreter now only waits for the threads still serving a request.
                self.set(SHUTTING_DOWN)
        return self._event.is_set()

    def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; whether it was stopped."""
        deadline = time.monotonic() + seconds
        while not self.stopped():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._event.wait(min(CHECK_SECONDS, remaining))
        return True


@contextmanager
def stoppable() -> Iterator[Stop]:
    """A stop signal for one wait, set by :func:`stop_all` while the wait is in progress."""
    stop = Stop()
    with _lock:
        _waits.add(stop)
        waits = len(_waits)
    for hook in list(_on_begin):
        hook(waits)
    try:
        yield stop
    finally:
        with _lock:
            _waits.discard(stop)


def when_waits_begin(hook: Callable[[int], object]) -> None:
    """Call ``hook(waits in progress)`` in the thread of each wait as it begins."""
    if hook not in _on_begin:
        _on_begin.append(hook)


def stop_all(reason: str = CANCELLED) -> int:
    """Stop every wait in progress (not those begun later); how many there were."""
    with _lock:
        waits = list(_waits)
    for stop in waits:
        stop.set(reason)
    return len(waits)
