"""The dynamic server's Cancel, hooked only where it is still the SDK's bare answer."""

from __future__ import annotations

import threading
import types
from concurrent.futures import ThreadPoolExecutor

from datagol_pulumi import dynamic_cancel, waiting
from tests.conftest import _load_dynamic_server


def test_the_sdks_cancel_then_stops_the_waits_in_progress_and_answers_as_before() -> None:
    server = _load_dynamic_server()  # a copy of the SDK's server module of its own
    servicer = server.DynamicResourceProviderServicer()
    try:
        said: list[str] = []
        assert dynamic_cancel.install(server) is True
        # Once is enough; again changes nothing but what follows the stop (the bill's summary).
        assert dynamic_cancel.install(server, then=lambda: said.append("bill")) is True
        with waiting.stoppable() as stop:
            answer = servicer.Cancel(None, None)
            assert stop.stopped() and stop.reason == waiting.CANCELLED
        assert type(answer).__name__ == "Empty" and said == ["bill"]
    finally:  # this process is no dynamic server: later tests' pools keep their size
        waiting._on_begin.remove(dynamic_cancel._make_room)


def test_a_wait_makes_room_in_the_pool_serving_it_so_other_calls_are_not_queued() -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    waiting.when_waits_begin(dynamic_cancel._make_room)
    try:
        release = threading.Event()

        def wait() -> None:
            with waiting.stoppable():
                release.wait(5)

        held = pool.submit(wait)
        assert pool.submit(lambda: "served").result(timeout=2) == "served"
        release.set()
        held.result(timeout=2)
    finally:
        waiting._on_begin.remove(dynamic_cancel._make_room)
        pool.shutdown()


def test_a_call_queued_before_a_wait_began_is_served_while_it_waits() -> None:
    """Six waited runs on four workers: a completion's call that was queued while every worker
    was busy (before their waits began) must not sit there until a wait ends."""
    pool = ThreadPoolExecutor(max_workers=1)
    waiting.when_waits_begin(dynamic_cancel._make_room)
    try:
        go, release = threading.Event(), threading.Event()

        def wait() -> None:
            go.wait(5)
            with waiting.stoppable():
                release.wait(5)

        held = pool.submit(wait)
        queued = pool.submit(lambda: "served")  # the only worker is busy, and no wait yet
        go.set()
        assert queued.result(timeout=2) == "served"
        release.set()
        held.result(timeout=2)
    finally:
        waiting._on_begin.remove(dynamic_cancel._make_room)
        pool.shutdown()


def test_a_cancel_that_is_not_the_sdks_bare_answer_is_left_alone() -> None:
    class Servicer:
        def Cancel(self, request, context):  # noqa: N802 - as the SDK names it
            return threading.get_ident()  # something else than `empty_pb2.Empty()`

    module = types.ModuleType("elsewhere")
    module.DynamicResourceProviderServicer = Servicer
    module.empty_pb2 = object()
    code = Servicer.Cancel.__code__
    assert dynamic_cancel.install(module) is False
    assert Servicer.Cancel.__code__ is code
    assert dynamic_cancel.install(types.ModuleType("no_server")) is False
