"""The program (__main__.py) over each stack file in stacks/, with Pulumi's mocks.

Checks that every declared run becomes exactly one resource of the right type, with the inputs
the stack declares (validated and normalised), that each run's outputs are exported, and that a
typo in the YAML fails the program with the run's name and the valid keys.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from datagol_pulumi import ConfigurationError
from datagol_pulumi.stack_config import load_runs
from tests.conftest import WORKSPACE_ID

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml"))
RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.resources.append(args)
        outputs = {k: v for k, v in args.inputs.items() if k != "rows"}
        outputs.update(request_id=f"req-{args.name}", status="QUEUED", run_count=1)
        if args.typ == GROUP_TYPE:
            runs = args.inputs["runs"]
            runs = rpc.unwrap_rpc_secret(runs) if rpc.is_rpc_secret(runs) else runs
            outputs["results"] = {k: {"request_id": f"req-{k}"} for k in runs}
        return f"req-{args.name}", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def stack_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """A stack file's config as the engine hands it to a program: strings, objects as JSON."""
    raw = yaml.safe_load(path.read_text())["config"]
    config, secret_keys = {}, []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key], secret_keys = "decrypted-secret", [*secret_keys, key]
        elif isinstance(value, (dict, list)):
            config[key] = json.dumps(value)
        else:
            config[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return config, secret_keys


def run_program(config: dict[str, str], secret_keys: list[str] | None = None) -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="datagol-pulumi", stack="test", preview=False)
    pulumi.runtime.set_all_config(config, secret_keys or [])

    @pulumi.runtime.test
    def program() -> Any:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    program()
    return mocks


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_each_stack_declares_one_resource_per_run(stack_file: Path) -> None:
    config, secret_keys = stack_config(stack_file)
    expected = load_runs(
        json.loads(config["datagol-pulumi:runs"]),
        json.loads(config.get("datagol-pulumi:defaults", "{}")),
    )
    mocks = run_program(config, secret_keys)
    runs = [r for r in mocks.resources if r.typ == RUN_TYPE]
    assert sorted(r.name for r in runs) == sorted(expected)
    for resource in runs:
        declared = {k: v for k, v in expected[resource.name].items() if v is not None}
        sent = {k: v for k, v in resource.inputs.items() if k in declared}
        assert sent == declared
        assert "__provider" in resource.inputs
    # The stacks in this repo cover every mode between them.
    assert {r.inputs["mode"] for r in runs} == {"full", "filter", "selected", "new"}


def test_group_flag_declares_one_group_with_every_run() -> None:
    config, secret_keys = stack_config(ROOT / "stacks" / "Pulumi.dev.yaml")
    config["datagol-pulumi:group"] = "true"
    config["datagol-pulumi:maxConcurrency"] = "4"
    mocks = run_program(config, secret_keys)
    assert [r.typ for r in mocks.resources if r.typ.startswith("pulumi-python")] == [GROUP_TYPE]
    group = next(r for r in mocks.resources if r.typ == GROUP_TYPE)
    assert sorted(group.inputs["runs"]) == sorted(
        json.loads(config["datagol-pulumi:runs"])[i]["name"] for i in range(4)
    )
    assert group.inputs["max_concurrency"] == 4


def test_a_typo_fails_the_program_naming_run_and_valid_keys() -> None:
    config, secret_keys = stack_config(ROOT / "stacks" / "Pulumi.dev.yaml")
    runs = json.loads(config["datagol-pulumi:runs"])
    runs[1]["where"] = runs[1].pop("where_clause")
    config["datagol-pulumi:runs"] = json.dumps(runs)
    with pytest.raises(ConfigurationError) as info:
        run_program(config, secret_keys)
    text = str(info.value)
    assert "run 'contracts-open' (runs[1]): unknown key 'where'" in text
    assert "valid keys: workspace_id" in text


def test_runs_from_a_secret_key_are_declared_secret() -> None:
    # As `pulumi config set --secret --path 'datagol-pulumi:runs[0].where_clause' ...` leaves
    # it: the SDK names the whole key secret, not the path.
    runs = [
        {"name": "a", "extraction_id": "e", "element_type": "FILE", "element_id": "f"},
        {"name": "b", "extraction_id": "e", "element_type": "FILE", "element_id": "g"},
    ]
    runs[0].update(mode="filter", where_clause="ssn = '078-05-1120'", wait_for_completion=False)
    config = {
        "datagol-pulumi:runs": json.dumps(runs),
        "datagol-pulumi:defaults": json.dumps({"workspace_id": WORKSPACE_ID}),
    }
    mocks = run_program(config, ["datagol-pulumi:runs"])
    declared = {r.name: r.inputs for r in mocks.resources if r.typ == RUN_TYPE}
    assert declared["a"]["__secret_inputs"] == sorted(
        {"workspace_id", "extraction_id", "element_type", "element_id", "mode", "where_clause"}
        | {"poll_interval_seconds", "timeout_seconds"} & set(declared["a"])
    )
    assert "wait_for_completion" not in declared["a"]["__secret_inputs"]
    assert "where_clause" in declared["a"]["__secret_inputs"]

    plain = run_program(config)
    # Nothing secret: no marker at all (absent reads as none), a smaller state per run.
    assert [r.inputs.get("__secret_inputs") for r in plain.resources if r.typ == RUN_TYPE] == [
        None,
        None,
    ]
    assert all("__secret_inputs" not in r.inputs for r in plain.resources if r.typ == RUN_TYPE)

    config["datagol-pulumi:group"] = "true"
    grouped = run_program(config, ["datagol-pulumi:runs"])
    group = next(r for r in grouped.resources if r.typ == GROUP_TYPE)
    assert group.inputs["__secret_keys"] == ["a", "b"]
