"""No message quotes a value that was secret, through the real CLI (issue 16, item 3): a check
failure of a secret config value or a secret Output, and a server's 400 that echoes a secret
where clause."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import sent
from tests.e2e.conftest import run

CLAUSE = "ssn = '987-65-4321'"
PROGRAM = (
    "import pulumi\n"
    "from datagol_pulumi import ExtractionRun\n"
    "ExtractionRun('r', workspace_id='6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f',\n"
    "    extraction_id='ext-1', element_type='COLUMN', {spec})\n"
)


def program(tmp_path: Path, spec: str) -> Path:
    path = tmp_path / "secret_messages.py"
    path.write_text(PROGRAM.format(spec=spec))
    return path


def test_a_secret_config_value_that_fails_check_is_not_printed(make_stack) -> None:
    stack = make_stack([run("a")])
    stack.pulumi(
        "config", "set", "--secret", "--path", "datagol-pulumi:runs[0].mode", "MODE-SECRET-E2E"
    )
    failed = stack.preview(check=False)
    assert failed.returncode != 0
    assert "mode: mode must be one of full, filter, selected, new" in failed.stdout + failed.stderr
    assert "MODE-SECRET-E2E" not in stack.all_output()
    assert sent(stack.emulator) == []


def test_a_secret_id_that_the_path_cannot_carry_is_named_not_printed(
    make_stack, tmp_path: Path
) -> None:
    spec = "element_id=pulumi.Output.secret('top/../SECRET-ID-E2E')"
    stack = make_stack([run("unused")], program=program(tmp_path, spec))
    failed = stack.preview(check=False)
    assert failed.returncode != 0
    assert "element_id (a secret value, not shown) has a dot segment" in stack.all_output()
    assert "SECRET-ID-E2E" not in stack.all_output()
    assert sent(stack.emulator) == []


def test_a_400_echoing_a_secret_where_clause_is_masked(make_stack, tmp_path: Path) -> None:
    spec = f"element_id='el-r', mode='filter', where_clause=pulumi.Output.secret({CLAUSE!r})"
    stack = make_stack([run("unused")], program=program(tmp_path, spec))
    stack.emulator.add_fault(
        status=400, path_contains="/run", body={"message": f"cannot parse {CLAUSE} near '987'"}
    )
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert "HTTP 400: cannot parse [secret] near '987'" in stack.all_output()
    assert "987-65-4321" not in stack.all_output()
    assert [r["status"] for r in stack.posts()] == [400]


def test_a_failed_status_echoing_a_secret_where_clause_is_masked(
    make_stack, tmp_path: Path
) -> None:
    spec = (
        f"element_id='el-r', mode='filter', where_clause=pulumi.Output.secret({CLAUSE!r}),\n"
        "    wait_for_completion=True, poll_interval_seconds=0.1"
    )
    stack = make_stack([run("unused")], program=program(tmp_path, spec))
    stack.emulator.configure(failing_extractions=["ext-1"], failure_reason=f"bad {CLAUSE}")
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert "Extraction failed: bad [secret]" in stack.all_output()
    assert "987-65-4321" not in stack.all_output()
    assert "987-65-4321" not in stack.pulumi("stack", "export").stdout
