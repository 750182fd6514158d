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


WORKSPACE_ID = "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f"
TOKEN = "test-token"


@pytest.fixture
def make_provider(emulator: Emulator):
    """Build an ExtractionRunProvider configured, as `configure` does, against the emulator."""
    from datagol_pulumi import ExtractionRunProvider

    class _Config:
        def __init__(self, values: dict) -> None:
            self.config = self
            self._values = values

        def get(self, key: str):
            return self._values.get(key)

    made = []

    def make(provider_class=ExtractionRunProvider, **config: str):
        values = {
            "datagol:baseUrl": emulator.url,
            "datagol:token": TOKEN,
            "datagol:maxRetries": "3",
        }
        values.update({f"datagol:{k}": v for k, v in config.items()})
        provider = provider_class()
        provider.configure(_Config({k: v for k, v in values.items() if v is not None}))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.client().close()
