"""End-to-end fixtures: the real Pulumi CLI, a temporary file backend, the emulator.

Each test gets a copy of this repo's program in a temporary folder with its own backend and
PULUMI_HOME, a stack whose config points at an emulator on a free port, and helpers that run
`pulumi` and count what the emulator received. The engine comes from scripts/ensure-pulumi
(built once per machine, cached); these tests are never skipped: a missing engine fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import devtools.engine
from datagol_pulumi.emulator import Emulator
from devtools.engine import run_pulumi
from tests.conftest import TOKEN, WORKSPACE_ID

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-passphrase"
RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
#: What waits for a run that waits for completion, beside it (datagol_pulumi.run_completion).
COMPLETION_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunCompletion"
#: How `pulumi preview --json` shows a value that stays unknown until `up` (the SDK's sentinel).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def engine_bin() -> str:
    """The engine's folder (built if missing); a failure fails the tests, never skips them."""
    try:
        return devtools.engine.engine_bin()
    except RuntimeError as exc:
        pytest.fail(str(exc))


class Stack:
    """One stack of a copy of the program, driven through the real CLI."""

    def __init__(self, workdir: Path, env: dict[str, str], emulator: Emulator, name: str) -> None:
        self.workdir = workdir
        self.env = env
        self.emulator = emulator
        self.name = name
        self.transcript: list[str] = []

    @property
    def config_file(self) -> Path:
        return self.workdir / "stacks" / f"Pulumi.{self.name}.yaml"

    def pulumi(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        result = run_pulumi(self.workdir, self.env, *args, timeout=timeout)
        # What the CLI printed (not the command line, which holds what the test typed).
        self.transcript.append(f"$ pulumi {args[0]}\n{result.stdout}\n{result.stderr}")
        if check and result.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def set_runs(self, runs: Any, **project_config: Any) -> None:
        """Rewrite the runs (and other `datagol-pulumi:` keys), keeping every other config key."""
        data = yaml.safe_load(self.config_file.read_text()) or {}
        config = data.setdefault("config", {})
        config["datagol-pulumi:runs"] = runs
        for key, value in project_config.items():
            config[f"datagol-pulumi:{key}"] = value
        self.config_file.write_text(yaml.safe_dump(data, sort_keys=False))

    def start_up(self, *, new_session: bool = False) -> subprocess.Popen:
        """`pulumi up` in the background, for tests that act while it runs; its output is
        in ``stdout`` (stderr merged). ``new_session``: a process group of its own, so that a
        test can kill the whole group as a crash would."""
        return subprocess.Popen(
            ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--color", "never"],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=new_session,
        )

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.pulumi("up", "--yes", "--skip-preview", *args, check=check)

    def preview(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.pulumi("preview", *args, check=check)

    def plan(self, *args: str) -> dict[str, Any]:
        """`pulumi preview --json`: ``{"steps": {urn: step}, "changeSummary": {op: count}}``."""
        data = json.loads(self.preview("--json", *args).stdout)
        return {
            "steps": {step["urn"]: step for step in data.get("steps", [])},
            "changeSummary": data.get("changeSummary", {}),
        }

    def urn(self, name: str, typ: str = RUN_TYPE, parent_type: str | None = None) -> str:
        """The URN of resource ``name`` of type ``typ``, under a component of ``parent_type``."""
        project = yaml.safe_load((self.workdir / "Pulumi.yaml").read_text())["name"]
        qualified = f"{parent_type}${typ}" if parent_type else typ
        return f"urn:pulumi:{self.name}::{project}::{qualified}::{name}"

    def state(self) -> dict[str, dict[str, Any]]:
        """Every resource in the stack's state, by URN."""
        return {r["urn"]: r for r in self.export()["deployment"].get("resources", [])}

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--show-secrets").stdout)

    def export(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "export", "--show-secrets").stdout)

    def resources(self, typ: str = RUN_TYPE) -> list[dict[str, Any]]:
        return [r for r in self.export()["deployment"].get("resources", []) if r["type"] == typ]

    def on_another_runner(self, root: Path) -> Stack:
        """The same stack as a fresh CI runner sees it: another checkout folder, another HOME
        and PULUMI_HOME (so no in-flight journal), the same state backend and passphrase."""
        workdir = root / "checkout"
        shutil.copytree(self.workdir, workdir)
        env = devtools.engine.offline_env(root / "engine", PASSPHRASE)
        env["PULUMI_BACKEND_URL"] = self.env["PULUMI_BACKEND_URL"]
        env["HOME"] = str(root / "home")
        env["XDG_STATE_HOME"] = str(root / "home" / ".local" / "state")
        other = Stack(workdir, env, self.emulator, self.name)
        other.pulumi("stack", "select", self.name)
        return other

    def completed(self) -> dict[str, dict[str, Any]]:
        """Per completion name, what it recorded per run key ("" for an ExtractionRun)."""
        return {
            r["urn"].split("::")[-1]: r["outputs"]["runs"] for r in self.resources(COMPLETION_TYPE)
        }

    def posts(self) -> list[dict[str, Any]]:
        return self.emulator.requests(method="POST")

    def all_output(self) -> str:
        return "\n".join(self.transcript)


@pytest.fixture
def make_stack(tmp_path: Path, engine_bin: str, emulator: Emulator) -> Iterator[Any]:
    """make_stack(runs, name="e2e", program=None, token=TOKEN) -> Stack, initialised and configured."""
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)

    def make(
        runs: Any,
        name: str = "e2e",
        program: Path | None = None,
        token: str | None = TOKEN,
        **project_config: Any,
    ) -> Stack:
        workdir = tmp_path / "project"
        if not workdir.exists():
            (workdir / "stacks").mkdir(parents=True)
            shutil.copy(ROOT / "Pulumi.yaml", workdir / "Pulumi.yaml")
            shutil.copy(program or ROOT / "__main__.py", workdir / "__main__.py")
        stack = Stack(workdir, env, emulator, name)
        stack.pulumi("stack", "init", name)
        stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
        if token is not None:
            stack.pulumi("config", "set", "--secret", "datagol:token", token)
        stack.set_runs(runs, defaults={"workspace_id": WORKSPACE_ID}, **project_config)
        return stack

    yield make


def yaml_example_stack(tmp_path: Path, example: Path, emulator: Emulator) -> Stack:
    """A copy of the YAML program ``example`` on the plugin and the YAML host (a ``plugins``
    section naming both by path added), stack "dev" initialised, pointed at ``emulator``."""
    from devtools.lang_hosts import lang_hosts, with_plugins  # builds the hosts on first use

    try:
        lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    workdir = tmp_path / "project"
    shutil.copytree(example, workdir)
    project = yaml.safe_load((workdir / "Pulumi.yaml").read_text())
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(with_plugins(project, yaml_host=True)))
    return dev_stack(
        workdir, devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE), emulator
    )


def run(name: str, **spec: Any) -> dict[str, Any]:
    """One run entry of the list form, with the emulator-friendly ids."""
    return {
        "name": name,
        "extraction_id": "ext-1",
        "element_type": "COLUMN",
        "element_id": f"el-{name}",
        **spec,
    }


def dev_stack(workdir: Path, env: dict[str, str], emulator: Emulator) -> Stack:
    """Stack "dev" of the project in ``workdir``, initialised and pointed at ``emulator`` with
    the test token (as a secret)."""
    stack = Stack(workdir, env, emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    return stack


def use_oauth(
    stack: Stack, client_id: str, client_secret: str, refresh: str, **emulator_config: Any
) -> None:
    """Credentials by OAuth refresh token only: the emulator accepts these (and no static
    token); the stack's config names its token URL and holds the three as secrets."""
    stack.emulator.configure(
        tokens=[],
        oauth_client_id=client_id,
        oauth_client_secret=client_secret,
        oauth_refresh_token=refresh,
        **emulator_config,
    )
    url = f"{stack.emulator.url}/oauth/token"
    stack.pulumi("config", "set", "--plaintext", "datagol:oauthTokenUrl", url)
    for key, value in (
        ("oauthClientId", client_id),
        ("oauthClientSecret", client_secret),
        ("oauthRefreshToken", refresh),
    ):
        stack.pulumi("config", "set", "--secret", f"datagol:{key}", value)


@pytest.fixture(scope="session")
def sdks(tmp_path_factory: pytest.TempPathFactory, engine_bin: str) -> Path:
    """Python, Node.js and Go SDKs, generated once per session from the schema the plugin
    itself serves (test_plugin_sdks and test_exact_inputs use them)."""
    from devtools.lang_hosts import lang_hosts, plugin_dir  # builds the hosts on first use

    try:
        codegen = lang_hosts() / "codegen"
    except RuntimeError as exc:
        pytest.fail(str(exc))
    out = tmp_path_factory.mktemp("sdk")
    env = devtools.engine.offline_env(out / "engine", PASSPHRASE)
    # gen-sdk asks each language's host for the SDK: our generators, found first on PATH.
    env.pop("PULUMI_IGNORE_AMBIENT_PLUGINS")
    env["PATH"] = os.pathsep.join([str(codegen), env["PATH"]])
    plugin = plugin_dir() / "pulumi-resource-datagol"
    for language in ("python", "nodejs", "go"):
        result = devtools.engine.run_pulumi(
            out,
            env,
            *("package", "gen-sdk", str(plugin), "--language", language, "--out", str(out)),
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
    # Package metadata (the SDK reads its own version from it), without installing it anywhere.
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info"], cwd=out / "python", check=True, timeout=300
    )
    return out
