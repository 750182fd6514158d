"""Property-based tests of check over arbitrary nested input (hypothesis).

Whatever a stack hands it, check never raises, never sends a request, and every failure names
a property.
"""

from __future__ import annotations

import re
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagol_pulumi import ExtractionRunGroupProvider, ExtractionRunProvider
from datagol_pulumi.validation import GROUP_PROPERTIES, RUN_PROPERTIES

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
known_keys = st.sampled_from(RUN_PROPERTIES)
run_inputs = st.dictionaries(known_keys | st.text(max_size=12), json_values, max_size=14)
plausible = st.fixed_dictionaries(
    {
        "workspace_id": st.sampled_from(["6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f", "x", ""]),
        "extraction_id": st.text(max_size=5) | st.integers(),
        "element_type": st.sampled_from(["COLUMN", "file", "Folder", "TABLE", ""]),
        "element_id": st.text(max_size=5),
        "mode": st.sampled_from(["full", "filter", "selected", "new", "NEW", "x"]),
    },
    optional={k: json_values for k in RUN_PROPERTIES[4:] if k != "mode"},
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Validation must never touch the network: any socket use fails the test. The preview's
    Get Extractions read (and its credentials check) is turned off here, as a user turns it
    off; it is tested against the emulator (tests/contract/test_preview_checks.py)."""
    monkeypatch.setenv("DATAGOL_SKIP_PREVIEW_READS", "true")

    def refuse(*args, **kwargs):
        raise AssertionError("check opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def _assert_well_formed(result, valid: tuple[str, ...]) -> None:
    for failure in result.failures:
        top = re.split(r"[.\[]", failure.property)[0]  # a path names where: rows[2].amount
        assert failure.property and failure.reason
        assert top in valid or failure.reason.startswith("unknown property ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_inputs | plausible)
def test_check_never_raises_and_names_properties(inputs) -> None:
    result = ExtractionRunProvider().check({}, {**inputs, "__provider": "p"})
    _assert_well_formed(result, RUN_PROPERTIES)
    assert isinstance(result.inputs, dict)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(GROUP_PROPERTIES) | st.text(max_size=6), json_values, max_size=6
    )
)
def test_group_check_never_raises(inputs) -> None:
    _assert_well_formed(ExtractionRunGroupProvider().check({}, inputs), GROUP_PROPERTIES)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=3000))
def test_any_nesting_depth_is_handled(depth) -> None:
    row: dict = {}
    node = row
    for _ in range(depth):
        node["x"] = {}
        node = node["x"]
    result = ExtractionRunProvider().check(
        {},
        {
            "workspace_id": "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f",
            "extraction_id": "e",
            "element_type": "FILE",
            "element_id": "f",
            "mode": "selected",
            "rows": [row],
        },
    )
    assert [f.property for f in result.failures] == ([] if depth < 32 else ["rows"])
