"""A record of triggers in flight, so that a provider killed mid-trigger is never silently repeated.

Pulumi saves a run in the stack state only once the provider answers. If the provider process is
killed after sending a trigger (a second Ctrl-C, a crash, a CI job timing out), the state keeps a
*pending create* and the next ``pulumi up`` creates the run again: a second paid job. So before
the first request of an operation the provider creates, exclusively, a small file naming the run
(by its URN, and the run key inside a group) and its owner. Each time a batch is accepted, the
file records the batches and their request ids. It is removed once the engine has recorded the
answer: when the engine closes the provider at the end of the deployment.

Finding one on the next attempt whose owner is dead means the last attempt may have started a
job: the batches it records as accepted are adopted (the run re-attaches to their request ids),
the one that may have been in flight is recorded as ambiguous, and nothing is sent again. An
entry whose owner is alive belongs to another ``pulumi up`` triggering the run right now.

This is a file on one machine: a retry on another runner (a fresh CI job) does not see it. What
every runner shares is the stack's state, which holds a run from its answer on.

Entries are per checkout (the provider's working directory, the program's folder) and per stack,
so two checkouts with equal project and stack names never share them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import socket
import threading
from collections.abc import Container
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from . import engine_link
from .client import utc_now
from .errors import ConfigurationError, DataGolError


class RunInProgressError(DataGolError):
    """Another live process is triggering the same run; nothing was sent."""


def default_directory() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(
        os.environ.get("DATAGOL_JOURNAL_DIR") or os.path.join(base, "datagol-pulumi", "inflight")
    )


def _start_time(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (Linux), which a reused pid never has."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 of proc(5), counted after the name


@lru_cache(maxsize=1)
def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


@lru_cache(maxsize=4)
def _owner(pid: int) -> dict[str, Any]:
    # Keyed by pid, so that a forked child does not pass for its parent.
    return {
        "pid": pid,
        "start": _start_time(pid),
        "boot": _boot_id(),
        "host": socket.gethostname(),
    }


def owner_alive(owner: Any) -> bool | None:
    """Whether the process that wrote an entry still runs; None when this machine cannot tell."""
    if not isinstance(owner, dict) or owner.get("host") != socket.gethostname():
        return None
    if owner.get("boot") and _boot_id() and owner["boot"] != _boot_id():
        return False  # written before the machine last booted
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    start = owner.get("start")
    return True if start is None else _start_time(pid) == start


def attempt_alive(entry: dict[str, Any]) -> bool | None:
    """Whether the attempt that wrote ``entry`` may still send and be recorded.

    A provider whose engine is gone (the CLI killed) can outlive it for a moment, but nothing it
    does will be recorded, and it sends no more (:mod:`engine_link`): its attempt counts as cut
    off. The engine is known by its address, whatever launched the provider.
    """
    alive = owner_alive(entry.get("owner"))
    engine = entry.get("engine")
    if alive and isinstance(engine, str) and not engine_link.listening(engine):
        return False
    return alive


#: Entries this process answered, removed when its engine tells it to stop (see ``end``).
_ANSWERED: set[Path] = set()
_ANSWERED_LOCK = threading.Lock()


class JournalUnwritableError(ConfigurationError):
    """The in-flight record could not be written; nothing was sent."""


class InflightJournal:
    """Files under ``directory``, one per run being triggered for ``stack`` from this checkout."""

    def __init__(self, stack: str, directory: Path | None = None) -> None:
        self.stack = stack
        self.directory = directory or default_directory()
        self.checkout = os.getcwd()
        #: The entries this process began and has not ended, open for :meth:`note`.
        self._open: dict[Path, int] = {}

    def path(self, run: str) -> Path:
        """The entry of the run ``run`` (its URN, plus ``#key`` inside a group)."""
        identity = orjson.dumps([self.stack, self.checkout, run])
        return self.directory / f"{hashlib.sha256(identity).hexdigest()[:32]}.json"

    def begin(
        self,
        path: Path,
        run: str,
        inputs: str,
        operation_id: str,
        recorded: Container[str] = (),
    ) -> dict[str, Any] | None:
        """Create the entry of ``run`` exclusively, before its first request is sent.

        ``inputs`` is a digest of what the run sends; ``recorded`` the operation ids the stack
        state already holds. Returns None once the entry is ours, or the entry of an earlier
        attempt at the same inputs that was cut off (its owner is dead, and state does not
        hold it): that attempt may have started a job, and its ``batches``, when present, say
        which were accepted. Raises :class:`RunInProgressError` when a live process owns the
        entry, or when this machine cannot tell.
        """
        entry = {
            "run": run,
            "inputs": inputs,
            "operation_id": operation_id,
            "started_at": utc_now(),
            "owner": _owner(os.getpid()),
            "engine": engine_link.address(),
        }
        data = orjson.dumps(entry)  # orjson: this is on the path of every trigger
        with _ANSWERED_LOCK:
            if path in _ANSWERED:  # answered by this process earlier: its answer was recorded
                _ANSWERED.discard(path)
                path.unlink(missing_ok=True)
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileNotFoundError:
                self._make_directory(run)
                continue
            except FileExistsError:
                found = self._read(path)
                alive = attempt_alive(found) if found else False
                # An entry torn by a kill while it was written was written before anything was
                # sent; one for other inputs is of an attempt the engine has since abandoned;
                # one whose operation state holds was answered (only its removal failed).
                if (
                    found is None
                    or found.get("inputs") != inputs
                    or found.get("operation_id") in recorded
                ):
                    if alive:
                        raise self._busy(run, found, path) from None
                    path.unlink(missing_ok=True)
                    continue
                if alive is False:
                    return found
                raise self._busy(run, found, path) from None
            except OSError as exc:
                raise self._unwritable(run, exc) from None
            try:
                os.write(fd, data)
            except OSError:
                os.close(fd)
                raise
            # Kept open: each answer is appended to it (see note), which costs no new file.
            self._open[path] = fd
            return None
        raise RunInProgressError(f"Could not create the in-flight record {path} of run {run}.")

    def note(self, path: Path, batches: list[dict[str, Any]]) -> bool:
        """Record the batches of the run being triggered (accepted ones with their request ids),
        so that a later attempt re-attaches to them instead of writing them off.

        Appended to the entry as a line of its own: the entry's first line, written before any
        request, is never touched, and a line torn by a kill is read as "an answer may have
        arrived" (every batch after the last complete line stays ambiguous). Returns False
        when it could not be written, and the caller sends no further batch.
        """
        fd = self._open.get(path)
        if fd is None:
            return False
        try:
            os.write(fd, b"\n" + orjson.dumps({"batches": batches}))
        except OSError:
            return False
        return True

    def end(self, path: Path) -> None:
        """The run is answered: its entry is removed once the engine has recorded the answer.

        The engine writes a step's checkpoint only after the provider answered, so removing the
        entry now would leave a moment in which a killed `pulumi up` has neither record. It is
        removed when this process is told to stop by its engine (which has then checkpointed
        every step it took), or when this process begins the same run again; it stays when the
        engine is gone (killed, crashed), so the next attempt finds it and sends nothing.
        """
        self.close(path)
        with _ANSWERED_LOCK:
            _ANSWERED.add(path)

    def close(self, path: Path) -> None:
        """No more notes for this entry (an operation's last answer is in): its file is closed,
        so that a group of thousands of runs does not hold thousands of open files."""
        fd = self._open.pop(path, None)
        if fd is not None:
            os.close(fd)

    @staticmethod
    def release() -> None:
        """Remove the entries this process answered, unless its engine is gone; never raises."""
        if engine_link.gone_now():
            return
        with _ANSWERED_LOCK:
            answered = list(_ANSWERED)
            _ANSWERED.clear()
        for path in answered:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass  # a stale entry is recognised by its operation id once state holds it

    def _make_directory(self, run: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unwritable(run, exc) from None

    def _unwritable(self, run: str, exc: OSError) -> JournalUnwritableError:
        return JournalUnwritableError(
            f"Cannot write the in-flight record of run {run} in {self.directory} "
            f"({type(exc).__name__}: {exc.strerror or exc}). That record keeps a `pulumi up` "
            "killed mid-trigger from paying for the run twice. Set DATAGOL_JOURNAL_DIR to a "
            "folder this user can write (default: $XDG_STATE_HOME/datagol-pulumi/inflight or "
            "~/.local/state/datagol-pulumi/inflight); nothing was sent."
        )

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        """The entry, with the batches of its last complete note; None when its first line
        (written before anything was sent) is torn or unreadable."""
        try:
            first, *notes = path.read_bytes().split(b"\n")
            found = orjson.loads(first)
        except (OSError, ValueError):
            return None
        if not isinstance(found, dict):
            return None
        for line in reversed(notes):
            try:
                note = orjson.loads(line)
            except ValueError:
                continue  # torn by a kill: an earlier complete note is still what it says
            if isinstance(note, dict) and isinstance(note.get("batches"), list):
                found["batches"] = note["batches"]
                break
        return found

    @staticmethod
    def _busy(run: str, found: dict[str, Any] | None, path: Path) -> RunInProgressError:
        owner = (found or {}).get("owner") or {}
        return RunInProgressError(
            f"Another process (pid {owner.get('pid')} on {owner.get('host')}) is triggering run "
            f"{run} right now, so it was not sent. Run `pulumi up` again once that one has "
            f"finished; if no such process runs, delete {path}."
        )


# A provider stops when its engine closes it (SIGINT, then a normal exit) after the engine has
# checkpointed every step; a provider that dies otherwise (or exits on its own once its engine
# is gone) keeps its entries.
atexit.register(InflightJournal.release)
