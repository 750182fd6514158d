"""Messages to the engine's ``Log`` service, shown by the CLI under a resource.

Every provider process is started with the address of the engine's gRPC server; its ``Engine``
service takes diagnostics (``LogRequest{severity, message, urn}``) from providers as it does
from programs. The dynamic provider's SDK gives a provider no way to it, so it is called here
directly, by both faces alike. A message that cannot be delivered is dropped: saying the bill
must never fail the operation that is about to be refused or allowed on its own.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_stubs: dict[str, Any] = {}
#: Seconds a message may take; the engine answers at once when it is there.
TIMEOUT_SECONDS = 5.0


def _stub(address: str) -> Any:
    with _lock:
        stub = _stubs.get(address)
        if stub is None:
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            stub = _stubs[address] = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return stub


def info(address: str, urn: str, message: str) -> bool:
    """Send ``message`` as an info diagnostic of ``urn``; whether the engine took it."""
    return _log(address, urn, message)


def status(address: str, urn: str, message: str) -> bool:
    """Send ``message`` as the status of ``urn`` (ephemeral: the CLI shows it on the
    resource's line while the step lasts, not among the diagnostics); whether it was taken."""
    return _log(address, urn, message, ephemeral=True)


def warning(address: str, urn: str, message: str) -> bool:
    """Send ``message`` as a warning of ``urn`` (shown as "warning:"); whether the engine took it."""
    return _log(address, urn, message, warning=True)


def _log(
    address: str, urn: str, message: str, *, ephemeral: bool = False, warning: bool = False
) -> bool:
    from pulumi.runtime.proto import engine_pb2

    severity = engine_pb2.WARNING if warning else engine_pb2.INFO
    try:
        _stub(address).Log(
            engine_pb2.LogRequest(
                severity=severity, message=message, urn=urn or "", ephemeral=ephemeral
            ),
            timeout=TIMEOUT_SECONDS,
        )
    except Exception:  # noqa: BLE001 - a message is never worth failing the operation for
        return False
    return True
