"""The package as users install it: built by scripts/dist (`make dist`) from this checkout, then
installed from the built files only and run through the real CLI against the emulator.

- The wheel, in a new virtualenv (not editable, the checkout on no path; its dependencies from
  the archive's wheels, no index): a Python program with ExtractionRun.
- The plugin archive, through `pulumi plugin install --file`, with ambient plugins ignored and no
  pulumi-resource-datagol on PATH: the YAML example.
- The archive again, downloaded by the engine from the schema's pluginDownloadURL pattern (served
  on 127.0.0.1).

Each step counts what the emulator received. `dist` is built once for the module.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime import proto

import devtools.engine
from datagol_pulumi._version import __version__
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.plugin.schema import NAMESPACE, PLUGIN_DOWNLOAD_URL
from devtools.lang_hosts import lang_hosts
from tests.conftest import TOKEN, WORKSPACE_ID
from tests.contract.conftest import provider_process
from tests.e2e.conftest import PASSPHRASE, ROOT, Stack

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
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
    archive: Path
    #: The archive's wheels/, unpacked: the wheel and every dependency's, for PYTHONS.
    wheels: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [str(ROOT / "scripts" / "dist"), str(out)],
        env={**os.environ, "DIST_BUILD_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    wheel, sdist, archive = (Path(line) for line in result.stdout.splitlines()[-3:])
    unpacked = tmp_path_factory.mktemp("archive")
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    return Dist(wheel, sdist, archive, unpacked / "wheels")


def clean_env(state_dir: Path) -> dict[str, str]:
    """The offline engine's environment with nothing of this checkout's: its venv is not on
    PATH (so neither is its pulumi-resource-datagol) and no PYTHONPATH points back here."""
    env = devtools.engine.offline_env(state_dir, PASSPHRASE)
    ours = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != ours)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    assert shutil.which("pulumi-resource-datagol", path=env["PATH"]) is None
    assert env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
    return env


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
    for python in PYTHONS:
        tag = "cp" + python.replace(".", "")
        assert [w for w in wheels if w.startswith("grpcio-") and f"-{tag}-" in w], (python, wheels)


@pytest.fixture(scope="module")
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
    assert emulator.requests() == []

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
    assert emulator.requests() == []
    stack.pulumi("config", "set", "filter", "status = 'closed'")
    stack.up()
    [post] = stack.posts()
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    emulator.clear_requests()

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.requests() == []
    assert TOKEN not in "\n".join(t for t in stack.transcript)


@pytest.fixture(scope="module")
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


@pytest.fixture
def archive_stack(plugin_home: Path, emulator: Emulator, tmp_path: Path) -> Stack:
    """examples/yaml on the plugin installed from the archive; only the YAML host is named by
    path (it is not installed in this PULUMI_HOME), never our plugin."""
    try:
        yaml_host = lang_hosts()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    workdir = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "yaml", workdir)
    project = yaml.safe_load((workdir / "Pulumi.yaml").read_text())
    project["plugins"] = {"languages": [{"name": "yaml", "path": str(yaml_host)}]}
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack = Stack(workdir, archive_env(tmp_path / "engine", plugin_home), emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    return stack


def installed_plugins(stack: Stack) -> list[tuple[str, str, str]]:
    listed = json.loads(stack.pulumi("plugin", "ls", "--json").stdout)
    return [(p["kind"], p["name"], p["version"]) for p in listed]


def test_a_yaml_program_on_the_plugin_installed_from_the_archive(archive_stack: Stack) -> None:
    stack, emulator = archive_stack, archive_stack.emulator
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
    plugin = Path(stack.env["PULUMI_HOME"]) / "plugins" / f"resource-datagol-v{__version__}"

    # preview: the engine starts the installed launcher (a first start makes its virtualenv in
    # the plugin's folder); four resources to create, nothing sent.
    plan = json.loads(stack.preview("--json").stdout)
    assert plan["changeSummary"] == {"create": 4}
    assert emulator.requests() == []
    assert [p.name for p in plugin.glob("venv-*/.complete")] == [".complete"]

    # up: one POST per run, to the specified paths.
    stack.up()
    assert sorted(p["path"] for p in stack.posts()) == sorted(
        [
            CONTRACTS,
            f"{PREFIX}/ticket-sentiment/COLUMN/col-sentiment/run",
            f"{PREFIX}/invoice-fields/FOLDER/finance%2Finvoices/run",
            f"{PREFIX}/order-lines/COLUMN/col-orders/run",
        ]
    )
    emulator.clear_requests()

    # A no-op up sends nothing; a changed where clause sends exactly that run.
    assert "4 unchanged" in stack.up().stdout
    assert emulator.requests() == []
    stack.pulumi("config", "set", "contractsFilter", "status = 'closed'")
    stack.up()
    [post] = emulator.requests()
    assert (post["method"], post["path"]) == ("POST", CONTRACTS)
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    emulator.clear_requests()

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert emulator.requests() == []
    printed = stack.all_output()
    assert "from $PATH" not in printed and TOKEN not in printed

    # The installed plugin names one version everywhere: its folder, GetPluginInfo, its schema.
    env = {"PATH": stack.env["PATH"], "DATAGOL_JOURNAL_DIR": str(plugin.parent / "inflight")}
    with provider_process([str(plugin / "pulumi-resource-datagol"), "127.0.0.1:1"], env) as stub:
        assert stub.GetPluginInfo(empty_pb2.Empty()).version == __version__
        served = json.loads(stub.GetSchema(proto.GetSchemaRequest(version=0)).schema)
    assert served["version"] == __version__
    assert served["namespace"] == NAMESPACE
    assert served["pluginDownloadURL"] == PLUGIN_DOWNLOAD_URL


def test_a_generated_sdk_asks_the_engine_for_the_installed_plugin_version(
    plugin_home: Path, wheel_venv: Path, emulator: Emulator, tmp_path: Path
) -> None:
    """The Python SDK generated from the installed plugin carries its version and download URL,
    and its program runs on the plugin from the archive, named by nothing but that version."""
    plugin = (
        plugin_home / "plugins" / f"resource-datagol-v{__version__}" / "pulumi-resource-datagol"
    )
    try:
        codegen = lang_hosts() / "codegen"
    except RuntimeError as exc:
        pytest.fail(str(exc))
    sdk = tmp_path / "sdk"
    gen_env = archive_env(tmp_path / "gen", plugin_home)
    # gen-sdk asks each language's host for the SDK: the generators, found first on PATH.
    gen_env.pop("PULUMI_IGNORE_AMBIENT_PLUGINS")
    gen_env["PATH"] = os.pathsep.join([str(codegen), gen_env["PATH"]])
    generated = devtools.engine.run_pulumi(
        tmp_path,
        gen_env,
        *("package", "gen-sdk", str(plugin), "--language", "python", "--out", str(sdk)),
        timeout=300,
    )
    assert generated.returncode == 0, generated.stderr
    pulumi_plugin = json.loads(
        (sdk / "python" / "pulumi_datagol" / "pulumi-plugin.json").read_text()
    )
    assert pulumi_plugin == {
        "resource": True,
        "name": "datagol",
        "version": __version__,
        "server": PLUGIN_DOWNLOAD_URL,
    }
    # Package metadata (the SDK reads its version from it), without installing it anywhere.
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info"], cwd=sdk / "python", check=True, timeout=300
    )

    workdir = tmp_path / "project"
    workdir.mkdir()
    shutil.copy(ROOT / "tests" / "e2e" / "programs" / "plugin_sdk.py", workdir / "__main__.py")
    project = {
        "name": "installed-sdk",
        "runtime": {"name": "python", "options": {"virtualenv": str(wheel_venv)}},
    }
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    env = {**archive_env(tmp_path / "engine", plugin_home), "PYTHONPATH": str(sdk / "python")}
    stack = Stack(workdir, env, emulator, "dev")
    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    stack.pulumi("config", "set", "--secret", "filter", "status = 'open'")

    stack.up()
    assert len(stack.posts()) == 3  # the run and the group's two (tests/e2e/test_plugin_sdks.py)
    [default] = stack.resources("pulumi:providers:datagol")
    assert default["inputs"]["version"] == __version__
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
    emulator.clear_requests()
    assert "unchanged" in stack.up().stdout
    assert emulator.requests() == []


@pytest.fixture
def release_server(dist: Dist) -> Iterator[tuple[str, list[str]]]:
    """The schema's pluginDownloadURL pattern with this machine as host: (pattern, paths asked)."""
    asked: list[str] = []
    release = urlsplit(PLUGIN_DOWNLOAD_URL.replace("${VERSION}", __version__)).path
    served = {f"{release}/{dist.archive.name}": dist.archive}

    class Releases(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            path = served.get(self.path)
            if path is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            with path.open("rb") as body:
                shutil.copyfileobj(body, self.wfile)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Releases)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pattern = PLUGIN_DOWNLOAD_URL.replace(
        urlsplit(PLUGIN_DOWNLOAD_URL).netloc, f"127.0.0.1:{server.server_port}"
    ).replace("https://", "http://")
    try:
        yield pattern, asked
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_the_engine_downloads_the_archive_by_the_schemas_url_pattern(
    release_server: tuple[str, list[str]], engine_bin: str, emulator: Emulator, tmp_path: Path
) -> None:
    pattern, asked = release_server
    stack = Stack(tmp_path, clean_env(tmp_path / "engine"), emulator, "dev")
    stack.pulumi("plugin", "install", "resource", "datagol", __version__, "--server", pattern)
    release = urlsplit(PLUGIN_DOWNLOAD_URL.replace("${VERSION}", __version__)).path
    assert asked == [f"{release}/{ARCHIVE}"]
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
