"""``pulumi-resource-datagol``: started by the Pulumi engine, prints its port, serves gRPC.

Imports are deferred to ``main`` so that ``--version`` and the engine's start stay quick.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

#: Seconds the operations in flight have to answer once the plugin is closed (the engine kills
#: it ~5 s after its SIGINT): enough for a stopped wait's answer.
STOP_GRACE_SECONDS = 3.0


def _servicer_class() -> type:
    """The SDK's servicer, with our errors sent without a Python traceback and a failed run
    sent as ``ErrorResourceInitFailed`` (its outputs are kept in state)."""
    import grpc
    from pulumi.provider.experimental.property_value import PropertyValue
    from pulumi.provider.experimental.server import ProviderServicer
    from pulumi.runtime.proto import provider_pb2, status_pb2

    from .. import sdk_errors
    from ..errors import DataGolError
    from .provider import RunFailed
    from .translate import camel_text

    def ours(exc: BaseException) -> BaseException | None:
        # The SDK's wrapper re-raises every exception as a plain one with a traceback appended;
        # ours carry a complete message, so they are found in the chain and sent as they are.
        return sdk_errors.ours(exc, (RunFailed, DataGolError))

    async def answer(call: Any, request: Any, context: Any) -> Any:
        try:
            return await call(request, context)
        except Exception as exc:
            failed = ours(exc)
            if failed is None:
                raise
            if not isinstance(failed, RunFailed):
                await context.abort(grpc.StatusCode.UNKNOWN, camel_text(str(failed)))
                return None
            status = status_pb2.Status(
                code=grpc.StatusCode.UNKNOWN.value[0], message=camel_text(str(failed))
            )
            detail = provider_pb2.ErrorResourceInitFailed(
                id=failed.resource_id,
                properties=PropertyValue.marshal_map(failed.outputs),
                reasons=[camel_text(r) for r in failed.reasons],
            )
            status.details.add().Pack(detail)
            await context.abort_with_status(
                _Status(status.message, (("grpc-status-details-bin", status.SerializeToString()),))
            )
            return None

    class _Status(grpc.Status):
        def __init__(self, details: str, trailing_metadata: tuple) -> None:
            self.code = grpc.StatusCode.UNKNOWN
            self.details = details
            self.trailing_metadata = trailing_metadata

    class Servicer(ProviderServicer):
        async def Configure(self, request: Any, context: Any) -> Any:
            return await answer(super().Configure, request, context)

        async def Check(self, request: Any, context: Any) -> Any:
            return await answer(super().Check, request, context)

        async def Diff(self, request: Any, context: Any) -> Any:
            return await answer(super().Diff, request, context)

        async def Create(self, request: Any, context: Any) -> Any:
            return await answer(super().Create, request, context)

        async def Update(self, request: Any, context: Any) -> Any:
            return await answer(super().Update, request, context)

        async def Read(self, request: Any, context: Any) -> Any:
            return await answer(super().Read, request, context)

    return Servicer


def main(argv: list[str] | None = None) -> None:
    """Serve the provider for the engine at ``argv[-1]`` (the engine's own calling convention)."""
    args = sys.argv[1:] if argv is None else argv
    from .._version import __version__

    if args[:1] == ["--version"]:
        print(__version__)
        return
    engines = [a for a in args if not a.startswith("-")]
    if not engines:
        sys.exit("pulumi-resource-datagol: started by the Pulumi engine, with its address")

    import asyncio

    import grpc
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import provider_pb2_grpc

    from .. import engine_link, waiting
    from .provider import DataGolProvider

    # A provider whose engine is gone sends nothing more and exits (see engine_link).
    engine_link.watch(engines[-1])

    async def serve() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = _servicer_class()(
            args, __version__, DataGolProvider(), engine_address=engines[-1]
        )
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        closed = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, closed.set)
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await closed.wait()
        # Closed by the engine (SIGINT) or stopped (SIGTERM): a wait in progress stops and
        # its operation answers that nothing was recorded, before the server goes.
        waiting.stop_all(waiting.SHUTTING_DOWN)
        await server.stop(grace=STOP_GRACE_SECONDS)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:  # closed before its signal handlers were set
        pass


if __name__ == "__main__":
    main()
