"""Automation API: two stacks' inline programs at once in one process, with a CLI that is
not on PATH (``PulumiCommand(root=...)``) and the passphrase in PULUMI_CONFIG_PASSPHRASE_FILE.

A barrier makes the two programs interleave: each declares its first run, waits for the
other to have declared its own, then declares its second. Each program must keep its own
implicit provider throughout, and each stack's runs must reach its own emulator with its
own token.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pulumi import automation as auto

import devtools.engine
from datagol_pulumi import ExtractionRun
from datagol_pulumi.emulator import Emulator
from tests.conftest import WORKSPACE_ID

TOKENS = {"east": "east-TOKEN-9101", "west": "west-TOKEN-9102"}
PROVIDER_TYPE = "pulumi:providers:pulumi-python"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def program_for(barrier: threading.Barrier):
    def program() -> None:
        def declare(name: str) -> None:
            ExtractionRun(
                name,
                workspace_id=WORKSPACE_ID,
                extraction_id="ext-1",
                element_type="COLUMN",
                element_id=f"el-{name}",
            )

        declare("first")
        barrier.wait(timeout=120)  # the other program has declared its first run by now
        declare("second")

    return program


def test_concurrent_inline_programs_with_a_cli_not_on_path(
    engine_bin: str, tmp_path: Path, monkeypatch
) -> None:
    env = devtools.engine.offline_env(tmp_path / "engine", "unused")
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("from-a-file\n")
    del env["PULUMI_CONFIG_PASSPHRASE"]
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(passphrase_file)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != engine_bin)
    assert shutil.which("pulumi", path=env["PATH"]) is None
    # PulumiCommand runs <root>/bin/pulumi; the engine's folder need not be named bin (a
    # `pulumi` found on PATH may live anywhere), so give it a root of its own.
    root = tmp_path / "pulumi-root"
    root.mkdir()
    (root / "bin").symlink_to(engine_bin, target_is_directory=True)
    command = auto.PulumiCommand(root=str(root))
    barrier = threading.Barrier(2)

    def deploy(name: str, emulator: Emulator) -> tuple[Any, dict[str, Any], str]:
        stack = auto.create_stack(
            name,
            project_name="datagol-pulumi",
            program=program_for(barrier),
            opts=auto.LocalWorkspaceOptions(
                pulumi_command=command,
                env_vars=env,
                work_dir=str(tmp_path / name),
                project_settings=auto.ProjectSettings(name="datagol-pulumi", runtime="python"),
            ),
        )
        stack.set_config("datagol:baseUrl", auto.ConfigValue(emulator.url))
        stack.set_config("datagol:token", auto.ConfigValue(TOKENS[name], secret=True))
        printed: list[str] = []
        result = stack.up(on_output=printed.append)
        return result, stack.export_stack().deployment, "\n".join(printed)

    with Emulator(tokens=[TOKENS["east"]]) as east, Emulator(tokens=[TOKENS["west"]]) as west:
        emulators = {"east": east, "west": west}
        for name in emulators:
            (tmp_path / name).mkdir()
        with ThreadPoolExecutor(2) as pool:
            futures = {name: pool.submit(deploy, name, emu) for name, emu in emulators.items()}
            done = {name: future.result(timeout=300) for name, future in futures.items()}

        for name, emulator in emulators.items():
            result, deployment, printed = done[name]
            assert result.summary.result == "succeeded"
            assert result.summary.resource_changes == {"create": 4}
            posts = emulator.requests(method="POST")
            assert sorted(p["segments"][-2] for p in posts) == ["el-first", "el-second"]
            token_sha = hashlib.sha256(TOKENS[name].encode()).hexdigest()
            assert {(p["auth"]["token_sha256"], p["auth"]["valid"]) for p in posts} == {
                (token_sha, True)
            }
            resources = deployment["resources"]
            [provider] = [r for r in resources if r["type"] == PROVIDER_TYPE]
            assert provider["urn"] == (
                f"urn:pulumi:{name}::datagol-pulumi::{PROVIDER_TYPE}::datagol"
            )
            runs = [r for r in resources if r["type"].endswith("ExtractionRun")]
            assert [r["provider"] for r in runs] == [f"{provider['urn']}::{provider['id']}"] * 2
            # A secret input (Automation API's export decrypts it, as --show-secrets does).
            assert SECRET_SIG in provider["inputs"]["datagol:token"]
            for secret in TOKENS.values():
                assert secret not in printed
