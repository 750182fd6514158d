"""Every plugin archive `make dist` builds, for each platform and Python it is for, without a
machine of each: pip resolves the archive's wheels offline as that Python on that platform would
(``pip install --dry-run --no-index --find-links <wheels> --platform ... --python-version ...
--only-binary=:all: --target ...``, with the target's markers: devtools/target_pip.py), every
dependency a resolved wheel declares for that target is among them, and every wheel runs on the
oldest system the docs name (glibc 2.17, macOS 11.0). And the policy pack, versioned with the
package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

import devtools.engine
from datagol_pulumi._version import __version__
from tests.conftest import sent
from tests.e2e.conftest import PASSPHRASE, ROOT, run
from tests.e2e.install.conftest import PLATFORM, PYTHONS, TARGETS, Dist, pythons_without_grpcio

#: The oldest system of each platform: glibc 2.17 (manylinux2014), macOS 11.0.
GLIBC = (2, 17)
MACOS = (11, 0)
#: Legacy manylinux names (PEP 600): the glibc each stands for.
MANYLINUX_ALIASES = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
#: Wheel platform suffixes that run on each CPU of a Mac.
MAC_ARCHES = {
    "amd64": {"x86_64", "intel", "universal", "universal2", "fat64", "fat3"},
    "arm64": {"arm64", "universal2"},
}


@pytest.fixture(scope="module")
def unpacked(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each archive, extracted: target -> its folder (pulumi-resource-datagol, wheels/); this
    machine's is the one the dist fixture already extracted."""
    folders = {PLATFORM: dist.wheels.parent}
    for target, archive in dist.archives.items():
        if target == PLATFORM:
            continue
        folders[target] = tmp_path_factory.mktemp(target)
        with tarfile.open(archive) as tar:
            tar.extractall(folders[target], filter="data")
    return folders


def marker_environment(target: str, python: str) -> dict[str, str]:
    """What CPython ``python`` on ``target`` answers for PEP 508's marker variables."""
    os_name, arch = target.split("-")
    linux = os_name == "linux"
    return {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux" if linux else "darwin",
        "platform_system": "Linux" if linux else "Darwin",
        "platform_machine": {"amd64": "x86_64", "arm64": "aarch64" if linux else "arm64"}[arch],
        "python_version": python,
        "python_full_version": f"{python}.0",
        "extra": "",
    }


def resolve(wheels: Path, target: str, python: str, tmp: Path) -> list[dict]:
    """What `pip install` of this package from ``wheels`` alone would install there (pip's
    installation report), as ``python`` on ``target``."""
    report = tmp / f"{target}-{python}.json"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "devtools.target_pip", target, python, "install"),
            *("--dry-run", "--isolated", "--quiet", "--disable-pip-version-check", "--no-index"),
            *("--find-links", str(wheels), "--target", str(tmp / "never-written")),
            *("--report", str(report), f"datagol-pulumi=={__version__}", "pip"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{target} Python {python}:\n{result.stderr}"
    return json.loads(report.read_text())["install"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_archive_installs_offline_on_each_python(
    target: str, unpacked: dict[str, Path], tmp_path: Path
) -> None:
    wheels = unpacked[target] / "wheels"
    for python in PYTHONS:
        installed = resolve(wheels, target, python, tmp_path)
        versions = {
            canonicalize_name(item["metadata"]["name"]): Version(item["metadata"]["version"])
            for item in installed
        }
        assert versions["datagol-pulumi"] == Version(__version__)
        assert {"pulumi", "grpcio", "orjson", "cryptography", "pip"} <= set(versions)
        # Nothing from anywhere but the archive.
        for item in installed:
            url = item["download_info"]["url"]
            assert url.startswith(f"file://{wheels}/"), url
        # Every dependency that a wheel declares for this Python and platform is resolved, in
        # a version it accepts: the markers were evaluated for the target, not for this host
        # (pulumi asks grpcio>=1.75.1 on 3.14 only, cryptography typing-extensions below 3.11).
        environment = marker_environment(target, python)
        for item in installed:
            for line in item["metadata"].get("requires_dist", []):
                requirement = Requirement(line)
                if requirement.marker and not requirement.marker.evaluate(environment):
                    continue
                name = canonicalize_name(requirement.name)
                assert name in versions, (target, python, item["metadata"]["name"], line)
                assert requirement.specifier.contains(versions[name], prereleases=True), (
                    target,
                    python,
                    line,
                    versions[name],
                )


def runs_on_the_oldest(target: str, platform_tag: str) -> bool:
    if platform_tag == "any":
        return True
    os_name, arch = target.split("-")
    if os_name == "linux":
        machine = {"amd64": "x86_64", "arm64": "aarch64"}[arch]
        name, _, tag_machine = platform_tag.partition(f"_{machine}")
        if tag_machine or not platform_tag.endswith(machine):
            return False
        if name in MANYLINUX_ALIASES:
            return MANYLINUX_ALIASES[name] <= GLIBC
        if name.startswith("manylinux_"):
            major, minor = name.removeprefix("manylinux_").split("_")
            return (int(major), int(minor)) <= GLIBC
        return False
    if not platform_tag.startswith("macosx_"):
        return False
    major, minor, mac_arch = platform_tag.removeprefix("macosx_").split("_", 2)
    return mac_arch in MAC_ARCHES[arch] and (int(major), int(minor)) <= MACOS


@pytest.mark.parametrize("target", TARGETS)
def test_every_wheel_runs_on_the_oldest_system_of_its_platform(
    target: str, unpacked: dict[str, Path], dist: Dist
) -> None:
    """Not the build host's best wheels: each one has a tag for glibc 2.17 or macOS 11.0 at
    most (cryptography's manylinux2014, not its manylinux_2_34)."""
    wheels = sorted(p.name for p in (unpacked[target] / "wheels").iterdir())
    assert dist.wheel.name in wheels
    for name in wheels:
        tags = parse_wheel_filename(name)[3]
        assert any(runs_on_the_oldest(target, tag.platform) for tag in tags), (target, name)
    # A wheel of grpcio (compiled per Python) for each Python of the archive.
    assert pythons_without_grpcio(wheels) == [], (target, wheels)
    launcher = (unpacked[target] / "pulumi-resource-datagol").read_text()
    assert f"version={__version__}\n" in launcher
    assert f'pythons="{" ".join(PYTHONS)}"\n' in launcher
    assert f"platform={target}\n" in launcher


def test_the_policy_pack_is_versioned_with_the_package(dist: Dist) -> None:
    assert dist.policy_pack.name == f"datagol-policy-pack-v{__version__}.tar.gz"
    shipped = ("PulumiPolicy.yaml", "__main__.py", "datagol_bill.py", "requirements.txt")
    with tarfile.open(dist.policy_pack) as tar:
        files = {m.name: m for m in tar.getmembers() if m.isfile()}
        assert sorted(files) == sorted(f"datagol-policy-pack/{name}" for name in shipped)
        for name in shipped:
            content = tar.extractfile(files[f"datagol-policy-pack/{name}"]).read()  # type: ignore[union-attr]
            assert content == (ROOT / "policy-pack" / name).read_bytes(), name
        project = yaml.safe_load(tar.extractfile(files["datagol-policy-pack/PulumiPolicy.yaml"]))  # type: ignore[arg-type]
    assert project["version"] == __version__


def test_the_shipped_policy_pack_runs_as_the_docs_say(
    dist: Dist, make_stack, tmp_path: Path
) -> None:
    """docs/cost.md's commands on dist/datagol-policy-pack-v<version>.tar.gz: unpacked and
    installed (`pulumi install`), the pack refuses a preview over its limit, naming its version."""
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(dist.policy_pack), "-C", str(unpacked)], check=True)
    pack = unpacked / "datagol-policy-pack"
    env = devtools.engine.offline_env(tmp_path / "install", PASSPHRASE)
    result = devtools.engine.run_pulumi(pack, env, "install", timeout=600)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"

    stack = make_stack([run(f"r{i}") for i in range(4)])
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"max-triggers-per-update": {"maxTriggersPerUpdate": 3}}))
    refused = stack.preview(
        "--policy-pack", str(pack), "--policy-pack-config", str(config), check=False
    )
    assert refused.returncode != 0, refused.stdout
    # The CLI names the pack by PulumiPolicy.yaml's version (v0.0.1 without one).
    assert f"datagol@v{__version__} (local: " in refused.stdout
    assert "over the organisation's limit of 3 per update" in refused.stdout
    assert sent(stack.emulator) == []  # the preview's Get Extractions reads cost nothing
