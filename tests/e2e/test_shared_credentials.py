"""One credential source per provider configuration per process, through the real CLI (issue
16, items 5 and 6): a rotating refresh token serves an ExtractionRun and an ExtractionRunGroup
in one `up`, and status lists set as a YAML list are matched."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.e2e.conftest import run, use_oauth

CLIENT_ID, CLIENT_SECRET, REFRESH = (
    "e2e-shared-ID-61",
    "e2e-shared-SECRET-62",
    "e2e-shared-REFRESH-63",
)
BOTH_KINDS = (
    "from datagol_pulumi import ExtractionRun, ExtractionRunGroup\n"
    "WS = '6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f'\n"
    "ExtractionRun('single', workspace_id=WS, extraction_id='ext-1', element_type='COLUMN',\n"
    "    element_id='el-single', wait_for_completion=True, poll_interval_seconds=0.1)\n"
    "ExtractionRunGroup('group', wait_for_completion=True, poll_interval_seconds=0.1, runs={\n"
    "    'a': {'workspace_id': WS, 'extraction_id': 'ext-1', 'element_type': 'COLUMN',\n"
    "          'element_id': 'el-a'},\n"
    "    'b': {'workspace_id': WS, 'extraction_id': 'ext-1', 'element_type': 'FILE',\n"
    "          'element_id': 'el-b'}})\n"
)


def test_a_rotating_refresh_token_serves_a_run_and_a_group_in_one_up(
    make_stack, tmp_path: Path
) -> None:
    program = tmp_path / "both_kinds.py"
    program.write_text(BOTH_KINDS)
    stack = make_stack([run("unused")], program=program, token=None)
    use_oauth(
        stack, CLIENT_ID, CLIENT_SECRET, REFRESH, oauth_rotate_refresh_tokens=True, job_seconds=0.2
    )
    stack.up()
    exchanges = stack.emulator.requests(path_contains="/oauth/token")
    assert len(exchanges) == 1
    assert exchanges[0]["status"] == 200
    assert (
        exchanges[0]["body"]["refresh_token_sha256"] == hashlib.sha256(REFRESH.encode()).hexdigest()
    )
    posts = stack.emulator.requests(method="POST", path_contains="/run")
    assert sorted(p["path"].split("/")[-2] for p in posts) == ["el-a", "el-b", "el-single"]
    assert all(r["auth"]["valid"] for r in stack.emulator.requests() if "/oauth/" not in r["path"])
    for secret in (CLIENT_SECRET, REFRESH):
        assert secret not in stack.all_output()


def test_success_statuses_set_as_a_yaml_list_end_the_wait(make_stack) -> None:
    stack = make_stack(
        [run("a", wait_for_completion=True, poll_interval_seconds=0.1, timeout_seconds=10)]
    )
    # A status the defaults do not know: only the configured list can end the wait.
    stack.emulator.configure(success_status="SHIPPED", job_seconds=0.2)
    stack.pulumi("config", "set", "--path", "datagol:successStatuses[0]", "shipped")
    stack.pulumi("config", "set", "--path", "datagol:successStatuses[1]", "DONE")
    stack.pulumi("config", "set", "--path", "datagol:failureStatuses[0]", "EXPLODED")
    assert "- shipped" in stack.config_file.read_text()  # a YAML list, not a string
    stack.up()
    [completion] = stack.completed().values()
    assert [r["status"] for r in completion.values()] == ["SHIPPED"]
    assert not any(r.get("error") for r in completion.values())
