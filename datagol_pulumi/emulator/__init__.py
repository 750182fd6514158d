"""Local emulator of the DataGOL extraction API, for tests and offline demos.

`Emulator` runs it in-process (`with Emulator(tokens=["t"]) as emu:` then point clients at
`emu.url`); `EmulatorControl(url)` drives one running in another process; the CLI is
`python -m datagol_pulumi.emulator` (or `datagol-emulator`).
"""

from .server import (
    DEFAULT_SETTINGS,
    ELEMENT_TYPES,
    RESPONSE_SHAPES,
    Emulator,
    EmulatorControl,
    is_loopback_host,
    sha256_hex,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "ELEMENT_TYPES",
    "RESPONSE_SHAPES",
    "Emulator",
    "EmulatorControl",
    "is_loopback_host",
    "sha256_hex",
]
