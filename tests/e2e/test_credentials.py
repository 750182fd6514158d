"""Credentials through the real CLI: OAuth secrets and secret rows never in plain state or output."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import reads, sent
from tests.e2e.conftest import run, use_oauth

CLIENT_ID, CLIENT_SECRET, REFRESH = (
    "e2e-client-ID-41",
    "e2e-client-SECRET-42",
    "e2e-refresh-SECRET-43",
)


def test_oauth_secrets_are_used_and_never_stored(make_stack) -> None:
    stack = make_stack([run("a"), run("b", mode="new")], token=None)
    use_oauth(stack, CLIENT_ID, CLIENT_SECRET, REFRESH)
    stack.up()
    requests = stack.emulator.requests()
    # One access token for the process: the checks' reads (Get Extractions of el-a, el-b) and
    # the two triggers all carry it.
    assert [r["path"].rsplit("/", 1)[-1] for r in sent(stack.emulator)] == ["token", "run", "run"]
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in reads(stack.emulator)) == ["el-a", "el-b"]
    assert all(r["auth"]["valid"] for r in requests)
    stack.pulumi("refresh", "--yes", "--skip-preview")
    stack.up()
    # Ciphertext only: --show-secrets would decrypt them, as for any provider's credentials.
    exported = stack.pulumi("stack", "export").stdout
    for secret in (CLIENT_ID, CLIENT_SECRET, REFRESH):
        assert secret not in exported
        assert secret not in stack.all_output()


def test_secret_rows_stay_secret_in_state(make_stack, tmp_path: Path) -> None:
    program = tmp_path / "secret_rows.py"
    program.write_text(
        "import pulumi\n"
        "from datagol_pulumi import ExtractionRun\n"
        "ExtractionRun('payroll', workspace_id='6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f',\n"
        "    extraction_id='e', element_type='FILE', element_id='f', mode='selected',\n"
        "    rows=pulumi.Output.secret([{'employee': 'ROW-SECRET-77', 'salary': 1}]))\n"
    )
    stack = make_stack([run("unused")], program=program)
    stack.up()
    [post] = stack.posts()
    assert post["body"]["rows"] == [{"employee": "ROW-SECRET-77", "salary": 1}]
    exported = stack.pulumi("stack", "export").stdout  # without --show-secrets: ciphertext only
    assert "ROW-SECRET-77" not in exported
    assert "ROW-SECRET-77" not in stack.all_output()
