"""B6's probe: where a Pulumi Python process spends its CPU, per gRPC call or per process.

Imported by every Python process of a ``pulumi up`` whose PYTHONPATH holds this folder, and
inert unless ``BENCH_PROBE_DIR`` is set. Then:

* the dynamic-provider process (``python -m pulumi.dynamic``) appends one JSON line per Check,
  Diff, Create, Update call to ``provider-<pid>.jsonl``: the handler thread's CPU and wall
  time, split into the SDK's (de)serialization of properties, ``get_provider``, and the
  provider's own ``check``/``diff``/``create``; and the process's CPU so far (the engine kills this
  process, so there is no exit hook);
* the program process (our language host's ``pulumi-language-python-exec``) writes its CPU
  and wall time at exit to ``program-<pid>.json``, and with ``BENCH_PROBE_PROFILE=1`` a
  cProfile of its main thread (the program body and the SDK's event loop) to
  ``program-<pid>.prof``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

_DIR = os.environ.get("BENCH_PROBE_DIR")
_local = threading.local()
_lock = threading.Lock()


def _add(label: str, cpu: float) -> None:
    parts = _local.__dict__.setdefault("parts", {})
    parts[label] = parts.get(label, 0.0) + cpu


def _outermost(label: str, fn):
    """``fn`` timed (thread CPU) under ``label``, counting only its outermost call."""

    def timed(*args, **kwargs):
        depth = _local.__dict__.get(label, 0)
        _local.__dict__[label] = depth + 1
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _local.__dict__[label] = depth
            if depth == 0:
                _add(label, time.thread_time() - started)

    return timed


def _outermost_async(label: str, fn):
    async def timed(*args, **kwargs):
        depth = _local.__dict__.get(label, 0)
        _local.__dict__[label] = depth + 1
        started = time.thread_time()
        try:
            return await fn(*args, **kwargs)
        finally:
            _local.__dict__[label] = depth
            if depth == 0:
                _add(label, time.thread_time() - started)

    return timed


def _probe_provider(folder: str) -> None:
    import dill
    from pulumi.runtime import rpc
    from pulumi.runtime.proto import provider_pb2_grpc

    out = open(os.path.join(folder, f"provider-{os.getpid()}.jsonl"), "a", buffering=1)  # noqa: SIM115

    def record(method: str, handler):
        def timed(request, context):
            _local.parts = {}
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return handler(request, context)
            finally:
                line = {
                    "method": method,
                    "cpu": time.thread_time() - cpu,
                    "wall": time.perf_counter() - wall,
                    "parts": _local.parts,
                    "process_cpu": time.process_time(),
                }
                with _lock:
                    out.write(json.dumps(line) + "\n")

        return timed

    rpc.deserialize_properties = _outermost("deserialize", rpc.deserialize_properties)
    rpc.serialize_properties = _outermost_async("serialize", rpc.serialize_properties)

    loads = dill.loads

    def loads_and_time(*args, **kwargs):
        provider = loads(*args, **kwargs)
        for name in ("check", "diff", "create"):
            if hasattr(provider, name):
                setattr(provider, name, _outermost(f"provider.{name}", getattr(provider, name)))
        return provider

    dill.loads = loads_and_time
    add_servicer = provider_pb2_grpc.add_ResourceProviderServicer_to_server

    def add_timed_servicer(servicer, server):
        main = sys.modules["__main__"]  # pulumi.dynamic's server, running main() right now
        main.get_provider = _outermost("get_provider", main.get_provider)
        for method in ("Check", "Diff", "Create", "Update"):
            setattr(servicer, method, record(method, getattr(servicer, method)))
        return add_servicer(servicer, server)

    provider_pb2_grpc.add_ResourceProviderServicer_to_server = add_timed_servicer


def _probe_program(folder: str) -> None:
    import atexit

    wall = time.perf_counter()
    profile = None
    if os.environ.get("BENCH_PROBE_PROFILE") == "1":
        import cProfile

        profile = cProfile.Profile()
        profile.enable()

    def write() -> None:
        if profile is not None:
            profile.disable()
            profile.dump_stats(os.path.join(folder, f"program-{os.getpid()}.prof"))
        summary = {"cpu": time.process_time(), "wall": time.perf_counter() - wall}
        with open(os.path.join(folder, f"program-{os.getpid()}.json"), "w") as handle:
            json.dump(summary, handle)

    atexit.register(write)


if _DIR:
    _argv = getattr(sys, "orig_argv", sys.argv)
    if "pulumi.dynamic" in _argv:
        _probe_provider(_DIR)
    elif any(arg.endswith("pulumi-language-python-exec") for arg in _argv):
        _probe_program(_DIR)
