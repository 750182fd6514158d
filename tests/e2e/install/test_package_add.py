"""`pulumi package add` of the plugin installed from the archive, from a YAML and a TypeScript
project, through the real CLI, as far as the offline engine goes.

Both projects name the plugin by the path of its executable or by name and version (a folder
or the archive itself is refused by the CLI 3.274.1). The CLI then asks the plugin for its
schema, generates the project's local SDK into `sdks/datagol-datagol/` and asks the project's
language host to link it (`Link`); only then does it add the package to Pulumi.yaml's
`packages:`. Neither host here implements Link: the YAML host this project builds
(pulumi-yaml 1.25.0; Link came in a later release) and the SDK generator that stands in for the
Node.js host (tools/lang-hosts/codegen). So the command ends with "method Link not
implemented" and leaves Pulumi.yaml as it was; what it generated is what these tests use. When
a host gains Link, the first assertion of each test fails: update docs/ then.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import devtools.engine
from datagol_pulumi._version import __version__
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.plugin.schema import PLUGIN_DOWNLOAD_URL
from devtools.lang_hosts import ts_toolchain
from tests.conftest import TOKEN, sent
from tests.e2e.conftest import ROOT, Stack
from tests.e2e.install.conftest import CONTRACTS, archive_env, contracts_project, hosts

LINK_MISSING = "linking package: method Link not implemented"


def package_add(workdir: Path, env: dict[str, str], source: str) -> str:
    """`pulumi package add SOURCE`; returns its output, having checked that it stopped at Link
    only (the local SDK written, Pulumi.yaml untouched)."""
    project = (workdir / "Pulumi.yaml").read_text()
    result = devtools.engine.run_pulumi(workdir, env, "package", "add", source, timeout=300)
    printed = result.stdout + result.stderr
    assert result.returncode != 0 and LINK_MISSING in printed, printed
    assert f"Successfully generated an SDK for the datagol package at {workdir / 'sdks'}" in printed
    assert (workdir / "Pulumi.yaml").read_text() == project
    return printed


def test_a_yaml_project_pins_the_installed_plugin_by_package_add(
    plugin_home: Path, emulator: Emulator, tmp_path: Path
) -> None:
    """The package declaration `package add` writes for YAML names the version and download
    URL; the YAML host hands both to the engine, so the program's default provider is the
    installed 0.3.0 (without it, an unversioned one) and its runs go out as usual."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    project = contracts_project("package-add-yaml")
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    stack = Stack(workdir, archive_env(tmp_path / "engine", plugin_home), emulator, "dev")
    executable = plugin_home / "plugins" / f"resource-datagol-v{__version__}"
    package_add(workdir, stack.env, str(executable / "pulumi-resource-datagol"))
    declarations = list((workdir / "sdks").rglob("*"))
    declaration = workdir / "sdks" / "datagol-datagol" / f"datagol-{__version__}.yaml"
    assert [p for p in declarations if p.is_file()] == [declaration]
    assert yaml.safe_load(declaration.read_text()) == {
        "packageDeclarationVersion": 1,
        "name": "datagol",
        "version": __version__,
        "downloadUrl": PLUGIN_DOWNLOAD_URL,
    }

    stack.pulumi("stack", "init", "dev")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.up()
    [post] = sent(emulator)
    assert (post["method"], post["path"], post["body"]) == ("POST", CONTRACTS, {"selectAll": True})
    [default] = stack.resources("pulumi:providers:datagol")
    assert default["inputs"]["version"] == __version__
    assert default["inputs"]["__internal"] == {"pluginDownloadURL": PLUGIN_DOWNLOAD_URL}
    emulator.clear_requests()
    assert "2 unchanged" in stack.up().stdout
    assert sent(emulator) == []

    # The same program without the declaration: its default provider names no version.
    shutil.rmtree(workdir / "sdks")
    stack.pulumi("stack", "init", "bare")
    stack.pulumi("config", "set", "datagol:baseUrl", emulator.url)
    stack.pulumi("config", "set", "--secret", "datagol:token", TOKEN)
    stack.up()
    [bare] = stack.resources("pulumi:providers:datagol")
    assert "version" not in bare["inputs"] and "__internal" not in bare["inputs"]


def test_a_typescript_project_gets_a_local_sdk_by_package_add(
    plugin_home: Path, tmp_path: Path
) -> None:
    """`pulumi package add datagol@<version>` (the plugin installed from the archive) writes the
    local Node.js SDK; its own postinstall compiles it, examples/typescript type-checks against
    it as `@datagol/pulumi`, and at run time it asks the engine for this version and URL."""
    try:
        node_modules = ts_toolchain()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    workdir = tmp_path / "project"
    workdir.mkdir()
    project = {
        "name": "package-add-ts",
        "runtime": "nodejs",
        # The SDK generator answers as the Node.js host (GeneratePackage only).
        "plugins": {"languages": [{"name": "nodejs", "path": str(hosts() / "codegen")}]},
    }
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    package_json = {"name": "package-add-ts", "main": "index.ts", "dependencies": {}}
    (workdir / "package.json").write_text(json.dumps(package_json))
    env = archive_env(tmp_path / "engine", plugin_home)
    package_add(workdir, env, f"datagol@{__version__}")
    # Link would have added the SDK to package.json; without it, nothing did.
    assert json.loads((workdir / "package.json").read_text()) == package_json
    sdk = workdir / "sdks" / "datagol-datagol"
    meta = json.loads((sdk / "package.json").read_text())
    assert (meta["name"], meta["version"]) == ("@datagol/pulumi", __version__)
    assert meta["pulumi"] == {
        "resource": True,
        "name": "datagol",
        "version": __version__,
        "server": PLUGIN_DOWNLOAD_URL,
    }

    # What `npm install` of the linked SDK does: its postinstall (tsc into bin/).
    (sdk / "node_modules").symlink_to(node_modules)
    tool_path = f"{node_modules / '.bin'}:{env['PATH']}"
    built = subprocess.run(
        ["node", "scripts/postinstall.js"],
        cwd=sdk,
        env={**env, "PATH": tool_path},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (sdk / "bin" / "index.d.ts").exists() and (sdk / "bin" / "package.json").exists()

    # The program resolves `@datagol/pulumi` as an installed package: node_modules/.
    modules = workdir / "node_modules"
    modules.mkdir()
    for entry in node_modules.iterdir():
        (modules / entry.name).symlink_to(entry)
    (modules / "@datagol").mkdir()
    (modules / "@datagol" / "pulumi").symlink_to(sdk)
    shutil.copy(ROOT / "examples" / "typescript" / "index.ts", workdir / "index.ts")
    config = {
        "compilerOptions": {
            "strict": True,
            "target": "ES2020",
            "module": "commonjs",
            "moduleResolution": "node",
            "skipLibCheck": True,
        },
        "files": ["index.ts"],
    }
    (workdir / "tsconfig.json").write_text(json.dumps(config))
    checked = subprocess.run(
        [str(node_modules / ".bin" / "tsc"), "--noEmit", "-p", str(workdir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # Every resource of the SDK carries these as its default version and download URL.
    asked = subprocess.run(
        [
            "node",
            "-e",
            "const u = require('@datagol/pulumi/bin/utilities');"
            "const sdk = require('@datagol/pulumi');"
            "console.log(JSON.stringify([u.resourceOptsDefaults(), typeof sdk.ExtractionRun]))",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout) == [
        {"version": __version__, "pluginDownloadURL": PLUGIN_DOWNLOAD_URL},
        "function",
    ]
