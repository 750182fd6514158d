"""Know the bill before you pay it (issue 18), through the real CLI, counting at the emulator.

The preview says what an update will trigger; ``datagol:maxTriggersPerUpdate`` (or, for one
command, DATAGOL_MAX_TRIGGERS_PER_UPDATE) refuses an update over it before any request, counted
across every provider process of the update.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.e2e.conftest import ROOT, Stack, run
from tests.e2e.test_plugin_yaml import yaml_stack  # noqa: F401 - the fixture, shared

PROGRAM = ROOT / "tests" / "e2e" / "programs" / "bill.py"
TOTAL = re.compile(r"  total: (\d+) runs?(?: in (\d+) requests)?(?:, (\d+) selected rows?)?")
BILL = "DataGOL bill of this update"
#: Five batches of two rows; batch 3 carries a row too large for a 1,000-byte body limit.
ROWS = [{"id": i, "blob": "x" * (3000 if i == 4 else 1)} for i in range(10)]


def make(make_stack: Any, **config: Any) -> Stack:
    stack = make_stack([], program=PROGRAM)
    stack.set_runs([], **config)
    return stack


def with_env(stack: Stack, **env: str) -> Stack:
    """The same stack with variables set for the commands run through the returned one."""
    other = Stack(stack.workdir, {**stack.env, **env}, stack.emulator, stack.name)
    other.transcript = stack.transcript
    return other


def billed(output: str) -> tuple[int, int, int]:
    """The update's count as its bill states it, once: (runs, requests, selected rows)."""
    counts = [(int(r), int(q or r), int(n or 0)) for r, q, n in TOTAL.findall(output)]
    assert len(counts) <= 1, output  # said once
    return counts[0] if counts else (0, 0, 0)


def posted_runs(stack: Stack) -> set[str]:
    return {p["segments"][-2] for p in stack.posts()}


def refused_over_limit(stack: Stack, limit: int, runs: int) -> str:
    """Set datagol:maxTriggersPerUpdate to ``limit``: the preview of ``runs`` runs must refuse,
    before any request, saying so and how to raise it. Returns what it printed."""
    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", str(limit))
    refused = stack.preview(check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert sent(stack.emulator) == []
    # Said once: how far it counted, the limit and the ways out.
    assert text.count(f"would trigger at least {runs} DataGOL runs") == 1, text
    assert text.count(f"over the limit of {limit} per update (datagol:maxTriggersPerUpdate)") == 1
    assert text.count("DATAGOL_MAX_TRIGGERS_PER_UPDATE=<runs> pulumi up") == 1
    assert "Not sent: this update is over the limit" in text
    assert "Traceback" not in text and "__main__.py" not in text
    return text


def test_over_the_limit_fails_at_preview_across_tenants_and_the_variable_raises_it(
    make_stack,
) -> None:
    # Six runs over two tenants (two provider processes, three runs each): only a count
    # shared by both processes reaches six.
    stack = make(make_stack, single={f"r{i}": {} for i in range(6)}, tenants=True)

    text = refused_over_limit(stack, limit=5, runs=6)
    named = re.search(r"at least 6 DataGOL runs \(((?:r\d, ){4}r\d) and 1 more\)", text)
    assert named, text
    assert named.group(1).split(", ") == sorted(named.group(1).split(", "))  # in name order
    assert "pulumi up --target <urn>" in text and "split the change" in text

    # A way out: part of the stack.
    targeted = stack.preview("--target", stack.urn("r0"))
    assert billed(targeted.stdout) == (1, 1, 0)
    assert sent(stack.emulator) == []

    # The other: the limit raised for one command. `pulumi up` with its preview: the preview
    # and the update are counted apart (else the update would see twelve).
    raised = with_env(stack, DATAGOL_MAX_TRIGGERS_PER_UPDATE="6")
    preview = raised.preview()
    assert billed(preview.stdout) == (6, 6, 0), preview.stdout
    assert "workspace " in preview.stdout and "extraction ext-1" in preview.stdout
    assert sent(stack.emulator) == []
    raised.pulumi("up", "--yes")
    assert len(stack.posts()) == 6
    assert posted_runs(stack) == {f"el-r{i}" for i in range(6)}
    stack.emulator.clear_requests()

    # A no-op counts nothing, says nothing and sends nothing, under the limit of 5 again.
    noop = stack.preview()
    assert BILL not in noop.stdout and billed(noop.stdout) == (0, 0, 0)
    stack.up()
    assert sent(stack.emulator) == []

    # Changing the limit is an update of the providers only: no run is triggered again.
    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", "10")
    changed = stack.preview()
    assert BILL not in changed.stdout and "~ 2 to update" in changed.stdout, changed.stdout
    stack.up()
    assert sent(stack.emulator) == []


def test_the_preview_counts_what_the_next_up_sends(make_stack) -> None:
    """Creates, a re-trigger in batches, a replacement, batches left unsent, group keys new and
    changed, and no-ops: the preview's count is the POSTs of the following up."""
    selected = {"mode": "selected", "rows": [{"id": i} for i in range(5)], "batch_size": 2}
    stack = make(
        make_stack,
        single={
            "a": selected,
            "b": {},
            "c": {},
            "p": {"mode": "selected", "rows": ROWS, "batch_size": 2},
        },
        keys={"k1": {}, "k2": {}, "k3": {}},
    )
    stack.emulator.configure(max_body_bytes=1000)  # p's batch 3 refused, 4 and 5 unsent
    # --continue-on-error: p's failure must not stop the creates still checking (each check
    # reads Get Extractions first), whatever the timing.
    with_env(stack, DATAGOL_MAX_TRIGGERS_PER_UPDATE="0").up("--continue-on-error", check=False)
    assert len(stack.posts()) == 3 + 1 + 1 + 3 + 3  # p: 2 accepted, 1 refused (413)
    stack.emulator.configure(max_body_bytes=16 * 1024 * 1024)
    stack.emulator.clear_requests()

    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", "6")  # the exact count
    stack.set_runs(
        [],
        single={
            "a": {**selected, "triggers": {"v": "2"}},  # 1 run, 3 requests, 5 rows
            "b": {},  # no-op
            "c": {"extraction_id": "ext-2"},  # replaced: 1 run
            "d": {},  # created: 1 run
            "p": {"mode": "selected", "rows": ROWS, "batch_size": 2},  # 3 unsent: 6 rows
        },
        keys={"k1": {"triggers": {"v": "2"}}, "k2": {}, "k4": {}},  # k1, k4: 2 runs
    )
    preview = stack.preview()
    assert billed(preview.stdout) == (6, 10, 11), preview.stdout
    assert "(a, c, d, grp[k1], grp[k4], p)" in preview.stdout
    assert "extraction ext-2" in preview.stdout
    assert sent(stack.emulator) == []

    stack.up()
    posts = stack.posts()
    assert len(posts) == 10
    assert posted_runs(stack) == {"el-a", "el-c", "el-d", "el-p", "el-grp-k1", "el-grp-k4"}
    assert sum(len(p["body"].get("rows") or []) for p in posts) == 11


def test_an_update_without_preview_sends_at_most_the_limit_and_the_next_one_the_rest(
    make_stack,
) -> None:
    # `pulumi up --skip-preview` (and Automation API's up) counts as it goes: the engine
    # creates the first runs while it still checks the later ones.
    stack = make(make_stack, single={f"r{i}": {} for i in range(4)})
    stack.pulumi("config", "set", "datagol:maxTriggersPerUpdate", "2")
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert "would trigger at least 3 DataGOL runs" in failed.stdout + failed.stderr
    assert len(stack.posts()) == 2
    stack.emulator.clear_requests()
    stack.up()  # the two runs left are within the limit
    assert len(stack.posts()) == 2
    assert len(stack.resources()) == 4


def test_a_yaml_program_on_the_plugin_is_counted_and_refused_alike(
    yaml_stack: Stack,  # noqa: F811 - the fixture imported above
) -> None:
    stack = yaml_stack  # examples/yaml: two runs and a group of two
    refused_over_limit(stack, limit=3, runs=4)

    raised = with_env(stack, DATAGOL_MAX_TRIGGERS_PER_UPDATE="4")
    preview = raised.preview()
    assert billed(preview.stdout) == (4, 4, 1), preview.stdout
    assert "seed[invoices], seed[orders]" in preview.stdout
    raised.pulumi("up", "--yes")
    assert len(stack.posts()) == 4
    stack.emulator.clear_requests()

    # A no-op counts and sends nothing; one changed filter is one run, under the limit of 3.
    noop = stack.preview()
    assert BILL not in noop.stdout
    stack.up()
    assert sent(stack.emulator) == []
    stack.pulumi("config", "set", "contractsFilter", "status = 'closed'")
    assert billed(stack.preview().stdout) == (1, 1, 0)
    stack.up()
    assert len(stack.posts()) == 1


def test_the_bill_of_secret_runs_names_neither_their_target_nor_their_rows(make_stack) -> None:
    rows = [{"id": "r1"}, {"id": "r2"}, {"id": "r3"}]
    stack = make_stack([run("s", mode="selected", rows=rows, batch_size=1)])
    # The whole key is secret once a path of it is (the SDK names keys): so is every run of it.
    stack.pulumi("config", "set", "--secret", "--path", "datagol-pulumi:runs[0].rows[0].id", "r1")
    preview = stack.preview()
    out = preview.stdout + preview.stderr
    assert "total: 1 run with secret rows (requests and rows not shown) (s)" in out
    assert "workspace [secret], extraction [secret]: 1 run with secret rows" in out
    assert WORKSPACE_ID not in out and "3 requests" not in out and "3 selected rows" not in out
    stack.up()
    assert len(stack.posts()) == 3  # sent as written


def test_two_tenants_of_a_yaml_program_share_one_count(
    yaml_stack: Stack,  # noqa: F811 - the fixture imported above
) -> None:
    """Two explicit providers of the plugin (two processes), three runs each, each provider
    with a limit of 5 as its argument: only a count both share reaches six."""
    stack = yaml_stack
    path = stack.workdir / "Pulumi.yaml"
    project = yaml.safe_load(path.read_text())
    tenant = {
        "type": "pulumi:providers:datagol",
        "properties": {"baseUrl": "${url}", "token": "${token}", "maxTriggersPerUpdate": 5},
    }
    project["resources"] = {"tenantA": copy.deepcopy(tenant), "tenantB": copy.deepcopy(tenant)}
    for index in range(6):
        project["resources"][f"r{index}"] = {
            "type": "datagol:index:ExtractionRun",
            "properties": {
                "workspaceId": "${workspaceId}",
                "extractionId": "ext-1",
                "elementType": "COLUMN",
                "elementId": f"el-r{index}",
            },
            "options": {"provider": "${tenantA}" if index % 2 else "${tenantB}"},
        }
    project["outputs"] = {}
    path.write_text(yaml.safe_dump(project))
    stack.pulumi("config", "set", "url", stack.emulator.url)
    stack.pulumi("config", "set", "--secret", "token", TOKEN)

    refused = stack.preview(check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0, text
    assert "would trigger at least 6 DataGOL runs" in text, text
    assert "over the limit of 5 per update" in text
    assert sent(stack.emulator) == []
    raised = with_env(stack, DATAGOL_MAX_TRIGGERS_PER_UPDATE="6")
    assert billed(raised.preview().stdout) == (6, 6, 0)
    raised.up()
    assert posted_runs(stack) == {f"el-r{i}" for i in range(6)}


def test_a_preview_of_thirty_runs_is_short_and_states_its_total_once(make_stack) -> None:
    """Issue 22: 158 lines and a sentence per run at every display stage before."""
    stack = make(make_stack, single={f"r{i}": {} for i in range(30)})
    preview = with_env(stack, DATAGOL_MAX_TRIGGERS_PER_UPDATE="30").preview()
    out = preview.stdout + preview.stderr
    assert len(out.splitlines()) <= 100, out
    assert billed(out) == (30, 30, 0)
    assert out.count(BILL) == 2, out  # the stack's line (heading only) and the Diagnostics
    assert out.count("30 runs") == 3  # total, tenant, workspace and extraction
    assert f"  tenant {stack.emulator.url}: 30 runs" in out
    assert f"    workspace {WORKSPACE_ID}, extraction ext-1: 30 runs" in out
    assert "total: 30 runs (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9 and 20 more)" in out
    assert stack.emulator.requests(method="POST") == []

    # Over the limit: one refusal per refused run at most, the reasons and ways out once.
    text = refused_over_limit(stack, limit=25, runs=26)
    assert len(text.splitlines()) <= 100, text
    assert "counted before the limit: 25 runs" in text


def test_a_replaced_run_is_billed_once(make_stack) -> None:
    """Issue 21 item 7: the engine checks a replaced run twice; it is one run, said once."""
    stack = make(make_stack, single={"a": {}, "b": {}})
    stack.up()
    stack.emulator.clear_requests()
    stack.set_runs([], single={"a": {"extraction_id": "ext-2"}, "b": {}})
    preview = stack.preview()
    assert billed(preview.stdout) == (1, 1, 0)
    assert preview.stdout.count(BILL) == 2  # the stack's line and the Diagnostics
    assert "extraction ext-2: 1 run" in preview.stdout
    up = stack.up()
    assert billed(up.stdout) == (1, 1, 0)
    assert posted_runs(stack) == {"el-a"} and len(stack.posts()) == 1
