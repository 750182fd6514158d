"""An update's count file (datagol_pulumi.tally; issue 21, item 8): in a folder only this user
can enter, shared by every provider process of the update, and gone once the update ends;
a file an earlier update's killed provider left behind is removed by the next update."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.e2e.conftest import ROOT
from tests.e2e.test_faults import wait_until

PROGRAM = ROOT / "tests" / "e2e" / "programs" / "bill.py"
WAIT = {"wait_for_completion": True, "poll_interval_seconds": 0.1}


def test_the_count_file_is_private_shared_and_gone_when_the_update_ends(
    make_stack, tmp_path: Path
) -> None:
    # Two tenants: two provider processes count into one file; the last to exit removes it.
    stack = make_stack([], program=PROGRAM, single={"a": WAIT, "b": WAIT}, tenants=True)
    temp = tmp_path / "tmp"
    temp.mkdir()
    stack.env["TMPDIR"] = str(temp)
    folder = temp / f"datagol-pulumi-updates-{os.getuid()}"
    folder.mkdir(mode=0o755)  # as 0.3.0 made it, with a file its killed provider left
    killed = folder / "0123456789abcdef01234567.json"
    killed.write_text(json.dumps({"runs": 1, "pids": {"999999999": None}}))

    stack.emulator.configure(job_seconds=3)
    process = stack.start_up()
    try:
        wait_until(lambda: len(stack.posts()) == 2)
        [path] = folder.glob("*.json")  # the earlier update's file is gone
        data = json.loads(path.read_text())
        assert data["runs"] == 2 and len(data["pids"]) == 2, data
        assert folder.stat().st_mode & 0o777 == 0o700
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        output = process.communicate(timeout=240)[0]
    assert process.returncode == 0, output
    assert list(folder.iterdir()) == []

    # A preview that counts a re-run leaves nothing behind either.
    stack.set_runs([], single={"a": {**WAIT, "triggers": {"n": 1}}, "b": WAIT}, tenants=True)
    preview = stack.preview()
    assert "total: 1 run (a)" in preview.stdout  # the bill, said once (bill.summary)
    assert list(folder.iterdir()) == []
    assert stack.posts() and len(stack.posts()) == 2
