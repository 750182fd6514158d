"""The real Pulumi CLI in a throw-away project: own backend, own PULUMI_HOME, emulator config.

The engine runs in the offline environment devtools.engine builds for the tests too (from
scripts/engine-env.sh), so what the bench times is what a user's ``pulumi up`` does.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from devtools.engine import offline_env, run_pulumi

from .common import ROOT, TOKEN, WORKSPACE_ID

PASSPHRASE = "bench"
#: The floor program: copied in place of __main__.py for the "empty stack" baselines.
EMPTY_PROGRAM = Path(__file__).with_name("empty_program.py")
#: No single CLI call of the bench should take this long; a hang becomes an error, not a stall.
CLI_TIMEOUT = 600.0


class Project:
    """A copy of the program with one stack, in a fresh temporary backend (so `up` creates)."""

    def __init__(self, emulator_url: str, *, empty: bool = False, name: str = "bench") -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-pulumi-")
        root = Path(self._tmp.name)
        self.workdir = root / "project"
        (self.workdir / "stacks").mkdir(parents=True)
        shutil.copy(ROOT / "Pulumi.yaml", self.workdir / "Pulumi.yaml")
        shutil.copy(EMPTY_PROGRAM if empty else ROOT / "__main__.py", self.workdir / "__main__.py")
        self.name = name
        # The engine and its offline environment as the scripts define them; the journal
        # stays inside this throw-away folder.
        self.env = offline_env(root / "engine", PASSPHRASE)
        # Benchmarks create hundreds of runs in one update on purpose: no limit (issue 18).
        self.env["DATAGOL_MAX_TRIGGERS_PER_UPDATE"] = "0"
        self.pulumi("stack", "init", name)
        self.pulumi("config", "set", "datagol:baseUrl", emulator_url)
        self.pulumi("config", "set", "--secret", "datagol:token", TOKEN)

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def pulumi(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_pulumi(self.workdir, self.env, *args, timeout=CLI_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args[:2])} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def set_runs(self, runs: dict[str, dict[str, Any]], **project_config: Any) -> None:
        """Declare ``runs`` (name -> spec) and other ``datagol-pulumi:`` keys in the stack YAML."""
        path = self.workdir / "stacks" / f"Pulumi.{self.name}.yaml"
        data = yaml.safe_load(path.read_text()) or {}
        config = data.setdefault("config", {})
        config["datagol-pulumi:defaults"] = {"workspace_id": WORKSPACE_ID}
        config["datagol-pulumi:runs"] = runs
        for key, value in project_config.items():
            config[f"datagol-pulumi:{key}"] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    def up(self, *extra: str) -> float:
        """Wall seconds of one ``pulumi up --yes --skip-preview`` (``extra`` arguments added)."""
        started = time.perf_counter()
        self.pulumi("up", "--yes", "--skip-preview", *extra)
        return time.perf_counter() - started

    def preview(self, *extra: str) -> tuple[float, str]:
        """Wall seconds and output of one ``pulumi preview`` (``extra`` arguments added)."""
        started = time.perf_counter()
        result = self.pulumi("preview", *extra)
        return time.perf_counter() - started, result.stdout

    @property
    def state_file(self) -> Path:
        """The stack's checkpoint in the file backend: the engine rewrites it after each step."""
        backend = Path(self.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
        project = yaml.safe_load((self.workdir / "Pulumi.yaml").read_text())["name"]
        return backend / ".pulumi" / "stacks" / project / f"{self.name}.json"

    def export_bytes(self) -> int:
        """Size of ``pulumi stack export`` (secrets stay encrypted, as stored)."""
        return len(self.pulumi("stack", "export").stdout.encode())
