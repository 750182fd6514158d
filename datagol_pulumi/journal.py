"""A record of triggers in flight, so that a provider killed mid-trigger is never silently repeated.

Pulumi saves a run in the stack state only once the provider answers. If the provider process is
killed after sending a trigger (a second Ctrl-C, a crash, a CI job timing out), the state keeps a
*pending create* and the next ``pulumi up`` creates the run again: a second paid job. Before the
first request of a run the provider writes a small file naming it (by a hash of the stack and the
run's inputs); it removes the file once it has answered. Finding one on the next attempt means
the last attempt may have started a job, so the run is recorded as ``UNKNOWN`` with an error
instead of being sent again, as for any other trigger that may have started.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .payload import canonical_json, rows_digest
from .validation import REPLACE_PROPERTIES, TRIGGER_PROPERTIES

#: Entries older than this are from abandoned work, not from the last attempt.
MAX_AGE_SECONDS = 7 * 24 * 3600


def default_directory() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(
        os.environ.get("DATAGOL_JOURNAL_DIR") or os.path.join(base, "datagol-pulumi", "inflight")
    )


class InflightJournal:
    """Files under ``directory``, one per run being triggered for ``stack``."""

    def __init__(self, stack: str, directory: Path | None = None) -> None:
        self.stack = stack
        self.directory = directory or default_directory()

    def path(self, inputs: Mapping[str, Any]) -> Path:
        identity = {
            p: inputs.get(p) for p in REPLACE_PROPERTIES + TRIGGER_PROPERTIES if p != "rows"
        }
        identity["rows"] = rows_digest(inputs.get("rows"))
        digest = hashlib.sha256(canonical_json({"stack": self.stack, "run": identity})).hexdigest()
        return self.directory / f"{digest[:32]}.json"

    def interrupted(self, path: Path) -> str | None:
        """When an earlier attempt at the run of ``path`` was cut off after it began: its start."""
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if time.time() - float(entry.get("epoch", 0)) > MAX_AGE_SECONDS:
            path.unlink(missing_ok=True)
            return None
        return str(entry.get("started_at"))

    def begin(self, path: Path, started_at: str) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(parents=True, exist_ok=True)
        # No rename, no fsync: an entry torn by a kill during this write was written before
        # anything was sent, and a torn entry reads as no entry.
        entry = {"stack": self.stack, "started_at": started_at, "epoch": time.time()}
        path.write_text(json.dumps(entry))

    @staticmethod
    def end(path: Path) -> None:
        path.unlink(missing_ok=True)
