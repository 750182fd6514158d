"""The policy pack shipped in policy-pack/ (issue 18, item 3), through the real CLI: an
organisation's limit that a stack's own settings cannot lift, and bounded waits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import sent
from tests.e2e.conftest import ROOT, run
from tests.e2e.test_policy_pack import installed

PACK = ROOT / "policy-pack"


@pytest.fixture(scope="module")
def datagol_pack(engine_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed(PACK, tmp_path_factory.mktemp("datagol-policy"))[0]


def policy_config(tmp_path: Path, **policies: dict) -> str:
    path = tmp_path / f"policy-config-{len(list(tmp_path.glob('policy-config-*')))}.json"
    path.write_text(json.dumps(policies))
    return str(path)


def test_the_organisations_limit_holds_when_the_stack_lifts_its_own(
    make_stack, datagol_pack: Path, tmp_path: Path
) -> None:
    stack = make_stack([run(f"r{i}") for i in range(4)])
    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", "0")  # the stack: no limit
    three = policy_config(tmp_path, **{"max-triggers-per-update": {"maxTriggersPerUpdate": 3}})

    refused = stack.preview(
        "--policy-pack", str(datagol_pack), "--policy-pack-config", three, check=False
    )
    out = refused.stdout
    assert refused.returncode != 0, out
    assert "[mandatory]  max-triggers-per-update" in out
    assert "This update would trigger 4 DataGOL runs (paid extraction jobs) in 4 requests" in out
    assert "over the organisation's limit of 3 per update" in out
    assert sent(stack.emulator) == []
    # `pulumi up` runs the same policy in its preview: nothing is sent.
    up = stack.pulumi(
        "up",
        "--yes",
        "--policy-pack",
        str(datagol_pack),
        "--policy-pack-config",
        three,
        check=False,
    )
    assert up.returncode != 0 and "max-triggers-per-update" in up.stdout
    assert sent(stack.emulator) == []

    four = policy_config(tmp_path, **{"max-triggers-per-update": {"maxTriggersPerUpdate": 4}})
    stack.pulumi("up", "--yes", "--policy-pack", str(datagol_pack), "--policy-pack-config", four)
    assert len(stack.posts()) == 4
    stack.emulator.clear_requests()
    # A no-op is within any limit; a file of this update's preview is not read by the next.
    stack.preview("--policy-pack", str(datagol_pack), "--policy-pack-config", three)
    assert sent(stack.emulator) == []


def test_waited_runs_must_have_a_bounded_timeout(make_stack, datagol_pack: Path) -> None:
    wait = {"wait_for_completion": True, "poll_interval_seconds": 0.1}
    stack = make_stack([run("unbounded", **wait), run("long", timeout_seconds=7200, **wait)])
    refused = stack.preview("--policy-pack", str(datagol_pack), check=False)
    out = refused.stdout
    assert refused.returncode != 0, out
    assert "unbounded waits for completion without timeout_seconds; set at most 3600" in out
    assert "long waits up to 7200 s for completion; at most 3600 allowed" in out
    assert sent(stack.emulator) == []

    stack.set_runs(
        [run("unbounded", timeout_seconds=600, **wait), run("long", **wait, timeout_seconds=60)]
    )
    stack.preview("--policy-pack", str(datagol_pack))
    # The same rule for each key of a group.
    stack.set_runs([run("g1", **wait), run("g2", timeout_seconds=60, **wait)], group=True)
    grouped = stack.preview("--policy-pack", str(datagol_pack), check=False)
    assert grouped.returncode != 0, grouped.stdout
    assert "runs[g1] waits for completion without timeout_seconds" in grouped.stdout
    assert "runs[g2] waits" not in grouped.stdout
    assert sent(stack.emulator) == []
