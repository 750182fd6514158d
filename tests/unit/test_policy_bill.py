"""policy-pack/datagol_bill.py reads the file datagol_pulumi/tally.py writes (the pack has its
own virtualenv and cannot import the package): same path, same liveness rule."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import yaml

from datagol_pulumi import tally
from datagol_pulumi._version import __version__
from datagol_pulumi.tally import Tally

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "datagol_bill", ROOT / "policy-pack" / "datagol_bill.py"
)
assert _spec and _spec.loader
datagol_bill = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(datagol_bill)


def test_the_pack_reads_the_file_the_providers_write() -> None:
    address = "127.0.0.1:1"  # nothing listens there: no engine, only this test, uses it
    path = tally.path_for(address)
    assert datagol_bill.bill_path(address) == path
    path.unlink(missing_ok=True)
    assert datagol_bill.read_bill(address) is None  # nothing counted: a no-op
    try:
        Tally(path).charge("urn:a", ["a"], {"workspace w, extraction e": [2, 3, 4]}, 0)
        bill = datagol_bill.read_bill(address)
        assert bill is not None
        assert (bill["runs"], bill["batches"], bill["rows"], bill["names"]) == (2, 3, 4, ["a"])
    finally:
        path.unlink(missing_ok=True)


def test_a_file_whose_writers_exited_is_an_earlier_update() -> None:
    address = "127.0.0.1:2"
    path = datagol_bill.bill_path(address)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": 99, "pids": {dead: None}}))
    try:
        assert datagol_bill.read_bill(address) is None
    finally:
        path.unlink(missing_ok=True)


def test_the_engine_address_is_the_first_host_port_argument() -> None:
    assert datagol_bill.engine_address(["/pack", "127.0.0.1:4242", "/pack"]) == "127.0.0.1:4242"
    assert datagol_bill.engine_address(["/pack"]) is None


def test_the_policy_pack_has_the_packages_version() -> None:
    """`make dist` ships policy-pack/ as datagol-policy-pack-v<version>.tar.gz and refuses
    a PulumiPolicy.yaml of another version."""
    project = yaml.safe_load((ROOT / "policy-pack" / "PulumiPolicy.yaml").read_text())
    assert project["version"] == __version__
