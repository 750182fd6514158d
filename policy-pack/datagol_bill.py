"""The bill the DataGOL providers counted for the update this policy pack runs in.

Every provider process of an update adds what it will trigger to one small JSON file named
after the engine's gRPC address (``datagol_pulumi/tally.py``); the engine starts a policy pack
with the same address. This module reads that file without importing datagol_pulumi (a policy
pack has its own virtualenv); ``tests/unit/test_policy_bill.py`` keeps it in step with tally.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

_ADDRESS = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+$")


def engine_address(argv: list[str] | None = None) -> str | None:
    """The engine's address: the first ``host:port`` argument the engine started the pack with."""
    for arg in (sys.argv if argv is None else argv)[1:]:
        if _ADDRESS.match(arg):
            return arg
    return None


def bill_path(address: str) -> Path:
    getuid = getattr(os, "getuid", None)
    user = str(getuid()) if getuid else "user"
    folder = Path(tempfile.gettempdir()) / f"datagol-pulumi-updates-{user}"
    return folder / (hashlib.sha256(address.encode()).hexdigest()[:24] + ".json")


def read_bill(address: str | None) -> dict[str, Any] | None:
    """What this update triggers (runs, batches, rows, names, targets), or None when nothing
    was counted: a no-op, or no DataGOL provider of this update on this machine."""
    if address is None:
        return None
    try:
        data = json.loads(bill_path(address).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    # An address is reused once its engine is gone: a file whose writers all exited is old.
    pids = data.get("pids") or {}
    return data if any(_alive(pid, start) for pid, start in pids.items()) else None


def _alive(pid: str, start: str | None) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return start is None or stat.rsplit(")", 1)[-1].split()[19] == start
