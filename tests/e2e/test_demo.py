"""`make demo`'s promise, run as a user would: scripts/demo on a copy of the repo, four times.

The first demo triggers every run of stacks/Pulumi.dev.yaml; after one run is edited, the next
demo triggers only that run (its stack is kept in .state/demo); unchanged, a demo sends nothing;
`--fresh` (`make demo-reset`) starts from empty state and triggers every run again. The counts
are the ones the demo prints from the emulator's own request log.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEMO_RUNS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_copy(tmp_path: Path, port: int) -> Path:
    """What the demo reads, with the stack file pointed at a free port; .venv is this venv."""
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    stack = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    assert "datagol:baseUrl: http://127.0.0.1:18787\n" in stack
    (repo / "stacks" / "Pulumi.dev.yaml").write_text(stack.replace(":18787\n", f":{port}\n"))
    (repo / ".venv").symlink_to(sys.prefix)
    return repo


def demo(repo: Path, engine_bin: str, *args: str) -> tuple[str, list[int]]:
    """Run scripts/demo; its output and the request count of each of its two `pulumi up`s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "DATAGOL_"))}
    env["PATH"] = os.pathsep.join([engine_bin, env["PATH"]])
    result = subprocess.run(
        ["bash", "scripts/demo", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output
    assert "emulator stopped" in output, output
    counts = [int(n) for n in re.findall(r"the emulator received (\d+) request\(s\)", output)]
    assert len(counts) == 2, output
    return output, counts


def test_demo_keeps_its_stack_and_triggers_only_the_edited_run(
    tmp_path: Path, engine_bin: str
) -> None:
    port = free_port()
    repo = demo_copy(tmp_path, port)
    stack_file = repo / "stacks" / "Pulumi.dev.yaml"

    output, counts = demo(repo, engine_bin)
    assert counts == [DEMO_RUNS, 0], output
    # The preview's reads found every run's extraction id listed: checked, no warning.
    assert f"and {DEMO_RUNS * 2} Get Extractions read(s)" in output  # the preview's and the up's
    assert "warning" not in output and "not checked at preview" not in output
    assert "(stack dev, new)" in output
    assert f"+ {DEMO_RUNS + 2} created" in output  # the runs, the provider and the stack
    assert (repo / ".state" / "demo" / "backend" / ".pulumi" / "stacks").is_dir()

    # The edit the demo's closing hint suggests: one run's where clause.
    before = stack_file.read_text()
    stack_file.write_text(before.replace("status = 'open'", "status = 'closed'"))
    assert stack_file.read_text() != before
    output, counts = demo(repo, engine_bin)
    assert counts == [1, 0], output
    assert "(stack dev, kept from the last demo)" in output
    assert "contracts-open updated" in output and "~ 1 updated" in output, output
    sent = [line.strip() for line in output.splitlines() if line.strip().startswith("POST ")]
    assert len(sent) == 1, output
    assert "/extraction/contract-terms/FILE/file-7781/run?extractOnlyNew=false -> 200" in sent[0]
    assert sent[0].endswith('{"selectAll": true, "whereClause": "status = \'closed\'"}'), sent

    output, counts = demo(repo, engine_bin)
    assert counts == [0, 0], output
    assert "POST " not in output

    output, counts = demo(repo, engine_bin, "--fresh")
    assert counts == [DEMO_RUNS, 0], output
    assert "(stack dev, new)" in output
    # The demo stopped its emulator: nothing listens on its port any more.
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
