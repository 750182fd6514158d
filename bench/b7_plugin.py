"""B7 the packaged plugin against the dynamic provider: cold start and per-trigger overhead.

Both faces are started the way the engine starts them and driven over gRPC in the same run:
the dynamic provider as ``python -m pulumi.dynamic`` (what ``pulumi-resource-pulumi-python``
runs), the plugin as ``pulumi-resource-datagol``.

* cold start: spawn to the port line on stdout (the engine waits for exactly that);
* per trigger: one Check + Create of a new run (mode full, one POST to the emulator process),
  after Configure; the ratio subject/baseline is the headline.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from datagol_pulumi import ExtractionRunProvider
from datagol_pulumi.properties import camel
from devtools.wire import struct

from .common import TOKEN, Result, emulator_process, log, rotate, run_spec

STARTS = 7
TRIGGERS = 40
TARGET = 1.25
PLUGIN = Path(sys.executable).parent / "pulumi-resource-datagol"
DYNAMIC = [sys.executable, "-m", "pulumi.dynamic"]
RUN_URN = "urn:pulumi:b7::bench::datagol:index:ExtractionRun::r{}"
DYN_URN = "urn:pulumi:b7::bench::pulumi-python:dynamic/datagol:ExtractionRun::r{}"


@contextmanager
def started(command: list[str]) -> Iterator[tuple[float, Any]]:
    """(seconds from spawn to port, gRPC stub) of a provider process, stopped on exit."""
    begin = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(process.stdout.readline())
        seconds = time.perf_counter() - begin
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield seconds, provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def cold_start(command: list[str]) -> float:
    with started(command) as (seconds, _):
        return seconds


def run() -> Result:
    plugin_cmd = [str(PLUGIN), "127.0.0.1:1"]
    log(f"B7: {STARTS} cold starts per face, rotating")
    starts = rotate(
        STARTS, {"dynamic": lambda: cold_start(DYNAMIC), "plugin": lambda: cold_start(plugin_cmd)}
    )

    with emulator_process() as emu, started(DYNAMIC) as (_, dyn), started(plugin_cmd) as (_, plug):
        secret = rpc.wrap_rpc_secret(TOKEN)
        dyn.Configure(
            proto.ConfigureRequest(
                args=struct({"datagol:baseUrl": emu.url, "datagol:token": secret}),
                acceptSecrets=True,
            )
        )
        plug.Configure(
            proto.ConfigureRequest(
                args=struct({"baseUrl": emu.url, "token": secret}), acceptSecrets=True
            )
        )
        provider = serialize_provider(ExtractionRunProvider())
        counter = iter(range(10**6))

        def trigger(stub: Any, urn: str, spec: dict[str, Any]) -> float:
            begin = time.perf_counter()
            checked = stub.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(spec)))
            stub.Create(proto.CreateRequest(urn=urn, properties=checked.inputs))
            return time.perf_counter() - begin

        def dynamic() -> float:
            n = next(counter)
            return trigger(dyn, DYN_URN.format(n), {**run_spec(n), "__provider": provider})

        def plugin() -> float:
            n = next(counter)
            return trigger(plug, RUN_URN.format(n), {camel(k): v for k, v in run_spec(n).items()})

        dynamic(), plugin()  # warm both (first client, first connection)
        emu.control.clear_requests()
        log(f"B7: {TRIGGERS} triggers per face, rotating")
        per = rotate(TRIGGERS, {"dynamic": dynamic, "plugin": plugin})
        posts = emu.post_count()

    cold = starts["plugin"].median / starts["dynamic"].median
    ratio = per["plugin"].median / per["dynamic"].median
    return Result(
        name="B7",
        measured="plugin (pulumi-resource-datagol) vs dynamic provider: cold start, per trigger",
        figures={
            "cold start, dynamic": starts["dynamic"].describe(),
            "cold start, plugin": starts["plugin"].describe(),
            "cold start ratio": f"{cold:.3f} (info)",
            "check+create, dynamic": per["dynamic"].describe("ms", 1000, 2),
            "check+create, plugin": per["plugin"].describe("ms", 1000, 2),
        },
        headline="per-trigger ratio plugin/dynamic",
        value=ratio,
        target=TARGET,
        summary=(
            f"cold start {starts['dynamic'].median:.2f} s vs {starts['plugin'].median:.2f} s "
            f"({cold:.2f}x); trigger {per['dynamic'].median * 1000:.1f} ms vs "
            f"{per['plugin'].median * 1000:.1f} ms"
        ),
        checks={f"one POST per trigger ({2 * TRIGGERS})": posts == 2 * TRIGGERS},
    )
