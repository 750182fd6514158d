"""Whether the Pulumi engine that started this provider process is still there.

The engine starts a provider with its own gRPC address as the last argument. The provider's
parent process says nothing reliable: Pulumi's own launcher runs python under ``sh`` without
``exec``, so when only the CLI is killed the parent (``sh``) lives on. The address does: once
the engine is gone nothing listens there, and a connect is refused at once, whatever launched
the provider.

A provider whose engine is gone sends nothing more (nothing it did would be recorded in the
state), stops waiting, and exits once its operations in flight have returned, so that no
orphaned process keeps polling DataGOL until its runs' timeouts.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from . import tally

#: How often the watcher looks (a connect costs ~0.1 ms; no trigger pays for it).
CHECK_SECONDS = 1.0
#: How long an operation in flight may take to return once the engine is gone, before exiting.
EXIT_GRACE_SECONDS = 30.0
_ADDRESS = re.compile(r"^(?:\[[0-9a-fA-F:.]+\]|[\w.-]+):\d+$")

_lock = threading.Lock()
_address: str | None = None
_gone = threading.Event()
#: Set once the engine was seen listening: only an engine seen alive can be seen gone (a
#: provider started with an address nobody ever served, as in tests, watches nothing).
_seen = threading.Event()
_active = 0


def is_server_main(path: str) -> bool:
    """Whether ``path`` is the module run by ``python -m pulumi.dynamic``, the dynamic
    provider's server (sdk_errors asks it of ``__main__``'s file, this module of ``argv[0]``)."""
    return path.replace(os.sep, "/").endswith("pulumi/dynamic/__main__.py")


def address_from_argv(argv: list[str] | None = None) -> str | None:
    """The engine address of a ``python -m pulumi.dynamic <address>`` process, else None."""
    args = sys.argv if argv is None else argv
    if not args or not is_server_main(args[0]):
        return None  # not the dynamic provider's server (a test, the program, a tool)
    candidates = [a for a in args[1:] if _ADDRESS.match(a)]
    return candidates[-1] if candidates else None


def watch(address: str | None) -> None:
    """Watch the engine at ``address`` from now on (once per process; None: nothing to watch)."""
    global _address
    with _lock:
        if address is None or _address is not None:
            return
        _address = address
    threading.Thread(target=_watch, name="datagol-engine-watch", daemon=True).start()


def address() -> str | None:
    """The watched engine's address, None outside a provider process started by an engine."""
    return _address


def gone() -> bool:
    """True once the watcher found the engine gone (it looks once a second): free to call on
    the path of every trigger."""
    return _gone.is_set()


def gone_now() -> bool:
    """Like :func:`gone`, but asks the engine's address now (before a record is dropped)."""
    if _gone.is_set():
        return True
    if _address is None:
        return False
    if listening(_address):
        _seen.set()
    elif _seen.is_set():
        _gone.set()
    return _gone.is_set()


def listening(address: str) -> bool:
    """Whether something accepts connections at ``host:port`` (False when refused)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=2.0):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return True  # a timeout or another failure is no proof that the engine is gone


@contextmanager
def operation() -> Iterator[None]:
    """Marks an operation in flight: the process does not exit under it."""
    global _active
    with _lock:
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1


def _watch() -> None:
    while not gone_now():
        time.sleep(CHECK_SECONDS)
    # Operations in flight see `gone()` and return soon: a trigger sends no further batch and
    # keeps its in-flight record, a wait stops polling.
    deadline = time.monotonic() + EXIT_GRACE_SECONDS
    while _active and time.monotonic() < deadline:
        time.sleep(0.1)
    tally.release()  # os._exit skips atexit, where it runs otherwise
    os._exit(0)
