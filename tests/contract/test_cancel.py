"""A completion's wait stops within seconds on the engine's Cancel, SIGINT and SIGTERM, on both
faces, through the real provider processes over gRPC; it records nothing and sends nothing, and
a wait begun after a Cancel (the engine sends one at the end of every deployment) is unaffected.
While it waits, its progress reaches the engine as the completion's status."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto
from pulumi.runtime.proto import engine_pb2_grpc

from datagol_pulumi.emulator import Emulator
from datagol_pulumi.provider import ExtractionRunCompletionProvider, ExtractionRunProvider
from tests.conftest import BASE_RUN, struct
from tests.contract.conftest import dynamic_server
from tests.contract.test_dynamic_server import configure, props
from tests.contract.test_plugin import (
    RUN,
    URN,
    plugin,  # noqa: F401 - the fixture
)
from tests.contract.test_plugin import configure as configure_plugin
from tests.contract.test_plugin_completion import COMPLETION_URN
from tests.contract.test_plugin_completion import create as create_plugin

RUN_URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::a"
DONE_URN = (
    "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRunCompletion::a"
)
LONG = {"wait_for_completion": True, "poll_interval_seconds": 0.1, "timeout_seconds": 900.0}
#: A stopped wait answers within this (it looks every half second); the engine kills at 5 s.
PROMPT_SECONDS = 3.0


class Engine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service, as a provider reaches it: keeps what it was sent."""

    def __init__(self) -> None:
        self.logs: list[Any] = []

    def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC method
        self.logs.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[str, Engine]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = Engine()
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(0)


class Waiting(threading.Thread):
    """A call that waits, in a thread: its answer or error, and when it came."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call, self.answer, self.error, self.ended = call, None, None, 0.0

    def run(self) -> None:
        try:
            self.answer = self.call()
        except grpc.RpcError as exc:
            self.error = exc.details() or str(exc.code())
        self.ended = time.monotonic()


def polls(emulator: Emulator) -> int:
    return len(emulator.requests(method="GET"))


def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


def dynamic_trigger(stub: Any) -> dict[str, Any]:
    """A run triggered (awaited by a completion): what its completion awaits."""
    run = {
        **BASE_RUN,
        **LONG,
        "__awaited_by_completion": True,
        "__urn": RUN_URN,
        "__provider": serialize_provider(ExtractionRunProvider()),
    }
    outs = props(stub.Create(proto.CreateRequest(urn=RUN_URN, properties=struct(run))).properties)
    return {k: outs.get(k) for k in ("operation_id", "request_ids", *LONG)}


def dynamic_wait(stub: Any, emulator: Emulator, target: dict[str, Any]) -> Waiting:
    """The completion's Create, waiting for ``target`` (once it polls)."""
    completion = {
        "runs": {"": target},
        "__urn": DONE_URN,
        "__names_secret": False,
        "__provider": serialize_provider(ExtractionRunCompletionProvider()),
    }
    checked = stub.Check(proto.CheckRequest(urn=DONE_URN, olds=struct({}), news=struct(completion)))
    waiting = Waiting(
        lambda: stub.Create(proto.CreateRequest(urn=DONE_URN, properties=checked.inputs))
    )
    polled = polls(emulator)
    waiting.start()
    until(lambda: polls(emulator) >= polled + 1 or not waiting.is_alive())
    return waiting


def test_the_engines_cancel_stops_a_dynamic_wait_and_a_later_wait_is_unaffected(
    emulator: Emulator, engine: tuple[str, Engine]
) -> None:
    address, servicer = engine
    emulator.configure(job_seconds=900)
    with dynamic_server(engine=address) as stub:
        configure(stub, emulator)
        target = dynamic_trigger(stub)
        [request_id] = target["request_ids"]
        waiting = dynamic_wait(stub, emulator, target)
        time.sleep(1.5)  # long enough for a progress message
        cancelled = time.monotonic()
        stub.Cancel(empty_pb2.Empty())
        waiting.join(PROMPT_SECONDS)
        assert not waiting.is_alive() and waiting.ended - cancelled < PROMPT_SECONDS
        assert waiting.answer is None  # nothing recorded
        assert f"Stopped waiting for run {request_id}: the Pulumi engine cancelled" in (
            waiting.error or ""
        )
        assert "waits for it again by request id" in waiting.error
        assert len(emulator.requests(method="POST")) == 1

        # The engine sends Cancel at the end of every deployment too: a later wait is its own.
        stub.Cancel(empty_pb2.Empty())
        emulator.finish_jobs()
        again = dynamic_wait(stub, emulator, target)
        again.join(10)
        assert again.error is None
        assert props(again.answer.properties)["runs"][""]["status"] == "COMPLETED"
        assert len(emulator.requests(method="POST")) == 1
    shown = [log for log in servicer.logs if log.ephemeral and log.urn == DONE_URN]
    assert shown and all(log.message.startswith("waiting ") for log in shown)
    assert any(log.message.endswith(": QUEUED") for log in shown), shown


def test_sigint_ends_a_dynamic_provider_that_is_waiting(
    emulator: Emulator, engine: tuple[str, Engine]
) -> None:
    emulator.configure(job_seconds=900)
    with dynamic_server(engine=engine[0]) as stub:
        configure(stub, emulator)
        waiting = dynamic_wait(stub, emulator, dynamic_trigger(stub))
        time.sleep(0.3)  # polling
        closing = time.monotonic()
    # The context sends SIGINT as the engine closes a plugin, and kills it only after 5 s.
    assert stub.process.returncode == 0, stub.process.returncode
    assert time.monotonic() - closing < PROMPT_SECONDS
    waiting.join(PROMPT_SECONDS)
    assert waiting.answer is None and waiting.error
    assert len(emulator.requests(method="POST")) == 1


def plugin_wait(stub: Any, emulator: Emulator) -> tuple[Waiting, str]:
    configure_plugin(stub, emulator)
    _, run = create_plugin(stub, URN, RUN)
    news = {"run": run["completionTarget"], "timeoutSeconds": 900.0, "pollIntervalSeconds": 0.1}
    waiting = Waiting(lambda: create_plugin(stub, COMPLETION_URN, news))
    waiting.start()
    until(lambda: polls(emulator) >= 2)
    time.sleep(0.3)  # polling
    return waiting, run["requestId"]


def test_the_engines_cancel_stops_a_plugin_wait(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    emulator.configure(job_seconds=900)
    waiting, request_id = plugin_wait(plugin, emulator)
    cancelled = time.monotonic()
    plugin.Cancel(empty_pb2.Empty())
    waiting.join(PROMPT_SECONDS)
    assert not waiting.is_alive() and waiting.ended - cancelled < PROMPT_SECONDS
    assert waiting.answer is None
    assert f"Stopped waiting for run {request_id}: the Pulumi engine cancelled" in waiting.error
    assert len(emulator.requests(method="POST")) == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_plugin_wait_which_answers_before_the_plugin_exits(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
    signum: int,
) -> None:
    emulator.configure(job_seconds=900)
    waiting, request_id = plugin_wait(plugin, emulator)
    signalled = time.monotonic()
    plugin.process.send_signal(signum)
    plugin.process.wait(PROMPT_SECONDS)
    assert time.monotonic() - signalled < PROMPT_SECONDS
    waiting.join(PROMPT_SECONDS)
    assert waiting.answer is None
    assert f"Stopped waiting for run {request_id}: the provider process is shutting down" in (
        waiting.error or ""
    )
    assert len(emulator.requests(method="POST")) == 1


def test_the_engines_cancel_stops_a_run_waiting_in_its_own_create(
    plugin: Any,  # noqa: F811
    emulator: Emulator,
) -> None:
    """A YAML run with waitForCompletion and no completion waits inside its create: Ctrl-C
    stops that too; the run is recorded as DataGOL answered it (its request id)."""
    configure_plugin(plugin, emulator)
    emulator.configure(job_seconds=900)
    news = {**RUN, "waitForCompletion": True, "pollIntervalSeconds": 0.1, "timeoutSeconds": 900.0}
    waiting = Waiting(lambda: create_plugin(plugin, URN, news))
    waiting.start()
    until(lambda: polls(emulator) >= 2)
    cancelled = time.monotonic()
    plugin.Cancel(empty_pb2.Empty())
    waiting.join(PROMPT_SECONDS)
    assert not waiting.is_alive() and waiting.ended - cancelled < PROMPT_SECONDS
    [post] = emulator.requests(method="POST")
    assert f"Stopped waiting for run {post['request_id']}: the Pulumi engine cancelled" in (
        waiting.error or ""
    )
    assert "the run is recorded with its request id" in waiting.error


def test_cancel_reaches_a_dynamic_provider_whose_workers_all_wait(
    emulator: Emulator, engine: tuple[str, Engine]
) -> None:
    """The SDK's server has four worker threads: five completions waiting at once must not
    leave the engine's Cancel queued behind them."""
    emulator.configure(job_seconds=900)
    with dynamic_server(engine=engine[0]) as stub:
        configure(stub, emulator)
        targets = [dynamic_trigger(stub) for _ in range(5)]
        # The fifth waits beside the four, not queued behind them (until the wait's timeout).
        waits = [dynamic_wait(stub, emulator, target) for target in targets]
        cancelled = time.monotonic()
        stub.Cancel(empty_pb2.Empty(), timeout=PROMPT_SECONDS)
        for waiting in waits:
            waiting.join(PROMPT_SECONDS)
            assert waiting.error and "the Pulumi engine cancelled" in waiting.error
        assert time.monotonic() - cancelled < PROMPT_SECONDS
        assert len(emulator.requests(method="POST")) == 5
