"""The engine's Cancel, heard by the dynamic provider: it stops the waits in progress.

The SDK's dynamic-provider server (``python -m pulumi.dynamic``) answers Cancel with nothing and
gives a provider no hook for it (the SDK's other provider servers call ``Provider.cancel``), so
Ctrl-C left a completion waiting until its timeout. Its servicer's ``Cancel`` is bound to the
gRPC server before any provider is loaded, so the function's code is replaced in place: it
stops the waits in progress (:func:`datagol_pulumi.waiting.stop_all`), then answers as before.

Its gRPC server has four worker threads, and a completion's wait holds one: with four waits in
progress the Cancel would queue behind them. So each wait that begins in one of those threads
raises the pool's size by one (the base four stay for every other call).

A private surface, so guarded: only in that server's process (its module is ``__main__``), only
while its ``Cancel`` is still the SDK's bare answer; otherwise nothing is changed, and Ctrl-C
waits for the operation in flight as it did before (tests/contract/test_cancel.py proves the
hook against the installed SDK).
"""

from __future__ import annotations

import functools
import sys
import threading
import types
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import waiting

#: The name the replaced code calls, set in the server module's globals.
_HOOK = "_datagol_cancelled"


def _answer(self: Any, request: Any, context: Any) -> Any:
    # Compiled here, run as the SDK's Cancel with its module's globals (where both names are).
    _datagol_cancelled()  # type: ignore[name-defined]  # noqa: F821
    return empty_pb2.Empty()  # type: ignore[name-defined]  # noqa: F821


def install(
    module: types.ModuleType | None = None, then: Callable[[], object] | None = None
) -> bool:
    """Make the dynamic server's Cancel, and its exit, stop the waits in progress, then call
    ``then`` (the bill's summary: the engine sends Cancel at the end of every deployment, while
    it still takes messages); whether its Cancel does."""
    _stop_waits_at_exit()
    waiting.when_waits_begin(_make_room)
    module = module or sys.modules.get("__main__")
    servicer = getattr(module, "DynamicResourceProviderServicer", None)
    cancel = getattr(servicer, "Cancel", None)
    code = getattr(cancel, "__code__", None)
    if module is None or code is None:
        return False
    if code is not _answer.__code__:  # else installed already
        if code.co_names != ("empty_pb2", "Empty") or code.co_argcount != 3 or code.co_freevars:
            return False  # not the SDK's bare answer any more: leave it alone
        if getattr(module, "empty_pb2", None) is None:
            return False
        cancel.__code__ = _answer.__code__
    setattr(module, _HOOK, functools.partial(_cancelled, then))
    return True


def _cancelled(then: Callable[[], object] | None) -> None:
    waiting.stop_all()
    if then is not None:
        then()


_exit_hooked = threading.Lock()


def _stop_waits_at_exit() -> None:
    # On SIGINT (the engine closing it) the server's main thread returns, and the interpreter
    # joins the threads still serving a request first: a wait would hold the process until the
    # engine kills it. The hooks that run before that join (the one concurrent.futures uses)
    # are private: guarded, and tests/contract/test_cancel.py proves the exit.
    register = getattr(threading, "_register_atexit", None)
    if register is not None and _exit_hooked.acquire(blocking=False):
        try:
            register(waiting.stop_all, waiting.SHUTTING_DOWN)
        except RuntimeError:  # already shutting down
            pass


_base_workers: dict[int, int] = {}


def _make_room(waits: int) -> None:
    """Size the pool serving this thread to its base plus the waits in progress."""
    executor = _serving_executor()
    if executor is None:
        return
    base = _base_workers.setdefault(id(executor), executor._max_workers)
    # Read on each submit: the next call that finds no idle worker gets a thread of its own.
    executor._max_workers = max(executor._max_workers, base + waits)
    # A call queued before this wait began (all workers busy) would sit there until a wait
    # ends: start a thread for it now (one per wait begun, none while a worker is idle).
    adjust = getattr(executor, "_adjust_thread_count", None)
    lock = getattr(executor, "_shutdown_lock", None)
    if callable(adjust) and lock is not None:
        with lock:  # as submit calls it
            if not getattr(executor, "_shutdown", False):
                adjust()


def _serving_executor() -> ThreadPoolExecutor | None:
    # A worker of a ThreadPoolExecutor runs with a weak reference to its pool as first argument.
    args = getattr(threading.current_thread(), "_args", None)
    ref = args[0] if isinstance(args, tuple) and args else None
    executor = ref() if isinstance(ref, weakref.ref) else None
    if isinstance(executor, ThreadPoolExecutor) and isinstance(
        getattr(executor, "_max_workers", None), int
    ):
        return executor
    return None
