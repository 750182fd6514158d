"""Python plugins and policy packs through the real CLI and the offline engine's Python host.

The host's RunPlugin runs a plugin folder's program in its virtualenv (output streamed, exit
code forwarded), and since Pulumi 3.221 every Python policy pack runs that way:
`pulumi preview --policy-pack` must fail on a mandatory violation before DataGOL is called.
InstallDependencies (`pulumi install` in the folder) makes the virtualenvs: the policy pack's once
per module, with `pulumi-policy` from the package index (pip's cache makes it ~10 s).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import devtools.engine
from devtools.engine import run_pulumi
from tests.conftest import sent
from tests.e2e.conftest import PASSPHRASE, ROOT, run

FIXTURES = ROOT / "tests" / "e2e" / "fixtures"
MANDATORY = (
    "ExtractionRun 'bulk' would re-extract every file of folder 'el-bulk' (mode full) "
    "in stack 'e2e'; use mode 'new' or 'filter'"
)
ADVISORY = "ExtractionRun 'col' does not wait for completion"


def installed(folder: Path, tmp: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A copy of the fixture ``folder`` after `pulumi install` in it, and what that printed."""
    copy = tmp / folder.name
    shutil.copytree(folder, copy)
    env = devtools.engine.offline_env(tmp / "engine", PASSPHRASE)
    result = run_pulumi(copy, env, "install", timeout=600)
    assert result.returncode == 0, f"pulumi install failed:\n{result.stdout}\n{result.stderr}"
    return copy, result


@pytest.fixture(scope="module")
def policy_pack(engine_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack, result = installed(FIXTURES / "policy-pack", tmp_path_factory.mktemp("policy"))
    # InstallDependencies made the pack's own virtualenv (runtime.options.virtualenv: venv).
    assert f"Creating virtual environment {pack / 'venv'}" in result.stdout, result.stdout
    assert f"Installing requirements.txt into {pack / 'venv'}" in result.stdout
    assert "Successfully installed" in result.stdout and "pulumi-policy-1.21.0" in result.stdout
    return pack


def test_install_dependencies_makes_the_virtualenv(policy_pack: Path) -> None:
    probe = subprocess.run(
        [
            str(policy_pack / "venv" / "bin" / "python"),
            "-c",
            "import sys, pulumi_policy; print(sys.prefix)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == str(policy_pack / "venv")
    # Nothing went into the interpreter the engine runs with (this project's venv).
    assert importlib.util.find_spec("pulumi_policy") is None


def test_mandatory_policy_fails_preview_and_up(make_stack, policy_pack: Path) -> None:
    stack = make_stack([run("bulk", element_type="FOLDER"), run("col")])

    result = stack.preview("--policy-pack", str(policy_pack), check=False)
    out = result.stdout
    assert result.returncode != 0, out
    assert f"❌ datagol-e2e@v0.0.1 (local: {policy_pack})" in out
    assert "[mandatory]  no-full-folder-extraction  " in out
    assert "(pulumi-python:dynamic/datagol:ExtractionRun: bulk)" in out
    # The stack's name came from ConfigureStack, through the host's env for the pack.
    assert MANDATORY in out
    assert "ExtractionRun: col)" not in out
    assert sent(stack.emulator) == []

    # `up` stops before the violating run is sent.
    stack.set_runs([run("bulk", element_type="FOLDER")])
    up = stack.up("--policy-pack", str(policy_pack), check=False)
    assert up.returncode != 0
    assert MANDATORY in up.stdout
    assert sent(stack.emulator) == []
    assert stack.resources() == []


def test_passing_policy_pack_lets_preview_through(make_stack, policy_pack: Path) -> None:
    stack = make_stack(
        [
            run("folder-new", element_type="FOLDER", mode="new"),
            run("col", wait_for_completion=False),
        ]
    )
    result = stack.preview("--policy-pack", str(policy_pack))
    out = result.stdout
    # The pack analysed the runs: an advisory report, nothing mandatory.
    assert f"⚠️ datagol-e2e@v0.0.1 (local: {policy_pack})" in out
    assert "[advisory]  runs-wait-for-completion  " in out and ADVISORY in out
    assert "[mandatory]" not in out
    assert "+ 4 to create" in out
    assert sent(stack.emulator) == []


def test_policy_pack_that_fails_to_start_shows_its_traceback(
    make_stack, policy_pack: Path, tmp_path: Path
) -> None:
    """The pack's stderr is streamed back; its virtualenv is named by absolute path."""
    broken = tmp_path / "broken-pack"
    broken.mkdir()
    (broken / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {policy_pack / 'venv'}\n"
    )
    (broken / "__main__.py").write_text('raise RuntimeError("datagol-e2e: broken on purpose")\n')
    stack = make_stack([run("col")])

    result = stack.preview("--policy-pack", str(broken), check=False)
    assert result.returncode != 0
    assert f'File "{broken / "__main__.py"}", line 1' in result.stdout
    assert "RuntimeError: datagol-e2e: broken on purpose" in result.stdout
    assert "policy pack not started" in result.stderr
    assert sent(stack.emulator) == []


def plugin_run(
    plugin: Path, cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    """`pulumi plugin run` of a plugin folder (not run_pulumi: its flags would land after "--",
    among the plugin's arguments)."""
    return subprocess.run(
        [
            "pulumi",
            "plugin",
            "run",
            "--non-interactive",
            "--kind",
            "tool",
            str(plugin),
            "--",
            *args,
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_run_plugin_streams_output_and_forwards_the_exit_code(
    engine_bin: str, tmp_path: Path
) -> None:
    """`pulumi plugin run` of a PulumiPlugin.yaml folder: its default virtualenv ("venv"), made
    by `pulumi install`; args in, stdout and stderr out, the exit code through the CLI."""
    plugin, install = installed(FIXTURES / "tool-plugin", tmp_path)
    assert f"Creating virtual environment {plugin / 'venv'}" in install.stdout
    assert "nothing to install" in install.stdout
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)

    for code in ("3", "0"):
        result = plugin_run(plugin, tmp_path, env, code, "two words")
        assert result.returncode == int(code), result.stderr
        assert json.loads(result.stdout.splitlines()[0]) == {
            "prefix": str(plugin / "venv"),
            "cwd": str(tmp_path),
            "args": [code, "two words"],
        }
        assert "tool plugin: to stderr" in result.stderr


def test_pyproject_plugin_is_installed_and_run_as_its_package(
    policy_pack: Path, tmp_path: Path
) -> None:
    """No __main__.py: `pulumi install` pip-installs the folder's pyproject.toml package into
    the virtualenv it names by absolute path (the policy pack's: it has the Pulumi SDK), and
    RunPlugin runs it as `python -m pulumi.run.plugin datagol-echo-tool`."""
    plugin = tmp_path / "pyproject-plugin"
    shutil.copytree(FIXTURES / "pyproject-plugin", plugin)
    venv = policy_pack / "venv"
    (plugin / "PulumiPlugin.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {venv}\n"
    )
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)

    install = run_pulumi(plugin, env, "install", timeout=600)
    assert install.returncode == 0, f"{install.stdout}\n{install.stderr}"
    assert "Creating virtual environment" not in install.stdout
    assert f"Installing datagol-echo-tool from pyproject.toml into {venv}" in install.stdout
    assert "Successfully installed datagol-echo-tool-0.0.1" in install.stdout

    result = plugin_run(plugin, tmp_path, env, "5", "two words")
    assert result.returncode == 5, result.stderr
    assert json.loads(result.stdout.splitlines()[0]) == {
        "prefix": str(venv),
        "cwd": str(tmp_path),
        "args": ["5", "two words"],
    }
    assert "tool plugin: to stderr" in result.stderr
