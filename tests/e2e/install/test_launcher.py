"""The plugin archive's launcher (scripts/plugin-launcher) choosing its Python: it tries every
candidate (DATAGOL_PLUGIN_PYTHON, python3.X for each Python of the archive, python3) before it
fails, refuses one it has no wheels for or that cannot install them, and names each one it tried
and why. On this machine's archive, made to lack Python 3.14 and one real interpreter's grpcio
(as an archive built without them would), with fake and real interpreters on a PATH of only
them and the few tools the launcher uses.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from datagol_pulumi._version import __version__
from tests.e2e.install.conftest import PLATFORM, Dist

#: The commands the launcher runs besides the interpreters.
TOOLS = ("sh", "dirname", "cksum", "cut", "mktemp", "ls", "head", "touch", "rm", "mkdir", "tail")
TOOLS += ("grep",)
#: What the fake python3 answers the launcher's probe: a Python the archive has no wheels for.
FAKE_314 = "/opt/python3.14/bin/python3.14"


def real_interpreter(version: str) -> Path | None:
    """Python ``version`` on this machine (pyenv's build, or pythonX.Y on PATH), resolved."""
    found = sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))
    )
    path = found[-1] if found else shutil.which(f"python{version}")
    if path is None:
        return None
    probe = subprocess.run(
        [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(path).resolve() if probe.stdout.strip() == version else None


@dataclass(frozen=True)
class Scene:
    launcher: Path
    #: The interpreter running these tests, whose wheels the archive holds.
    own: Path
    own_version: str
    #: Another real one, whose grpcio wheel the archive lacks.
    other: Path
    other_version: str
    #: python3, the fake 3.14.
    fakes: Path
    tools: Path


@pytest.fixture
def scene(dist: Dist, tmp_path: Path) -> Scene:
    own_version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    own = real_interpreter(own_version)
    assert own is not None, f"no Python {own_version} outside the virtualenv"
    others = [v for v in ("3.13", "3.12", "3.11", "3.10") if v != own_version]
    found = [(v, real_interpreter(v)) for v in others]
    other_version, other = next(((v, p) for v, p in found if p is not None), (None, None))
    assert other is not None and other_version is not None, f"none of Python {others} here"

    # The archive without Python 3.14 (its launcher's list, its wheels) and without grpcio
    # for the other interpreter.
    plugin = tmp_path / "plugin"
    (plugin / "wheels").mkdir(parents=True)
    other_tag = "-cp" + other_version.replace(".", "") + "-"
    for wheel in dist.wheels.iterdir():
        if "-cp314-" in wheel.name or (
            wheel.name.startswith("grpcio-") and other_tag in wheel.name
        ):
            continue
        shutil.copy(wheel, plugin / "wheels")
    text = (dist.wheels.parent / "pulumi-resource-datagol").read_text()
    pythons = 'pythons="3.10 3.11 3.12 3.13 3.14"\n'
    assert pythons in text
    launcher = plugin / "pulumi-resource-datagol"
    launcher.write_text(text.replace(pythons, 'pythons="3.10 3.11 3.12 3.13"\n'))
    launcher.chmod(0o755)

    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in TOOLS:
        found_tool = shutil.which(tool)
        assert found_tool is not None, tool
        (tools / tool).symlink_to(found_tool)
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    fake = fakes / "python3"
    fake.write_text(f'#!/bin/sh\necho "3.14 {FAKE_314}"\n')
    fake.chmod(0o755)
    return Scene(launcher, own, own_version, other, other_version, fakes, tools)


def launch(
    scene: Scene, path: list[Path], override: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join(str(p) for p in path),
        "HOME": str(scene.launcher.parent),
        "DATAGOL_PLUGIN_PYTHON": str(override),
    }
    return subprocess.run(
        [str(scene.launcher), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_launcher_goes_on_to_a_python_it_has_wheels_for(scene: Scene, tmp_path: Path) -> None:
    """python3 is a Python without wheels here, the override cannot install them; a supported
    Python later on PATH runs the plugin."""
    later = tmp_path / "later"
    later.mkdir()
    (later / f"python{scene.own_version}").symlink_to(scene.own)
    other = tmp_path / "other" / f"python{scene.other_version}"
    other.parent.mkdir()
    other.symlink_to(scene.other)

    result = launch(scene, [scene.fakes, scene.tools, later], other, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{__version__}\n"
    plugin = scene.launcher.parent
    made = sorted(p.name for p in plugin.iterdir() if p.name not in ("wheels", scene.launcher.name))
    # One virtualenv, the supported Python's; nothing left of the refused one's attempt.
    assert len(made) == 1 and made[0].startswith(f"venv-{scene.own_version}-"), made
    assert (plugin / made[0] / ".complete").is_file()

    # The next start reuses it: the same answer, nothing new made.
    again = launch(scene, [scene.fakes, scene.tools, later], other, "--version")
    assert again.stdout == f"{__version__}\n"
    assert sorted(p.name for p in plugin.iterdir()) == sorted(
        [*made, "wheels", scene.launcher.name]
    )


def test_the_launcher_names_every_python_it_tried_and_why(scene: Scene, tmp_path: Path) -> None:
    broken = scene.fakes / "python3.12"  # e.g. a pyenv shim of a version not installed
    broken.write_text('#!/bin/sh\necho "pyenv: python3.12: command not found" >&2\nexit 127\n')
    broken.chmod(0o755)
    other = tmp_path / "other" / f"python{scene.other_version}"
    other.parent.mkdir()
    other.symlink_to(scene.other)

    result = launch(scene, [scene.fakes, scene.tools], other, "--version")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "pulumi-resource-datagol: no Python to run on. This archive "
        f"({PLATFORM}) holds wheels for "
        "Python 3.10 3.11 3.12 3.13; tried:"
    )
    tried = dict(line.strip().split(": ", 1) for line in lines[1:-1])
    assert list(tried) == [
        str(other),
        *(f"python{v}" for v in ("3.13", "3.12", "3.11", "3.10")),
        "python3",
    ]
    assert tried[str(other)].startswith(
        f"Python {scene.other_version} ({scene.other}): cannot install the bundled wheels: ERROR:"
    ), tried[str(other)]
    assert "grpcio" in tried[str(other)]
    assert tried["python3.12"] == "does not run"
    assert tried["python3"] == f"Python 3.14 ({FAKE_314}), no wheels for it here"
    for v in ("3.13", "3.11", "3.10"):
        assert tried[f"python{v}"] == "not found"
    assert lines[-1] == "Install one of them, or set DATAGOL_PLUGIN_PYTHON to its path."
    # Nothing left of the failed attempt.
    plugin = scene.launcher.parent
    assert sorted(p.name for p in plugin.iterdir()) == ["pulumi-resource-datagol", "wheels"]
