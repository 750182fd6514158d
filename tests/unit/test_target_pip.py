"""devtools/target_pip.py, what `make dist` downloads the plugin archives' wheels with: pip
resolves a dependency's markers for the target Python and platform, not for the machine that
runs it (plain pip, given --python-version 3.10 on a 3.11, would leave out a
``python_version < '3.11'`` dependency), and prefers the oldest system's wheel. On wheels made
here, offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools.target_pip import platform_tags

ROOT = Path(__file__).resolve().parents[2]


def make_wheel(folder: Path, name: str, tag: str = "py3-none-any", requires: tuple = ()) -> None:
    dist_info = f"{name}-1.0.dist-info"
    metadata = "\n".join(
        ["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0"]
        + [f"Requires-Dist: {r}" for r in requires]
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    with zipfile.ZipFile(folder / f"{name}-1.0-{tag}.whl", "w") as whl:
        whl.writestr(f"{name}/__init__.py", "")
        whl.writestr(f"{dist_info}/METADATA", metadata + "\n")
        whl.writestr(f"{dist_info}/WHEEL", wheel)
        whl.writestr(f"{dist_info}/RECORD", "")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    make_wheel(
        folder,
        "app",
        requires=(
            "backport; python_version < '3.11'",
            "newgrpc; python_version >= '3.14'",
            "macsupport; sys_platform == 'darwin'",
            "armonly; platform_machine == 'aarch64'",
            "native; platform_machine == 'x86_64'",
        ),
    )
    for name in ("backport", "newgrpc", "macsupport", "armonly"):
        make_wheel(folder, name)
    # native: a wheel for glibc 2.17 and one for 2.34, as PyPI has cryptography's.
    make_wheel(folder, "native", "cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64")
    make_wheel(folder, "native", "cp310-cp310-manylinux_2_34_x86_64")
    return folder


def installed(wheels: Path, target: str, python: str, tmp_path: Path) -> dict[str, str]:
    """Name -> wheel file of what pip would install of ``app``, as ``python`` on ``target``."""
    report = tmp_path / "report.json"
    subprocess.run(
        [
            *(sys.executable, "-m", "devtools.target_pip", target, python, "install"),
            *("--dry-run", "--isolated", "--quiet", "--no-index", "--find-links", str(wheels)),
            *("--target", str(tmp_path / "never"), "--report", str(report), "app"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {
        item["metadata"]["name"]: item["download_info"]["url"].rsplit("/", 1)[1]
        for item in json.loads(report.read_text())["install"]
    }


def test_markers_are_the_targets(wheels: Path, tmp_path: Path) -> None:
    def names(target: str, python: str) -> list[str]:
        return sorted(installed(wheels, target, python, tmp_path))

    assert names("linux-amd64", "3.10") == ["app", "backport", "native"]
    assert names("linux-arm64", "3.14") == ["app", "armonly", "newgrpc"]
    assert names("darwin-arm64", "3.12") == ["app", "macsupport"]


def test_the_oldest_systems_wheel_is_preferred(wheels: Path, tmp_path: Path) -> None:
    chosen = installed(wheels, "linux-amd64", "3.10", tmp_path)
    assert (
        chosen["native"] == "native-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )


def test_platform_tags_are_oldest_first_up_to_the_floor() -> None:
    linux = platform_tags("linux-amd64")
    assert linux[:2] == ["manylinux1_x86_64", "manylinux_2_5_x86_64"]
    assert linux[-2:] == ["manylinux2014_x86_64", "manylinux_2_17_x86_64"]
    assert platform_tags("linux-arm64")[-2:] == ["manylinux2014_aarch64", "manylinux_2_17_aarch64"]
    assert platform_tags("darwin-amd64")[0] == "macosx_10_9_x86_64"
    assert platform_tags("darwin-amd64")[-1] == "macosx_11_0_x86_64"
    assert platform_tags("darwin-arm64") == ["macosx_11_0_arm64"]
