"""The offline Pulumi engine for tests and benchmarks, set up as the scripts set it up.

``scripts/ensure-pulumi`` finds or builds the engine and ``scripts/engine-env.sh`` is the one
definition of the environment it runs in offline; this module calls both rather than restating
them, so the tests, the benchmarks and a user's shell run the engine the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensured(script: str) -> str:
    """The folder a ``scripts/ensure-*`` script prints last (it builds what is missing first)."""
    result = subprocess.run(
        [str(ROOT / "scripts" / script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"scripts/{script} failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


@cache
def engine_bin() -> str:
    """The folder holding ``pulumi`` and its Python plugins (built on first use if missing)."""
    return ensured("ensure-pulumi")


def offline_env(state_dir: Path, passphrase: str) -> dict[str, str]:
    """The environment of ``scripts/engine-env.sh state_dir``, with the engine and this
    interpreter's ``bin`` first on PATH, and the provider's in-flight journal under
    ``state_dir`` (never the user's ``~/.local/state``).

    Variables of an outer Pulumi or DataGOL setup are dropped, so nothing leaks in.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DATAGOL_"))}
    base["PULUMI_CONFIG_PASSPHRASE"] = passphrase  # engine-env.sh keeps a caller's passphrase
    dump = subprocess.run(
        [
            "bash",
            "-c",
            '. "$1" "$2" && env -0',
            "engine-env",
            str(ROOT / "scripts" / "engine-env.sh"),
            str(state_dir),
        ],
        env=base,
        capture_output=True,
        check=True,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
    for shell_own in ("_", "SHLVL", "PWD", "OLDPWD"):
        env.pop(shell_own, None)
    env["PATH"] = os.pathsep.join([engine_bin(), str(Path(sys.executable).parent), env["PATH"]])
    env["DATAGOL_JOURNAL_DIR"] = str(state_dir / "inflight")
    return env


def run_pulumi(
    cwd: Path, env: dict[str, str], *args: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """One non-interactive, uncoloured ``pulumi`` command; the caller judges its exit code."""
    return subprocess.run(
        ["pulumi", *args, "--non-interactive", "--color", "never"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
