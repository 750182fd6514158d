"""The plugin archive as users install it (`pulumi plugin install resource datagol <version>
--file <archive>`), with ambient plugins ignored and no pulumi-resource-datagol on PATH: the YAML
example and a generated SDK's program through the real CLI against the emulator, counting
requests; and a YAML program that names the release by pluginDownloadURL (the schema's pattern,
served on 127.0.0.1), which the engine downloads, installs and runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
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
from tests.conftest import TOKEN, WORKSPACE_ID, sent
from tests.contract.conftest import provider_process
from tests.e2e.conftest import ROOT, Stack, dev_stack
from tests.e2e.install.conftest import (
    ARCHIVE,
    CONTRACTS,
    PREFIX,
    Dist,
    archive_env,
    clean_env,
    contracts_project,
    hosts,
    installed_plugins,
)


@pytest.fixture
def archive_stack(plugin_home: Path, emulator: Emulator, tmp_path: Path) -> Stack:
    """examples/yaml on the plugin installed from the archive; only the YAML host is named by
    path (it is not installed in this PULUMI_HOME), never our plugin."""
    workdir = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "yaml", workdir)
    project = yaml.safe_load((workdir / "Pulumi.yaml").read_text())
    project["plugins"] = {"languages": [{"name": "yaml", "path": str(hosts())}]}
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack = dev_stack(workdir, archive_env(tmp_path / "engine", plugin_home), emulator)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    return stack


def test_a_yaml_program_on_the_plugin_installed_from_the_archive(archive_stack: Stack) -> None:
    stack, emulator = archive_stack, archive_stack.emulator
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
    plugin = Path(stack.env["PULUMI_HOME"]) / "plugins" / f"resource-datagol-v{__version__}"

    # preview: the engine starts the installed launcher (a first start makes its virtualenv in
    # the plugin's folder); four resources to create, nothing sent.
    plan = json.loads(stack.preview("--json").stdout)
    assert plan["changeSummary"] == {"create": 4}
    assert sent(emulator) == []
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
    assert sent(emulator) == []
    stack.pulumi("config", "set", "contractsFilter", "status = 'closed'")
    stack.up()
    [post] = sent(emulator)
    assert (post["method"], post["path"]) == ("POST", CONTRACTS)
    assert post["body"] == {"selectAll": True, "whereClause": "status = 'closed'"}
    emulator.clear_requests()

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert sent(emulator) == []
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
    codegen = hosts() / "codegen"
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
    stack = dev_stack(workdir, env, emulator)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    stack.pulumi("config", "set", "--secret", "filter", "status = 'open'")

    stack.up()
    assert len(stack.posts()) == 3  # the run and the group's two (tests/e2e/test_plugin_sdks.py)
    [default] = stack.resources("pulumi:providers:datagol")
    assert default["inputs"]["version"] == __version__
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
    emulator.clear_requests()
    assert "unchanged" in stack.up().stdout
    assert sent(emulator) == []


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


def test_a_program_naming_the_release_gets_the_plugin_from_it(
    release_server: tuple[str, list[str]], emulator: Emulator, tmp_path: Path
) -> None:
    """A YAML program whose run names its version and pluginDownloadURL (the schema's pattern,
    on this machine): with nothing installed, the engine downloads the archive from there,
    installs it and runs it."""
    pattern, asked = release_server
    workdir = tmp_path / "project"
    workdir.mkdir()
    # $${...}: a literal ${...} in Pulumi YAML, for the engine to fill in.
    download_url = pattern.replace("${", "$${")
    project = contracts_project("from-release", version=__version__, pluginDownloadURL=download_url)
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    env = clean_env(tmp_path / "engine")
    del env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"]  # what lets the engine download
    stack = dev_stack(workdir, env, emulator)
    assert installed_plugins(stack) == []

    stack.up()
    release = urlsplit(PLUGIN_DOWNLOAD_URL.replace("${VERSION}", __version__)).path
    assert asked == [f"{release}/{ARCHIVE}"]
    assert installed_plugins(stack) == [("resource", "datagol", __version__)]
    [post] = sent(emulator)
    assert (post["method"], post["path"], post["body"]) == ("POST", CONTRACTS, {"selectAll": True})
