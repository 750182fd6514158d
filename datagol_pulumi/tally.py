"""The running count of the runs one update triggers, shared by every provider process of it.

One ``pulumi preview`` or ``pulumi up`` may start several provider processes: one per explicit
provider (tenant), in both faces. Each is started with the address of the engine's gRPC server,
which is the same for every provider of one deployment and different for the next one (the
preview and the update of a `pulumi up` are two deployments with two addresses), so the count
lives in a small file named after that address, changed under ``flock``, in a folder only this
user can enter (0700: the count decides what an update may send). Within a process a lock
serialises the engine's concurrent calls first.

The file lives as long as its update: the engine stops every provider of a deployment at its
end (after the policy packs read the count), and the last of them to exit removes it
(:func:`release`, at exit). A file whose recorded processes have all exited (killed, say)
belongs to an earlier update: the next update removes it, and one that finds such a file under
its own (reused) address starts over. Where ``fcntl`` is missing (Windows) the count is per
provider process only.

Without an engine address (tests, direct use) the count belongs to one tally object.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import ConfigurationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process's count only
    fcntl = None  # type: ignore[assignment]

#: How many run names a tally keeps for messages (the count itself is exact).
KEPT_NAMES = 10
#: A file this old is removed by the next update even if a process of its pid still runs (a
#: pid reused where /proc cannot tell the process apart).
STALE_SECONDS = 7 * 24 * 3600


@dataclass
class Totals:
    """What an update triggers so far: runs, batches (POSTs), selected rows, per target; the
    update's totals are the targets' sums, so that the two can never disagree."""

    #: The first runs counted in name order, for messages.
    names: list[str] = field(default_factory=list)
    #: "workspace W, extraction E" -> [runs, batches, rows, hidden]: hidden are the runs whose
    #: batches and rows are secret, counted in runs only.
    targets: dict[str, list[int]] = field(default_factory=dict)
    #: The resources already counted, by :func:`urn_key`: each is counted once per update.
    urns: list[str] = field(default_factory=list)
    #: The count the update's first refusal reached ("at least"); 0 while none was refused.
    refused: int = 0
    #: Whether a provider process of this update has shown its summary (shown once).
    summarized: bool = False

    def add(self, urn: str, names: list[str], targets: Mapping[str, list[int]]) -> None:
        self.urns.append(urn)
        # The first names in name order, whatever order the engine's calls came in.
        self.names = sorted([*self.names, *names], key=name_order)[:KEPT_NAMES]
        for target, counts in targets.items():
            runs, batches, rows, hidden = (list(counts) + [0, 0, 0, 0])[:4]
            total = self.targets.setdefault(target, [0, 0, 0, 0])
            for index, value in enumerate((runs, batches, rows, hidden)):
                total[index] += value

    def _sum(self, index: int) -> int:
        return sum(counts[index] for counts in self.targets.values())

    @property
    def runs(self) -> int:
        return self._sum(0)

    @property
    def batches(self) -> int:
        return self._sum(1)

    @property
    def rows(self) -> int:
        return self._sum(2)

    @property
    def hidden(self) -> int:
        return self._sum(3)

    def to_json(self) -> dict[str, Any]:
        # The totals are written too: the policy pack reads them (policy-pack/datagol_bill.py).
        return {
            "runs": self.runs,
            "batches": self.batches,
            "rows": self.rows,
            "hidden": self.hidden,
            "names": self.names,
            "targets": self.targets,
            "urns": self.urns,
            "refused": self.refused,
            "summarized": self.summarized,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Totals:
        return cls(
            names=[str(n) for n in data.get("names") or []],
            targets={str(k): [int(x) for x in v] for k, v in (data.get("targets") or {}).items()},
            urns=[str(u) for u in data.get("urns") or []],
            refused=int(data.get("refused") or 0),
            summarized=bool(data.get("summarized")),
        )


class Tally:
    """The count of one update. :meth:`charge` is the only way in, atomic across threads (and
    processes, with a ``path``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._totals = Totals()

    @contextmanager
    def _locked(self) -> Iterator[Totals]:
        with self._lock:
            if self.path is None or fcntl is None:
                yield self._totals
                return
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with _open_locked(self.path, create=True) as file:
                data = _load(file.read())
                totals = Totals.from_json(data) if _current(data) else Totals()
                yield totals
                pids = {p: s for p, s in (data.get("pids") or {}).items() if _alive(p, s)}
                pids[str(os.getpid())] = _own_start(os.getpid())
                _rewrite(file, {**totals.to_json(), "pids": pids})

    def release(self) -> None:
        """This process is done with the update: it leaves the file's writers, and the last
        writer to leave removes the file."""
        if self.path is None or fcntl is None:
            return
        with self._lock:
            try:
                file = _open_locked(self.path, create=False)
            except FileNotFoundError:
                return
            with file:
                data = _load(file.read())
                me = str(os.getpid())
                pids = data.get("pids") or {}
                others = {p: s for p, s in pids.items() if p != me and _alive(p, s)}
                if others:
                    _rewrite(file, {**data, "pids": others})
                else:  # unlinked under the lock: a writer waiting for it opens the path anew
                    self.path.unlink(missing_ok=True)

    def charge(
        self,
        urn: str,
        names: list[str],
        targets: Mapping[str, list[int]],
        limit: int,
    ) -> tuple[Totals, bool]:
        """Add a resource's runs unless that would take the update over ``limit`` (0: none).

        Returns the totals (with the resource's runs when added) and whether they were added.
        A resource already counted in this update (the engine may check, then diff it) adds
        nothing and is never refused again.
        """
        runs = sum(t[0] for t in targets.values())
        key = urn_key(urn)
        with self._locked() as totals:
            if key in totals.urns:
                return _copy(totals), True
            if limit and totals.runs + runs > limit:
                return _copy(totals), False
            totals.add(key, names, targets)
            return _copy(totals), True

    def refuse(self, at_least: int) -> bool:
        """Note that the update went over its limit at ``at_least`` runs; whether this is its
        first refusal (the one that says why and the ways out)."""
        with self._locked() as totals:
            if totals.refused:
                return False
            totals.refused = at_least
            return True

    def claim_summary(self) -> Totals | None:
        """The update's totals for the one process that shows them (None for every other, and
        when nothing was counted). A file already removed stays removed: nothing to say."""
        if self.path is not None and fcntl is not None and not self.path.exists():
            return None
        with self._locked() as totals:
            if totals.summarized or not (totals.runs or totals.refused):
                return None
            totals.summarized = True
            return _copy(totals)


def name_order(name: str) -> list[tuple[int, int | str]]:
    """Names in the order a person expects: r2 before r10."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in _PARTS.findall(name)]


_PARTS = re.compile(r"\d+|\D+")


def urn_key(urn: str) -> str:
    """What a tally keeps of a counted URN: 16 hex digits of its sha256. Every charge rewrites
    the file with every key counted so far, so its size, not a URN's (~100 bytes), is what an
    update of many resources pays for each of them; 64 bits do not collide within one."""
    return hashlib.sha256(urn.encode()).hexdigest()[:16]


def _copy(totals: Totals) -> Totals:
    return Totals.from_json(totals.to_json())  # from_json builds new lists and dicts


_TALLIES: dict[str, Tally] = {}
_TALLIES_LOCK = threading.Lock()


def for_update(address: str) -> Tally:
    """The tally of the update whose engine listens at ``address`` (one per process)."""
    with _TALLIES_LOCK:
        tally = _TALLIES.get(address)
        if tally is None:
            path = path_for(address)
            if fcntl is not None:
                _private(path.parent)
                _remove_stale(path.parent)
            if not _TALLIES:
                atexit.register(release)
            tally = _TALLIES[address] = Tally(path)
        return tally


def release() -> None:
    """The end of this process's part in its updates: each tally file it wrote loses it as a
    writer, and the last writer removes the file (see :meth:`Tally.release`).

    Registered with ``atexit`` by the first :func:`for_update`: the engine stops its providers
    with SIGINT at the end of a deployment, and both faces then exit normally. Anything that
    reads a tally at exit must do so before; calling this again does nothing.
    """
    with _TALLIES_LOCK:
        tallies = list(_TALLIES.values())
        _TALLIES.clear()
    for tally in tallies:
        tally.release()


def path_for(address: str) -> Path:
    """The file of the update at ``address`` (policy-pack/datagol_bill.py reads the same)."""
    folder = Path(tempfile.gettempdir()) / f"datagol-pulumi-updates-{_user()}"
    return folder / (hashlib.sha256(address.encode()).hexdigest()[:24] + ".json")


def _private(folder: Path) -> None:
    """Make ``folder`` if missing, and refuse one that another user could write: whoever can
    change the count can lift the limit, or stop every update."""
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigurationError(
            f"{folder}, where the DataGOL providers of an update count what it triggers, is not "
            "a folder of this user: remove it, or set TMPDIR to a folder of your own"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:  # made by 0.3.0, open to read for everyone
        os.chmod(folder, 0o700)


def _open_locked(path: Path, *, create: bool) -> IO[str]:
    """``path`` opened and locked (``flock``), the file that is at ``path`` once locked: a
    file unlinked while this process waited for its lock is left for the new one."""
    assert fcntl is not None
    while True:
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        file = os.fdopen(os.open(path, flags, 0o600), "r+", encoding="utf-8")
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file is closed
        try:
            if os.stat(path).st_ino == os.fstat(file.fileno()).st_ino:
                return file
        except FileNotFoundError:
            if not create:
                file.close()
                raise
        file.close()


def _rewrite(file: IO[str], data: Mapping[str, Any]) -> None:
    # Written over the old text, then cut at its end: the count only grows, so the cut is
    # usually none, where truncating to 0 first frees and reallocates the file's blocks (about
    # a third of a check's cost in the bill, per run).
    file.seek(0)
    file.write(json.dumps(data))
    file.truncate()
    file.flush()


def _user() -> str:
    getuid = getattr(os, "getuid", None)
    return str(getuid()) if getuid else "user"


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _current(data: Mapping[str, Any]) -> bool:
    """Whether a file belongs to a running update: one of the processes that wrote it lives."""
    pids = data.get("pids") or {}
    return any(_alive(pid, start) for pid, start in pids.items())


def _alive(pid: str, start: str | None) -> bool:
    if pid == str(os.getpid()):  # this process: its start time is known without /proc
        return start is None or _own_start(os.getpid()) in (None, start)
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    # A pid can be reused: the process must also be the one that wrote (same start time).
    return start is None or _start_time(int(pid)) in (None, start)


@functools.lru_cache(maxsize=4)
def _own_start(pid: int) -> str | None:
    # Keyed by pid, so that a forked child does not pass for its parent (as journal._owner).
    return _start_time(pid)


def _start_time(pid: int) -> str | None:
    try:
        line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return line.rsplit(")", 1)[-1].split()[19]  # field 22, counted after the command name


def _remove_stale(folder: Path) -> None:
    """Remove the files of earlier updates: those whose writers have all exited (killed before
    :func:`release`), and any a week old."""
    assert fcntl is not None
    cutoff = time.time() - STALE_SECONDS
    for path in folder.glob("*.json"):
        try:
            with open(path, "r+", encoding="utf-8") as file:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use: not stale
                if path.stat().st_mtime < cutoff or not _current(_load(file.read())):
                    path.unlink()
        except OSError:
            pass
