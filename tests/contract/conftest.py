"""Contract fixtures: the SDK's dynamic-provider server as `pulumi up` runs it, in a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2_grpc

from tests.conftest import TOKEN


@contextmanager
def provider_process(
    command: list[str], env: dict[str, str]
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """A provider plugin process started as the engine starts one (it prints its port), and a
    gRPC stub to it; its stderr must never show the test token."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.process = process  # for tests that signal it as the engine or a runner would
        yield stub
        channel.close()
    finally:
        # As the engine closes a plugin: SIGINT, and a kill only if it has not exited in 5 s.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.stderr.close()
        assert TOKEN not in stderr


@contextmanager
def dynamic_server(
    env: dict[str, str] | None = None, engine: str | None = None
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic [engine]`, with DATAGOL_* of this process left out and ``env``
    added; its in-flight journal in a folder of its own, never the user's. ``engine``: the
    engine's address, as the engine passes it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DATAGOL_")}
    command = [sys.executable, "-u", "-m", "pulumi.dynamic", *([engine] if engine else [])]
    with tempfile.TemporaryDirectory() as journal:
        own = {"PULUMI_PROJECT": "datagol-pulumi", "DATAGOL_JOURNAL_DIR": journal}
        with provider_process(command, {**base, **own, **(env or {})}) as stub:
            yield stub


@pytest.fixture
def server() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with dynamic_server() as stub:
        yield stub
