"""The language hosts of the packaged plugin's tests, from scripts/ensure-lang-hosts.

``ensure-lang-hosts`` builds them once per machine (cached outside the repo, like the engine);
this module only asks it where they are, so tests, benchmarks and a shell find the same build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from devtools.engine import ensured

ROOT = Path(__file__).resolve().parents[1]


@cache
def lang_hosts() -> Path:
    """The folder holding ``pulumi-language-yaml`` and ``codegen/`` (built if missing)."""
    return Path(ensured("ensure-lang-hosts"))


def plugin_dir() -> Path:
    """The folder of this interpreter's ``pulumi-resource-datagol`` (installed with the package)."""
    return Path(sys.executable).parent


def with_plugins(project: dict[str, Any], *, yaml_host: bool) -> dict[str, Any]:
    """``project`` (a Pulumi.yaml) naming our plugin, and the YAML host, by path.

    Tests run with PULUMI_IGNORE_AMBIENT_PLUGINS (scripts/engine-env.sh), so nothing is taken
    from PATH by accident; a project's ``plugins`` section is how a user points at them too.
    """
    plugins: dict[str, Any] = {"providers": [{"name": "datagol", "path": str(plugin_dir())}]}
    if yaml_host:
        plugins["languages"] = [{"name": "yaml", "path": str(lang_hosts())}]
    return {**project, "plugins": plugins}


def ts_toolchain() -> Path:
    """``node_modules`` with the pinned TypeScript toolchain of tools/ts-check (``npm ci``).

    Installed once per lock file into a cache outside the repo, like the engine.
    """
    src = ROOT / "tools" / "ts-check"
    digest = hashlib.sha256(
        (src / "package.json").read_bytes() + (src / "package-lock.json").read_bytes()
    ).hexdigest()[:12]
    cache = Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "datagol-pulumi", "ts-check"
    )
    final = cache / digest
    if (final / ".complete").exists():
        return final / "node_modules"
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{digest}-", dir=cache))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy(src / name, tmp / name)
        result = subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm ci in tools/ts-check failed:\n{result.stderr}")
        (tmp / ".complete").write_text("npm ci\n")
        try:
            tmp.rename(final)
        except OSError:  # another process installed it meanwhile
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final / "node_modules"
