"""Values as the Pulumi engine sends them to a provider, for tests and benchmarks."""

from __future__ import annotations

import asyncio
from typing import Any

from pulumi.runtime import rpc


def struct(props: dict[str, Any]) -> Any:
    """``props`` serialized by the SDK's own code, as a protobuf Struct (numbers as floats,
    ``rpc.UNKNOWN`` as the engine's unknown, secrets as wrappers)."""
    # Not asyncio.run: it would leave the thread without an event loop for later tests.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()
