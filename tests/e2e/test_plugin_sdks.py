"""SDKs generated from the plugin's schema with `pulumi package gen-sdk`, at test time.

Python: a program on the generated SDK drives pulumi-resource-datagol through the real engine.
TypeScript: the SDK and examples/typescript type-check with tsc against @pulumi/pulumi from npm.
Go: the SDK and examples/go build against github.com/pulumi/pulumi/sdk/v3.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import devtools.engine
from devtools.lang_hosts import ts_toolchain, with_plugins
from tests.conftest import WORKSPACE_ID, sent
from tests.e2e.conftest import PASSPHRASE, ROOT, dev_stack

PREFIX = f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
CONTRACTS = f"{PREFIX}/contract-terms/FILE/file-7781/run"


def test_python_sdk_drives_the_plugin(sdks: Path, tmp_path: Path, emulator) -> None:
    workdir = tmp_path / "project"
    workdir.mkdir()
    shutil.copy(ROOT / "tests" / "e2e" / "programs" / "plugin_sdk.py", workdir / "__main__.py")
    project = {"name": "datagol-sdk", "runtime": "python"}
    (workdir / "Pulumi.yaml").write_text(yaml.safe_dump(with_plugins(project, yaml_host=False)))
    env = devtools.engine.offline_env(tmp_path / "engine", PASSPHRASE)
    env["PYTHONPATH"] = str(sdks / "python")
    stack = dev_stack(workdir, env, emulator)
    stack.pulumi("config", "set", "workspaceId", WORKSPACE_ID)
    stack.pulumi("config", "set", "--secret", "filter", "status = 'open'")

    stack.up()
    posts = {p["path"]: p for p in stack.posts()}
    assert sorted(posts) == sorted(
        [
            CONTRACTS,
            f"{PREFIX}/ticket-sentiment/COLUMN/col-sentiment/run",
            f"{PREFIX}/order-lines/COLUMN/col-orders/run",
        ]
    )
    assert posts[f"{PREFIX}/order-lines/COLUMN/col-orders/run"]["body"] == {
        "selectAll": True,
        "whereClause": "region = 'eu'",
    }
    assert posts[CONTRACTS]["body"] == {"selectAll": True, "whereClause": "status = 'open'"}
    # The engine carries 1 as 1.0; DataGOL still gets 1.
    ticket = posts[f"{PREFIX}/ticket-sentiment/COLUMN/col-sentiment/run"]
    assert ticket["body"] == {"selectAll": False, "rows": [{"id": 1, "name": "Sample Data"}]}
    outputs = stack.outputs()
    assert outputs["requestId"] == posts[CONTRACTS]["request_id"]
    assert outputs["runCount"] == 1
    assert outputs["results"]["tickets"]["rowCount"] == 1
    # Secret inputs stay secret in state: the run's echo, and the group's result of that run.
    plain_state = stack.pulumi("stack", "export").stdout
    assert "status = 'open'" not in plain_state and "region = 'eu'" not in plain_state
    assert "contract-terms" in plain_state  # what is not secret stays readable
    stack.emulator.clear_requests()

    assert "unchanged" in stack.up().stdout
    assert sent(stack.emulator) == []

    # A trigger that fails after it may have started a job: the update fails, the engine keeps
    # the run's outputs (ErrorResourceInitFailed), and the next `up` does not send it again.
    stack.emulator.add_fault(status=500, count=1, method="POST", body='{"message": "broke"}')
    stack.pulumi("config", "set", "--secret", "filter", "status = 'closed'")
    failed = stack.up(check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "HTTP 500: broke" in text and "may have started" in text, text
    assert "Traceback" not in text
    assert len(stack.posts()) == 1
    [run] = [r for r in stack.resources("datagol:index:ExtractionRun")]
    # --show-secrets shows a secret as {signature, "plaintext": <JSON>}: still a secret.
    assert json.loads(run["outputs"]["whereClause"]["plaintext"]) == "status = 'closed'"
    assert run["outputs"]["status"] == "UNKNOWN"
    assert "HTTP 500" in run["outputs"]["error"]
    stack.emulator.clear_requests()
    again = stack.up()
    assert sent(stack.emulator) == [], again.stdout


@pytest.mark.parametrize(
    ("example", "misspelt"),
    [("typescript", "whereClause:"), ("typescript-extraction", "extractionMode:")],
)
def test_typescript_sdk_type_checks(
    sdks: Path, tmp_path: Path, example: str, misspelt: str
) -> None:
    try:
        node_modules = ts_toolchain()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    tsc = [str(node_modules / ".bin" / "tsc"), "--noEmit", "-p"]
    sdk = sdks / "nodejs"
    (sdk / "node_modules").unlink(missing_ok=True)
    (sdk / "node_modules").symlink_to(node_modules)
    result = subprocess.run([*tsc, str(sdk)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr

    # examples/typescript against it, and a misspelt property, which tsc must refuse.
    program = tmp_path / "program"
    program.mkdir()
    (program / "node_modules").symlink_to(node_modules)
    shutil.copy(ROOT / "examples" / example / "index.ts", program / "index.ts")
    wrong = "".join(f"_{c.lower()}" if c.isupper() else c for c in misspelt)  # snake_case
    bad = (program / "index.ts").read_text().replace(misspelt, wrong)
    (program / "bad.ts").write_text(bad)
    config = {
        "compilerOptions": {
            "strict": True,
            "target": "ES2020",
            "module": "commonjs",
            "moduleResolution": "node",
            "baseUrl": ".",
            "paths": {"@datagol/pulumi": [str(sdk / "index.ts")]},
        },
    }
    for name in ("index.ts", "bad.ts"):
        (program / "tsconfig.json").write_text(json.dumps({**config, "files": [name]}))
        result = subprocess.run([*tsc, str(program)], capture_output=True, text=True, timeout=600)
        if name == "index.ts":
            assert result.returncode == 0, result.stdout + result.stderr
        else:
            assert result.returncode != 0 and wrong[:-1] in result.stdout, result.stdout


@pytest.mark.parametrize("example", ["go", "go-extraction"])
def test_go_sdk_builds(sdks: Path, tmp_path: Path, example: str) -> None:
    module = tmp_path / "module"
    shutil.copytree(sdks / "go", module / "go")
    for name in ("go.mod", "go.sum"):
        shutil.copy(ROOT / "tools" / "go-sdk-check" / name, module / name)
    (module / "example").mkdir()
    shutil.copy(ROOT / "examples" / example / "main.go", module / "example" / "main.go")
    result = subprocess.run(
        ["go", "build", "-mod=readonly", "-o", str(tmp_path / "example"), "./example"],
        cwd=module,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "example").stat().st_size > 1_000_000
    vet = subprocess.run(
        ["go", "vet", "./go/..."], cwd=module, capture_output=True, text=True, timeout=1200
    )
    assert vet.returncode == 0, vet.stderr
