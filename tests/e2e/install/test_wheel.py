"""The wheel as users install it: built by scripts/dist (`make dist`) from this checkout, then
installed alone in a new virtualenv (not editable, the checkout on no path; its dependencies
from the plugin archive's wheels, no index) and used from a temporary folder: a Python program
with ExtractionRun through the real CLI against the emulator, counting requests, and mypy
reading its annotations.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import yaml

from datagol_pulumi._version import __version__
from datagol_pulumi.emulator import Emulator
from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.e2e.conftest import ROOT, Stack
from tests.e2e.install.conftest import ARCHIVE, CONTRACTS, Dist, clean_env, pythons_without_grpcio


def test_the_built_files_hold_what_users_need(dist: Dist) -> None:
    assert dist.wheel.name == f"datagol_pulumi-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"datagol_pulumi-{__version__}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"datagol_pulumi-{__version__}.dist-info/entry_points.txt")
    # PEP 561: without the marker, type checkers ignore the package's annotations.
    assert "datagol_pulumi/py.typed" in names
    assert {"datagol_pulumi/plugin/__main__.py", "datagol_pulumi/emulator/__main__.py"} <= names
    assert not [n for n in names if n.startswith(("tests/", "devtools/", "bench/"))]
    assert f"\nVersion: {__version__}\n" in metadata
    assert b"pulumi-resource-datagol = datagol_pulumi.plugin.__main__:main" in entry_points
    with tarfile.open(dist.sdist) as sdist:
        root = f"datagol_pulumi-{__version__}"
        assert {f"{root}/datagol_pulumi/py.typed", f"{root}/pyproject.toml"} <= set(
            sdist.getnames()
        )

    # The archive: the executable at its top (where the engine looks) and the wheels it installs.
    assert dist.archive.name == ARCHIVE
    with tarfile.open(dist.archive) as tar:
        launcher = tar.getmember("pulumi-resource-datagol")
        assert launcher.mode & 0o111 == 0o111
        text = tar.extractfile(launcher).read().decode()  # type: ignore[union-attr]
    assert f"version={__version__}\n" in text and "@VERSION@" not in text
    wheels = {p.name for p in dist.wheels.iterdir()}
    assert dist.wheel.name in wheels
    assert pythons_without_grpcio(wheels) == [], wheels


def test_a_python_program_on_the_installed_wheel(
    wheel_venv: Path, engine_bin: str, emulator: Emulator, tmp_path: Path
) -> None:
    # What a user's interpreter sees: the installed files, typed, not an editable install.
    probe = subprocess.run(
        [
            str(wheel_venv / "bin" / "python"),
            "-c",
            "import datagol_pulumi, importlib.metadata as m, json; d = m.distribution("
            "'datagol-pulumi'); print(json.dumps([datagol_pulumi.__file__, d.version, "
            "d.read_text('direct_url.json')]))",
        ],
        cwd=tmp_path,
        env=clean_env(tmp_path / "probe"),
        capture_output=True,
        text=True,
        check=True,
    )
    module, version, direct_url = json.loads(probe.stdout)
    assert Path(module).is_relative_to(wheel_venv / "lib"), module
    assert (Path(module).parent / "py.typed").is_file()
    assert version == __version__
    assert "editable" not in json.loads(direct_url).get("dir_info", {})

    workdir = tmp_path / "project"
    workdir.mkdir()
    project = {
        "name": "installed-wheel",
        "runtime": {"name": "python", "options": {"virtualenv": str(wheel_venv)}},
    }
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    shutil.copy(ROOT / "tests" / "e2e" / "programs" / "installed_wheel.py", workdir / "__main__.py")
    stack = Stack(workdir, clean_env(tmp_path / "engine"), emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    stack.pulumi("config", "set", "filter", "status = 'open'")

    # preview: the run and its completion to create, nothing sent.
    plan = json.loads(stack.preview("--json").stdout)
    assert plan["changeSummary"] == {"create": 4}, plan["changeSummary"]
    assert sent(emulator) == []

    # up: one POST, as specified; the wait only polls.
    stack.up()
    [post] = stack.posts()
    assert post["path"] == CONTRACTS
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'open'"}
    assert {r["method"] for r in emulator.requests()} == {"POST", "GET"}
    outputs = stack.outputs()
    assert outputs["requestId"] == post["request_id"] and outputs["status"] == "COMPLETED"
    assert Path(outputs["package"]).is_relative_to(wheel_venv / "lib"), outputs["package"]
    emulator.clear_requests()

    # A no-op up sends nothing; a changed filter sends exactly one POST.
    assert "4 unchanged" in stack.up().stdout
    assert sent(emulator) == []
    stack.pulumi("config", "set", "filter", "status = 'closed'")
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    emulator.clear_requests()

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert sent(emulator) == []
    assert TOKEN not in "\n".join(t for t in stack.transcript)


def test_type_checkers_see_the_installed_packages_types(wheel_venv: Path, tmp_path: Path) -> None:
    """mypy, pointed at the new virtualenv's interpreter, reads the wheel's annotations (PEP 561:
    without py.typed it would treat the package as untyped and report none of these)."""
    program = tmp_path / "program.py"
    program.write_text(
        "from datagol_pulumi import ExtractionRunArgs\n"
        "ExtractionRunArgs(workspace_id='w', extraction_id='e', element_type='FILE', element_id='f')\n"
        "ExtractionRunArgs(workspace_id='w', extraction_id='e', element_type='FILE', element_id=7)\n"
        "ExtractionRunArgs(workspace_id='w', extraction_id='e', element_type='FILE', element_id='f',"
        " wait_for_completoin=True)\n"
    )
    checked = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"),
            *("--python-executable", str(wheel_venv / "bin" / "python")),
            *("--cache-dir", str(tmp_path / "mypy-cache"), str(program)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line.split(" error: ")[0] for line in checked.stdout.splitlines()]
    assert errors == ["program.py:3:", "program.py:4:"], checked.stdout + checked.stderr
    assert 'incompatible type "int"' in checked.stdout
    assert 'Unexpected keyword argument "wait_for_completoin"' in checked.stdout
