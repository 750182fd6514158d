"""Fixtures shared by unit, contract and e2e tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from datagol_pulumi.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started DataGOL emulator accepting the static token "test-token"."""
    with Emulator(tokens=["test-token"]) as emu:
        yield emu
