"""Inputs sent exactly as written, or refused at `pulumi preview` (issue 16), through the CLI.

A Python program's nulls inside rows never reach the provider (the SDK's dynamic-provider
server drops them) and the engine rounds ints beyond 2**53: the program refuses both, at any
depth and inside Outputs, naming the path and the fix, before anything is registered.
"""

from __future__ import annotations

import pytest

from tests.conftest import WORKSPACE_ID
from tests.e2e.conftest import ROOT

PROGRAM = ROOT / "tests" / "e2e" / "programs" / "inexact.py"
PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction/ext-1/COLUMN"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "null",
            "nulls: rows[0].n: rows[0].n is null (1 such value(s)); Pulumi's dynamic providers "
            "drop nulls inside maps, so DataGOL would get no 'n' there: remove 'n', or give it "
            "a value",
        ),
        (
            "nested",
            "nested: rows[0].n: rows[0].n is a whole number beyond 2**53 (1 such value(s)); "
            "Pulumi carries numbers as 64-bit floats and would change it: pass it as a string",
        ),
        ("group", "group: runs.a.rows[0].big: runs.a.rows[0].big is a whole number beyond 2**53"),
    ],
)
def test_preview_refuses_what_would_not_be_sent_as_written(make_stack, case, message) -> None:
    stack = make_stack([], program=PROGRAM, case=case)
    preview = stack.preview(check=False)
    assert preview.returncode != 0
    assert message in preview.stdout + preview.stderr, stack.all_output()
    assert "Traceback" not in preview.stdout + preview.stderr
    assert stack.emulator.requests() == []
    # `up` refuses the same way, and nothing is in the state or sent.
    assert stack.up(check=False).returncode != 0
    assert stack.emulator.requests() == []
    assert stack.resources() == []


def test_the_same_program_with_exact_values_is_sent_as_written(make_stack) -> None:
    stack = make_stack([], program=PROGRAM, case="ok")
    stack.up()
    bodies = {p["path"]: p["body"] for p in stack.posts()}
    assert bodies == {
        f"{PREFIX}/el-nulls/run": {"selectAll": False, "rows": [{"id": "r1", "n": ""}]},
        f"{PREFIX}/el-nested/run": {"selectAll": False, "rows": [{"id": "r1", "n": 1}]},
        f"{PREFIX}/el-group-a/run": {
            "selectAll": False,
            "rows": [{"id": "r1", "big": "9007199254740993"}],
        },
    }
