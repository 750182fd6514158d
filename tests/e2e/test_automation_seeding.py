"""Seeding from the Automation API, all or nothing (issue 22): examples/automation/seed.py, as
docs/cost.md tells a user to run it, previews each stack first and sends nothing for a stack
over ``datagol:maxTriggersPerUpdate``; plain ``stack.up()`` (no preview) sends up to the limit.
"""

from __future__ import annotations

import subprocess
import sys

from pulumi import automation as auto

from tests.e2e.conftest import ROOT, Stack, run

SEED = ROOT / "examples" / "automation" / "seed.py"


def triggers(stack: Stack) -> int:
    """The trigger POSTs DataGOL received (free reads, if any, are not counted)."""
    return len([p for p in stack.posts() if p["path"].endswith("/run")])


def test_the_seeding_recipe_sends_nothing_for_a_stack_over_the_limit(
    make_stack, monkeypatch
) -> None:
    dev = make_stack([run(f"r{i}") for i in range(3)], name="dev")
    prod = make_stack([run(f"r{i}") for i in range(30)], name="prod")  # default limit: 25

    seeded = subprocess.run(
        [sys.executable, str(SEED), "dev", "prod"],
        cwd=dev.workdir,
        env=dev.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = seeded.stdout + seeded.stderr
    assert seeded.returncode == 1, out
    assert "== dev: succeeded {'create': 5}" in out  # stack, provider, three runs
    assert triggers(dev) == 3  # dev only: prod's preview refused, so its up never ran
    assert "== prod: The preview of stack prod failed, so up was not run" in out
    assert "would trigger at least 26 DataGOL runs" in out
    assert "Traceback" not in out
    assert prod.resources() == []
    dev.emulator.clear_requests()

    # Plain stack.up() skips the preview: it sends up to the limit, then fails.
    monkeypatch.setenv("PATH", prod.env["PATH"])  # the engine's `pulumi`
    stack = auto.select_stack(
        stack_name="prod",
        work_dir=str(prod.workdir),
        opts=auto.LocalWorkspaceOptions(env_vars=prod.env),
    )
    try:
        stack.up()
    except auto.CommandError as failed:
        assert "would trigger at least 26 DataGOL runs" in str(failed)
    else:
        raise AssertionError("stack.up() over the limit succeeded")
    assert triggers(prod) == 25
    assert len(prod.resources()) == 25
    prod.emulator.clear_requests()

    # As docs/cost.md has it: `DATAGOL_MAX_TRIGGERS_PER_UPDATE=200 python
    # examples/automation/seed.py dev prod`: dev is a no-op, prod gets the five runs left.
    seeded = subprocess.run(
        [sys.executable, str(SEED), "dev", "prod"],
        cwd=dev.workdir,
        env={**dev.env, "DATAGOL_MAX_TRIGGERS_PER_UPDATE": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "== prod: succeeded {'create': 5, 'same': 27}" in seeded.stdout, seeded.stdout
    assert triggers(prod) == 5 and len(prod.resources()) == 30
