"""The lifecycle through the real Pulumi CLI: up, no-op up, update, replace, refresh, destroy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.e2e.conftest import ROOT, run

PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction/ext-1/COLUMN"
ONE_PER_MODE = [
    run("full"),
    run("filter", mode="filter", where_clause="status = 'open'"),
    # Numbers cross the engine as floats; DataGOL must still get {"n": 1}, never 1.0.
    run("selected", mode="selected", rows=[{"id": "row1", "name": "Sample Data", "n": 1}]),
    run("new", mode="new", triggers={"release": "1"}),
]
EXPECTED = {
    "full": ("false", {"selectAll": True}),
    "filter": ("false", {"selectAll": True, "whereClause": "status = 'open'"}),
    "selected": (
        "false",
        {"selectAll": False, "rows": [{"id": "row1", "name": "Sample Data", "n": 1}]},
    ),
    "new": ("true", {"selectAll": True}),
}


def by_element(posts: list[dict]) -> dict[str, dict]:
    return {p["segments"][-2].removeprefix("el-"): p for p in posts}


def test_full_lifecycle(make_stack) -> None:
    stack = make_stack(ONE_PER_MODE)

    # 1. up: exactly one POST per run, with the specified path, query and body.
    stack.up()
    posts = by_element(stack.posts())
    assert len(stack.posts()) == 4
    for name, (query, body) in EXPECTED.items():
        assert posts[name]["path"] == f"{PREFIX}/el-{name}/run"
        assert posts[name]["query"] == {"extractOnlyNew": query}
        assert json.dumps(posts[name]["body"], sort_keys=True) == json.dumps(body, sort_keys=True)
    outputs = stack.outputs()
    assert {k: outputs[k]["request_id"] for k in EXPECTED} == {
        k: posts[k]["request_id"] for k in EXPECTED
    }
    assert all(outputs[k]["run_count"] == 1 for k in EXPECTED)
    stack.emulator.clear_requests()

    # 2. preview and up again: no changes, outputs included; zero requests.
    noop = stack.preview("--diff")
    assert "6 unchanged" in noop.stdout
    assert "[unknown]" not in noop.stdout and "~ " not in noop.stdout, noop.stdout
    again = stack.up()
    assert "6 unchanged" in again.stdout  # four runs, the provider and the stack
    assert sent(stack.emulator) == []

    # 3. edit one where_clause: preview shows an update of that run only, sends nothing.
    runs = [dict(r) for r in ONE_PER_MODE]
    runs[1]["where_clause"] = "status = 'closed'"
    stack.set_runs(runs)
    preview = stack.preview("--diff")
    assert "~ 1 to update" in preview.stdout
    assert "5 unchanged" in preview.stdout
    assert "where_clause" in preview.stdout and "status = 'closed'" in preview.stdout
    assert sent(stack.emulator) == []
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    assert stack.outputs()["filter"]["run_count"] == 2
    stack.emulator.clear_requests()

    # 4a. change triggers: one POST.
    runs[3]["triggers"] = {"release": "2"}
    stack.set_runs(runs)
    stack.up()
    [post] = stack.posts()
    assert post["segments"][-2] == "el-new"
    assert post["query"] == {"extractOnlyNew": "true"}
    stack.emulator.clear_requests()

    # 4b. change element_id: replace, one POST; the old run's delete sends nothing.
    runs[0]["element_id"] = "el-full-2"
    stack.set_runs(runs)
    preview = stack.preview()
    assert "+-1 to replace" in preview.stdout
    assert sent(stack.emulator) == []
    replaced = stack.up()
    assert "+-1 replaced" in replaced.stdout
    [post] = sent(stack.emulator)
    assert post["method"] == "POST" and post["path"] == f"{PREFIX}/el-full-2/run"
    assert len(stack.resources()) == 4
    stack.emulator.clear_requests()

    # 6. refresh: never posts (these runs do not wait, so it sends nothing at all).
    stack.pulumi("refresh", "--yes", "--skip-preview")
    assert sent(stack.emulator) == []

    # 7. destroy: no request at all; the stack is empty.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert sent(stack.emulator) == []
    assert stack.resources() == []


def test_invalid_run_fails_preview_naming_the_property(make_stack) -> None:
    stack = make_stack([run("bad", element_type="TABLE")])
    result = stack.preview(check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "run 'bad'" in text
    assert "element_type must be one of COLUMN, FILE, FOLDER, got 'TABLE'" in text
    assert sent(stack.emulator) == []


def test_provider_check_reaches_the_engine(make_stack, tmp_path: Path) -> None:
    """A program that skips the YAML loader: the provider's own check stops the preview."""
    program = tmp_path / "direct.py"
    program.write_text(
        "import pulumi\n"
        "from datagol_pulumi import ExtractionRun\n"
        "c = pulumi.Config()\n"
        "ExtractionRun('direct', workspace_id=c.require('ws'), extraction_id='e', "
        "element_type=c.require('type'), element_id='x', mode='filter')\n"
    )
    stack = make_stack([run("unused")], program=program, ws="not-a-uuid", type="TABLE")
    result = stack.preview(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "workspace_id must be a UUID" in text
    assert "element_type must be one of COLUMN, FILE, FOLDER" in text
    assert "mode 'filter' needs a where_clause" in text
    assert sent(stack.emulator) == []


def test_secret_token_reaches_the_service_and_nothing_else(make_stack) -> None:
    token = "e2e-SECRET-token-7f3a9c"
    stack = make_stack([run("a"), run("b", mode="selected", rows=[{"id": 1}])], token=token)
    stack.emulator.configure(tokens=[token])
    stack.up()
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert [p["auth"]["token_sha256"] for p in stack.posts()] == [digest, digest]
    # Ciphertext in state, as every provider's credentials: --show-secrets decrypts on purpose.
    exported = stack.pulumi("stack", "export").stdout
    assert token not in exported
    stack.pulumi("refresh", "--yes", "--skip-preview")
    stack.up("--debug")
    stack.pulumi("stack", "output", "--show-secrets")
    assert token not in stack.all_output()
    assert token not in stack.config_file.read_text()  # encrypted at rest


def test_wrong_token_fails_up_naming_the_setting(make_stack) -> None:
    stack = make_stack([run("a")], token="wrong-token-value-123")
    result = stack.up(check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "datagol:token" in text
    assert "wrong-token-value-123" not in text
    # Refused at check by the free read: no POST, nothing started, nothing recorded.
    assert stack.posts() == []
    assert [r["status"] for r in stack.emulator.requests()] == [401]
    assert stack.resources() == []

    # With the reads off, the POST is what DataGOL refuses, as before: still nothing recorded.
    stack.emulator.clear_requests()
    stack.env["DATAGOL_SKIP_PREVIEW_READS"] = "true"
    result = stack.up(check=False)
    assert result.returncode != 0 and "datagol:token" in result.stdout + result.stderr
    assert len(stack.posts()) == 1
    assert stack.resources() == []  # the next up retries


def test_every_stack_file_previews_cleanly(make_stack) -> None:
    for stack_file in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        name = stack_file.name.split(".")[1]
        stack = make_stack([run("placeholder")], name=f"copy-{name}")
        config = yaml.safe_load(stack_file.read_text())["config"]
        data = yaml.safe_load(stack.config_file.read_text())
        for key, value in config.items():
            if isinstance(value, dict) and "secure" in value:
                continue  # set below through the CLI, as the stack's comments say
            data["config"][key] = value
        data["config"]["datagol:baseUrl"] = stack.emulator.url
        stack.config_file.write_text(yaml.safe_dump(data))
        stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
        result = stack.preview()
        assert "error:" not in result.stdout.lower() + result.stderr.lower()
        runs = config["datagol-pulumi:runs"]
        defaults = config.get("datagol-pulumi:defaults") or {}
        specs = runs.values() if isinstance(runs, dict) else runs
        waited = sum(bool({**defaults, **r}.get("wait_for_completion")) for r in specs)
        # runs, a completion per run that waits, provider, stack
        assert f"+ {len(runs) + waited + 2} to create" in result.stdout
    assert sent(stack.emulator) == []
