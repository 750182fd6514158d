"""Commands of README.md and docs/ that no other test ran as written, run as a user types them:
read from the page (tests/doc_commands.py), through bash, on the offline engine."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import devtools.engine
from datagol_pulumi._version import __version__
from datagol_pulumi.plugin.schema import schema
from devtools.lang_hosts import lang_hosts
from tests.conftest import WORKSPACE_ID
from tests.doc_commands import ROOT, commands
from tests.e2e.conftest import PASSPHRASE, Stack, run
from tests.e2e.test_demo import free_port

DOCS = ROOT / "docs"


def written(page: Path, start: str) -> list[str]:
    """The commands of ``page`` that start with ``start``, as written there."""
    return [c.text for c in commands(page) if c.text.startswith(start)]


def bash(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_gen_sdk_as_the_overview_writes_it(tmp_path: Path, engine_bin: str) -> None:
    try:
        lang_hosts()  # built once per machine; the page's command then only finds them
    except RuntimeError as exc:
        pytest.fail(str(exc))
    (plain,) = written(DOCS / "_index.md", 'pulumi package gen-sdk "')
    (hosted,) = written(DOCS / "_index.md", 'PATH="$(scripts/ensure-lang-hosts')
    assert hosted.endswith(" " + plain), (plain, hosted)  # the same command, hosts on PATH
    # "from the checkout": scripts/ and tools/ as they are here, nothing else of the repo.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("scripts", "tools"):
        (checkout / name).symlink_to(ROOT / name)
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)
    env.pop("PULUMI_IGNORE_AMBIENT_PLUGINS")  # as a user's shell: language hosts from PATH

    # The offline engine has no Node.js host: the command fails as the page says, writing nothing.
    failed = bash(plain, checkout, env)
    assert failed.returncode != 0
    said = "no language plugin 'pulumi-language-nodejs' found in the workspace or on your $PATH"
    assert said in failed.stderr, failed.stderr
    assert f"`{said}`" in " ".join((DOCS / "_index.md").read_text().split())
    assert not (checkout / "sdk" / "nodejs" / "package.json").exists()

    made = bash(hosted, checkout, env)
    assert made.returncode == 0, made.stderr
    sdk = checkout / "sdk" / "nodejs"
    package = json.loads((sdk / "package.json").read_text())
    assert (package["name"], package["version"]) == ("@datagol/pulumi", __version__)
    for token in schema()["resources"]:
        name = token.split(":")[-1]
        module = sdk / f"{name[0].lower()}{name[1:]}.ts"
        assert f"export class {name} extends pulumi.CustomResource" in module.read_text()


def test_a_token_set_from_a_file_as_the_error_says_is_accepted(make_stack, tmp_path: Path) -> None:
    # docs/reliability.md: a token with a trailing newline fails configure, and its message says
    # how to set it from a file; that command, typed as written, sets a token that works.
    (command,) = written(DOCS / "reliability.md", 'pulumi config set --secret datagol:token "$(')
    stack = make_stack([run("a")], token=None)
    stack.pulumi("config", "set", "--secret", "datagol:token", "test-token\n")
    refused = stack.up(check=False)
    assert refused.returncode != 0
    assert "datagol:token has a trailing newline" in refused.stdout + refused.stderr
    assert f"`{command}`" in refused.stdout + refused.stderr
    assert stack.posts() == []

    (stack.workdir / "file").write_text("test-token\n")
    set_ = bash(command, stack.workdir, stack.env)
    assert set_.returncode == 0, set_.stderr
    stack.up()
    assert len(stack.posts()) == 1
    assert stack.posts()[0]["auth"]["valid"] is True


def test_the_emulator_as_development_md_starts_it(tmp_path: Path, engine_bin: str) -> None:
    page = DOCS / "development.md"
    (start,) = written(page, ".venv/bin/datagol-emulator ")
    (point,) = written(page, "pulumi config set datagol:baseUrl ")
    (token,) = written(page, "pulumi config set --secret datagol:token dev-token")
    (listing,) = written(page, "curl ")
    port = str(free_port())  # 18787 may be taken on a shared machine: the only change made
    start, point, listing = (line.replace("18787", port) for line in (start, point, listing))
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(sys.prefix)
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)

    emulator = subprocess.Popen(
        ["bash", "-c", f"exec {start}"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert emulator.stdout is not None
        assert (
            emulator.stdout.readline() == f"DataGOL emulator listening on http://127.0.0.1:{port}\n"
        )
        assert json.loads(bash(listing, repo, env).stdout) == []

        stack = Stack(repo, env, None, "dev")  # type: ignore[arg-type]
        stack.pulumi("stack", "init", "dev")
        for line in (point, token):
            typed = bash(line, repo, env)
            assert typed.returncode == 0, typed.stderr
        stack.set_runs([run("a")], defaults={"workspace_id": WORKSPACE_ID})
        stack.up()

        records = json.loads(bash(listing, repo, env).stdout)
        # One trigger; the rest are the preview's free Get Extractions reads of its element.
        (record,) = [r for r in records if r["method"] == "POST"]
        reads = {r["path"] for r in records if r["method"] != "POST"}
        assert reads == {f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction/COLUMN/el-a"}
        assert record["method"] == "POST"
        assert record["path"].endswith("/ext-1/COLUMN/el-a/run")
        assert record["auth"]["token_sha256"] == hashlib.sha256(b"dev-token").hexdigest()
        assert record["auth"]["valid"] is True
    finally:
        os.killpg(emulator.pid, signal.SIGINT)  # "runs until Ctrl-C"
        deadline = time.monotonic() + 10
        while emulator.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if emulator.poll() is None:
            os.killpg(emulator.pid, signal.SIGKILL)
    assert emulator.wait(timeout=10) == 0
