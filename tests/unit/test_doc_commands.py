"""Every shell command README.md and docs/ tell a user to type is run by a test, or says why
none can: tests/doc_commands.py's COMMANDS, checked against the pages and the test files."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

from datagol_pulumi.plugin.schema import schema
from tests.doc_commands import COMMANDS, ROOT, Command, commands, documented


def test_every_documented_command_is_run_by_a_test_or_says_why_not() -> None:
    found = documented()
    assert len({c.page for c in found}) >= 8 and len(found) > 100  # every page was read
    unregistered = sorted({f"{c.page}:{c.line}: {c.text}" for c in found if c.text not in COMMANDS})
    assert unregistered == [], (
        "add each to COMMANDS in tests/doc_commands.py, as "
        "'<command>': tested('<pytest node id>', ...) or untested('<why no test can run it>')"
    )


def test_every_registered_command_is_in_the_docs() -> None:
    written = {c.text for c in documented()}
    assert sorted(set(COMMANDS) - written) == []  # a command the docs no longer give


@cache
def functions_of(path: str) -> frozenset[str]:
    """The test functions of a test file: "name" and "Class::name"."""
    tree = ast.parse((ROOT / path).read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{f.name}"
                for f in node.body
                if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
            }
    return frozenset(names)


def test_every_entry_names_tests_that_exist_or_a_reason() -> None:
    wrong = []
    for command, entry in COMMANDS.items():
        if bool(entry.tests) == bool(entry.untested.strip()):
            wrong.append(f"{command}: give tests or a reason, not both or neither")
        for node in entry.tests:
            path, _, name = node.partition("::")
            name = name.split("[")[0]  # a parametrized id names its function
            if not path.startswith("tests/") or not (ROOT / path).is_file():
                wrong.append(f"{command}: no test file {path}")
            elif name not in functions_of(path):
                wrong.append(f"{command}: no test {name} in {path}")
    assert wrong == []


def test_commands_are_read_from_shell_blocks_and_inline_spans(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `make demo`, then `pulumi up --target\n<urn>`; the `pulumi` CLI and `make` are\n"
        "names, `DATAGOL_X=1 pulumi up` a command, `.ci/run` a script.\n"
        "\n"
        "```sh\n"
        "make demo   # a comment\n"
        "# a comment line\n"
        "pulumi package gen-sdk \\\n"
        "    --out sdk\n"
        "```\n"
        "\n"
        "```console\n"
        "$ pulumi preview\n"
        "```\n"
        "\n"
        "```python\n"
        "# pulumi config set --secret eu:token <token>\n"
        "```\n"
        "\n"
        "```\n"
        "pulumi up (output, not a command)\n"
        "```\n"
        "  ```bash\n"
        "  pip install x\n"
        "  ```\n"
    )
    assert commands(page) == [
        Command("make demo", "page.md", 1),
        Command("pulumi up --target <urn>", "page.md", 1),
        Command("DATAGOL_X=1 pulumi up", "page.md", 3),
        Command(".ci/run", "page.md", 3),
        Command("make demo", "page.md", 6),
        Command("pulumi package gen-sdk --out sdk", "page.md", 9),
        Command("pulumi preview", "page.md", 13),
        Command("pip install x", "page.md", 24),
    ]


def test_the_schema_module_prints_the_plugins_schema() -> None:
    # docs/plugin.md: `python -m datagol_pulumi.plugin.schema` prints the schema the SDKs come from.
    result = subprocess.run(
        [sys.executable, "-m", "datagol_pulumi.plugin.schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == schema()
    assert result.stderr == ""
