"""Fixtures of the install tests: what `make dist` builds (scripts/dist, once per session), a
new virtualenv with only the built wheel, a PULUMI_HOME with the plugin archive installed, and
the offline engine's environment with nothing of this checkout's in it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import devtools.engine
from datagol_pulumi._version import __version__
from devtools.lang_hosts import lang_hosts
from tests.conftest import WORKSPACE_ID
from tests.e2e.conftest import PASSPHRASE, ROOT, Stack

#: The Pythons and platforms of the plugin archives (what the docs promise).
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
TARGETS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")
PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
CONTRACTS = f"{PREFIX}/contract-terms/FILE/file-7781/run"
#: Pulumi's names for this machine's platform, as scripts/dist names the archive.
PLATFORM = (
    platform.system().lower()
    + "-"
    + {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
)
ARCHIVE = f"pulumi-resource-datagol-v{__version__}-{PLATFORM}.tar.gz"


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    #: datagol-policy-pack-v<version>.tar.gz
    policy_pack: Path
    #: Each platform's plugin archive, by Pulumi's <os>-<arch> name.
    archives: dict[str, Path]
    #: This machine's archive.
    archive: Path
    #: Its wheels/, unpacked: the wheel and every dependency's, for PYTHONS.
    wheels: Path


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`make dist`'s build, once per session: every archive (their wheels are downloaded once
    per machine, into ~/.cache/datagol-pulumi/dist; later builds copy them, in seconds)."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [str(ROOT / "scripts" / "dist"), str(out)],
        env={**os.environ, "DIST_BUILD_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    made = [Path(line) for line in result.stdout.splitlines()[-3 - len(TARGETS) :]]
    wheel, sdist, policy_pack, *archives = made
    by_target = {t: out / f"pulumi-resource-datagol-v{__version__}-{t}.tar.gz" for t in TARGETS}
    assert archives == list(by_target.values()), made
    unpacked = tmp_path_factory.mktemp("archive")
    with tarfile.open(by_target[PLATFORM]) as tar:
        tar.extractall(unpacked, filter="data")
    return Dist(wheel, sdist, policy_pack, by_target, by_target[PLATFORM], unpacked / "wheels")


def pythons_without_grpcio(wheels: Iterable[str]) -> list[str]:
    """The Pythons of PYTHONS with no grpcio wheel (compiled per Python) among ``wheels``."""
    return [
        python
        for python in PYTHONS
        if not any(
            w.startswith("grpcio-") and f"-cp{python.replace('.', '')}-" in w for w in wheels
        )
    ]


def clean_env(state_dir: Path) -> dict[str, str]:
    """The offline engine's environment with nothing of this checkout's: no folder holding a
    pulumi-resource-datagol on PATH (this venv's, or any other install's) and no PYTHONPATH."""
    env = devtools.engine.offline_env(state_dir, PASSPHRASE)
    env["PATH"] = os.pathsep.join(
        p
        for p in env["PATH"].split(os.pathsep)
        if p != str(Path(sys.executable).parent)
        and not (Path(p) / "pulumi-resource-datagol").exists()
    )
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    assert shutil.which("pulumi-resource-datagol", path=env["PATH"]) is None
    assert env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
    return env


@pytest.fixture(scope="session")
def wheel_venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with only the built wheel installed (dependencies from local wheels)."""
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            *("-m", "pip", "install", "--isolated", "--quiet", "--no-index"),
            *("--find-links", str(dist.wheels), str(dist.wheel)),
        ],
        cwd=venv.parent,
        check=True,
        timeout=600,
    )
    return venv


@pytest.fixture(scope="session")
def plugin_home(dist: Dist, engine_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PULUMI_HOME with the archive installed (`pulumi plugin install --file`), shared by the
    tests of programs on it: the launcher's first start (its virtualenv) happens once."""
    state = tmp_path_factory.mktemp("plugin-home")
    env = clean_env(state)
    result = devtools.engine.run_pulumi(
        state,
        env,
        *("plugin", "install", "resource", "datagol", __version__, "--file", str(dist.archive)),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return Path(env["PULUMI_HOME"])


def archive_env(state_dir: Path, plugin_home: Path) -> dict[str, str]:
    return {**clean_env(state_dir), "PULUMI_HOME": str(plugin_home)}


def installed_plugins(stack: Stack) -> list[tuple[str, str, str]]:
    listed = json.loads(stack.pulumi("plugin", "ls", "--json").stdout)
    return [(p["kind"], p["name"], p["version"]) for p in listed]


def hosts() -> Path:
    """The language hosts' folder (built if missing); failing the test if they cannot be."""
    try:
        return lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))


def contracts_project(name: str, **options: Any) -> dict[str, Any]:
    """A Pulumi YAML project on the YAML host (named by path) with one run, "contracts", whose
    trigger is CONTRACTS; ``options``: that resource's options."""
    run: dict[str, Any] = {
        "type": "datagol:index:ExtractionRun",
        "properties": {
            "workspaceId": WORKSPACE_ID,
            "extractionId": "contract-terms",
            "elementType": "FILE",
            "elementId": "file-7781",
        },
    }
    if options:
        run["options"] = options
    return {
        "name": name,
        "runtime": "yaml",
        "plugins": {"languages": [{"name": "yaml", "path": str(hosts())}]},
        "resources": {"contracts": run},
    }
