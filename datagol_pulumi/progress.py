"""What a wait shows while it lasts: which runs are still pending, their last status, the time.

A completion can wait for an hour; without this the CLI shows only "creating..." meanwhile. The
text goes to the engine as a status message of the completion (as pulumi-kubernetes shows its
"[1/3] waiting" lines): the interactive display updates the resource's row, a non-interactive
log prints a line each time it changes. So it is sent only when something changed (a status, a
run finished), at most every few seconds, and otherwise once a minute with the time waited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any

#: How often the reporter looks, and the least time between two messages.
CHECK_SECONDS = 1.0
MIN_GAP_SECONDS = 2.0
#: A message with only the time waited changed is sent this often.
HEARTBEAT_SECONDS = 60.0
#: Runs named in one message; the rest are counted.
SHOWN = 5


def waited(seconds: float) -> str:
    """``45s``, ``2m05s``, ``1h02m``."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """The pending runs of one wait, by key ("" for one ExtractionRun), and their reporter.

    ``names_secret``: the keys come from a secret value, so only statuses are counted.
    """

    def __init__(
        self,
        keys: Collection[str],
        report: Callable[[str], object] | None,
        *,
        names_secret: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = report
        self._names_secret = names_secret
        self._clock = clock
        self._total = len(keys)
        self._pending: dict[str, str] = dict.fromkeys(keys, "")
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = clock()
        self._sent: tuple[str, float] | None = None

    def seen(self, key: str) -> Callable[[Any], None]:
        """What to tell of each status read for ``key`` (a RunStatus)."""

        def tell(status: Any) -> None:
            with self._lock:
                if key in self._pending:
                    self._pending[key] = getattr(status, "status", None) or "unknown"

        return tell

    def done(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def line(self) -> str:
        """What is pending, without the time (what changes the message)."""
        with self._lock:
            pending = sorted(self._pending.items())
        statuses = [status or "not read yet" for _, status in pending]
        if self._total == 1 and [k for k, _ in pending] == [""]:
            return statuses[0]  # one ExtractionRun: no key to name
        finished = self._total - len(pending)
        if self._names_secret:
            counts = {s: statuses.count(s) for s in sorted(set(statuses))}
            shown = ", ".join(f"{n} {s}" for s, n in counts.items())
        else:
            named = [f"{key or 'run'} {status or 'not read yet'}" for key, status in pending]
            more = len(named) - SHOWN
            shown = ", ".join(named[:SHOWN]) + (f" and {more} more" if more > 0 else "")
        return f"[{finished}/{self._total}] pending: {shown}"

    def tick(self) -> str | None:
        """The message to send now, if any (and remember it as sent)."""
        now = self._clock()
        line = self.line()
        if self._sent is not None:
            last_line, at = self._sent
            if now - at < MIN_GAP_SECONDS:
                return None
            if line == last_line and now - at < HEARTBEAT_SECONDS:
                return None
        self._sent = (line, now)
        return f"waiting {waited(now - self._started)}: {line}"

    def _run(self) -> None:
        assert self._report is not None
        while not self._done.wait(CHECK_SECONDS):
            message = self.tick()
            if message is not None:
                self._report(message)

    def __enter__(self) -> Progress:
        if self._report is not None and self._total:
            threading.Thread(target=self._run, name="datagol-progress", daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
