"""Inputs sent exactly as written, or refused at `pulumi preview` (issue 16), through the CLI.

A Python program's nulls inside rows never reach the provider (the SDK's dynamic-provider
server drops them) and the engine rounds ints beyond 2**53: the program refuses both, at any
depth and inside Outputs, naming the path and the fix, before anything is registered. The
packaged plugin receives nulls from a program whose SDK sends them (Python, Node.js) and sends
them as written; a YAML program's SDK drops them before the engine sees them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import devtools.engine
from devtools.lang_hosts import lang_hosts, with_plugins
from tests.conftest import WORKSPACE_ID, sent
from tests.e2e.conftest import PASSPHRASE, ROOT, Stack, dev_stack, run

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
    assert sent(stack.emulator) == []
    # `up` refuses the same way, and nothing is in the state or sent.
    assert stack.up(check=False).returncode != 0
    assert sent(stack.emulator) == []
    assert stack.resources() == []


@pytest.mark.parametrize("case", ["after-null", "after-nested", "after-group"])
def test_a_refusal_after_another_run_is_shown_too(make_stack, case) -> None:
    # The first run makes the program's resource hook; a refusal while its server starts must
    # still be reported (not a crash of the program). Preview only: `up` would create the
    # valid run, as Pulumi creates what a failed program registered before it failed.
    stack = make_stack([], program=PROGRAM, case=case)
    preview = stack.preview(check=False)
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "segmentation fault" not in text and "Traceback" not in text, text
    assert "is null (1 such value(s))" in text or "beyond 2**53 (1 such value(s))" in text, text
    assert sent(stack.emulator) == []


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


ROWS = [{"id": "r1", "n": None, "deep": {"a": None, "b": [None, 1]}}]
PLUGIN_PROGRAM = f"""
import pulumi
import pulumi_datagol as datagol

datagol.ExtractionRun(
    "nulls",
    workspace_id="{WORKSPACE_ID}",
    extraction_id="ext-1",
    element_type="COLUMN",
    element_id="el-plugin",
    mode="selected",
    rows={ROWS!r},
)
"""


def _plugin_stack(workdir: Path, tmp_path: Path, emulator, project: dict, **env: str) -> Stack:
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    environment = {**devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE), **env}
    return dev_stack(workdir, environment, emulator)


def test_the_plugin_sends_a_python_programs_nulls_as_written(
    sdks: Path,
    tmp_path: Path,
    emulator,
) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    (workdir / "__main__.py").write_text(PLUGIN_PROGRAM)
    project = with_plugins({"name": "nulls", "runtime": "python"}, yaml_host=False)
    stack = _plugin_stack(workdir, tmp_path, emulator, project, PYTHONPATH=str(sdks / "python"))
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": False, "rows": ROWS}


def _yaml_stack(tmp_path: Path, emulator, rows: list) -> Stack:
    """A Pulumi YAML program with one run of these rows, on the plugin."""
    try:
        lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    workdir = tmp_path / "project"
    workdir.mkdir()
    resource = {
        "type": "datagol:index:ExtractionRun",
        "properties": {
            "workspaceId": WORKSPACE_ID,
            "extractionId": "ext-1",
            "elementType": "COLUMN",
            "elementId": "el-yaml",
            "mode": "selected",
            "rows": rows,
        },
    }
    project = {"name": "nulls", "runtime": "yaml", "resources": {"run": resource}}
    return _plugin_stack(workdir, tmp_path, emulator, with_plugins(project, yaml_host=True))


def test_a_yaml_programs_nulls_in_maps_never_reach_the_plugin(tmp_path: Path, emulator) -> None:
    # pulumi-yaml's Go SDK leaves null map entries out of the inputs it registers: the plugin
    # cannot tell them from absent keys (docs/reliability.md, "Exact inputs"). Nulls in lists arrive.
    stack = _yaml_stack(tmp_path, emulator, ROWS)
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": False, "rows": [{"id": "r1", "deep": {"b": [None, 1]}}]}


def test_the_plugin_refuses_a_number_the_engine_may_have_rounded(tmp_path: Path, emulator) -> None:
    # YAML reads 9007199254740993 as a float: the plugin gets 9007199254740992.
    stack = _yaml_stack(tmp_path, emulator, [{"id": 9007199254740993}])
    preview = stack.preview(check=False)
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "rows[0].id is a number of magnitude 2**53 or more (1 such value(s))" in text, text
    assert "pass it as a string" in text
    assert sent(stack.emulator) == []


def test_the_stack_yaml_program_refuses_a_null_in_rows(make_stack) -> None:
    stack = make_stack([run("a", mode="selected", rows=[{"id": "r1", "n": None}])])
    preview = stack.preview(check=False)
    text = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "a: rows[0].n: rows[0].n is null (1 such value(s))" in text, text
    assert sent(stack.emulator) == []
