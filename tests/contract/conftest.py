"""Contract fixtures: the SDK's dynamic-provider server as `pulumi up` runs it, in a process."""

from __future__ import annotations

import os
import subprocess
import sys
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
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.stderr.close()
        assert TOKEN not in stderr


@contextmanager
def dynamic_server(
    env: dict[str, str] | None = None,
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic`, with DATAGOL_* of this process left out and ``env`` added."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DATAGOL_")}
    command = [sys.executable, "-u", "-m", "pulumi.dynamic"]
    with provider_process(
        command, {**base, "PULUMI_PROJECT": "datagol-pulumi", **(env or {})}
    ) as stub:
        yield stub


@pytest.fixture
def server() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with dynamic_server() as stub:
        yield stub
