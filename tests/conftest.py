"""Fixtures shared by unit, contract and e2e tests."""

from __future__ import annotations

import ssl
import threading
import types
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pulumi.dynamic
import pytest
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc

from datagol_pulumi.client.credentials import forget_token_sources
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.errors import ValidationError
from devtools.wire import struct


def _load_dynamic_server() -> types.ModuleType:
    """The SDK's dynamic-provider server module (`python -m pulumi.dynamic`), without running it.

    Importing it would start serving (its last line calls main()), so its source is executed
    without that line: the servicer is the SDK's own code, driven in-process.
    """
    path = Path(pulumi.dynamic.__file__).with_name("__main__.py")
    source = path.read_text()
    assert source.rstrip().endswith("\nmain()"), "pulumi.dynamic.__main__ changed its shape"
    module = types.ModuleType("pulumi.dynamic._servicer")
    module.__file__ = str(path)
    exec(compile(source.rstrip()[: -len("main()")], str(path), "exec"), module.__dict__)
    return module


dynamic_server = _load_dynamic_server()


@pytest.fixture(autouse=True)
def _fresh_token_sources() -> Iterator[None]:
    """Each test a process of its own for OAuth: the sources are per process (one per
    credential), and a later test's emulator may get an earlier one's port."""
    yield
    forget_token_sources()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started DataGOL emulator accepting the static token "test-token"."""
    with Emulator(tokens=["test-token"]) as emu:
        yield emu


def is_read(record: dict[str, Any]) -> bool:
    """A Get Extractions request (what the preview reads, at no cost), as the emulator recorded
    it: GET /noCo/api/v2/workspaces/{ws}/extraction/{elementType}/{elementId}."""
    segments = record["segments"]
    return (
        record["method"] == "GET"
        and len(segments) == 8
        and segments[:4] == ["noCo", "api", "v2", "workspaces"]
        and segments[5] == "extraction"
    )


def reads(emulator: Emulator) -> list[dict[str, Any]]:
    """The Get Extractions requests the emulator received, oldest first."""
    return [r for r in emulator.requests() if is_read(r)]


def sent(emulator: Emulator) -> list[dict[str, Any]]:
    """Every request the emulator received but the preview's Get Extractions reads: what a
    test counted as "all requests" before the preview read anything."""
    return [r for r in emulator.requests() if not is_read(r)]


WORKSPACE_ID = "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f"
TOKEN = "test-token"
#: A valid run's identifying inputs; tests add mode, rows and the rest.
BASE_RUN = {
    "workspace_id": WORKSPACE_ID,
    "extraction_id": "ext-1",
    "element_type": "COLUMN",
    "element_id": "col-9",
}


def configure_request(values: dict[str, str]) -> ConfigureRequest:
    """The request the SDK's dynamic-provider server hands to ``configure``."""
    return ConfigureRequest(Config(raw_config=values, project_name="datagol-pulumi"))


class _Reraise:
    """A gRPC servicer context whose ``abort`` re-raises the exception being handled.

    The SDK's servicer catches every provider exception and aborts with its traceback as text;
    re-raising keeps the exception's class, so tests can assert on it.
    """

    def abort(self, code: Any, details: str) -> None:
        raise  # noqa: PLE0704 - called from inside the servicer's `except` block

    def set_code(self, code: Any) -> None:
        pass

    def set_details(self, details: str) -> None:
        pass


_CACHE_LOCK = threading.Lock()


class EngineProvider:
    """A dynamic provider driven the way `pulumi up` drives it, with the same methods.

    Inputs go through the SDK's own serialization (numbers become floats, a ``rpc.UNKNOWN``
    becomes a ``pulumi.output.Unknown`` in check and diff) into the SDK's dynamic-provider
    servicer, which unpickles the provider and configures it from a ConfigureRequest, as in
    the provider process. create and update are preceded by check, as the engine does.
    """

    def __init__(self, provider_class: type, config: dict[str, str]) -> None:
        self._servicer = dynamic_server.DynamicResourceProviderServicer()
        self._servicer.Configure(proto.ConfigureRequest(args=struct(config)), _Reraise())
        self._key = serialize_provider(provider_class())
        self._cache: dict[str, Any] = {}

    def _call(self, method: str, request: Any) -> Any:
        # The SDK caches one provider per pickled class for its process; each EngineProvider
        # stands for a provider process of its own, so it swaps its instance in and out.
        with _CACHE_LOCK:
            dynamic_server._PROVIDER_CACHE.clear()
            dynamic_server._PROVIDER_CACHE.update(self._cache)
            try:
                return getattr(self._servicer, method)(request, _Reraise())
            finally:
                self._cache = dict(dynamic_server._PROVIDER_CACHE)
                dynamic_server._PROVIDER_CACHE.clear()

    def _props(self, values: dict[str, Any]) -> Any:
        return struct({**values, "__provider": self._key})

    @property
    def instance(self) -> Any:
        """The provider object inside the 'process' (after its first call), for white-box use."""
        if not self._cache:
            self.check({}, {})
        return next(iter(self._cache.values()))

    def client(self) -> Any:
        return self.instance.client()

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        request = proto.CheckRequest(urn=URN, olds=self._props(olds), news=self._props(news))
        response = self._call("Check", request)
        inputs = rpc.deserialize_properties(response.inputs, True)
        failures = [CheckFailure(f.property, f.reason) for f in response.failures]
        return CheckResult(inputs, failures)

    def _checked(self, news: dict[str, Any]) -> dict[str, Any]:
        checked = self.check({}, news)
        if checked.failures:
            raise ValidationError([(f.property, f.reason) for f in checked.failures])
        return {k: v for k, v in checked.inputs.items() if k != "__provider"}

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        request = proto.DiffRequest(id=id_, urn=URN, olds=self._props(olds), news=self._props(news))
        response = self._call("Diff", request)
        return DiffResult(
            changes=response.changes == proto.DiffResponse.DIFF_SOME,
            replaces=list(response.replaces),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        request = proto.CreateRequest(urn=URN, properties=self._props(self._checked(props)))
        response = self._call("Create", request)
        return CreateResult(response.id, _outputs(response.properties))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        request = proto.UpdateRequest(
            id=id_, urn=URN, olds=self._props(olds), news=self._props(self._checked(news))
        )
        return UpdateResult(_outputs(self._call("Update", request).properties))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        request = proto.ReadRequest(id=id_, urn=URN, properties=self._props(props))
        response = self._call("Read", request)
        return ReadResult(response.id, _outputs(response.properties))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._call("Delete", proto.DeleteRequest(id=id_, urn=URN, properties=self._props(props)))

    def close(self) -> None:
        for provider in self._cache.values():
            if getattr(provider, "_client", None) is not None:
                provider.client().close()


def _outputs(message: Any) -> dict[str, Any]:
    return {k: v for k, v in rpc.deserialize_properties(message).items() if k != "__provider"}


URN = "urn:pulumi:test::datagol-pulumi::pulumi-python:dynamic/datagol:ExtractionRun::run"


@pytest.fixture
def make_provider(emulator: Emulator):
    """make_provider(provider_class=ExtractionRunProvider, **datagol_config) -> EngineProvider
    against the emulator: configured and called as the engine does it (a setting given as
    None is left out)."""
    from datagol_pulumi import ExtractionRunProvider

    made: list[EngineProvider] = []

    def make(provider_class=ExtractionRunProvider, **config: str) -> EngineProvider:
        values = {
            "datagol:baseUrl": emulator.url,
            "datagol:token": TOKEN,
            "datagol:maxRetries": "3",
            # What create and update send, counted and faulted exactly: the preview's Get
            # Extractions read at check is off unless a test passes skipPreviewReads=None
            # (tests/contract/test_preview_checks.py).
            "datagol:skipPreviewReads": "true",
        }
        values.update({f"datagol:{k}": v for k, v in config.items()})
        provider = EngineProvider(
            provider_class, {k: v for k, v in values.items() if v is not None}
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def canned_server() -> Iterator[Callable[..., tuple[int, list[str]]]]:
    """``start(body, tls=None) -> (port, paths)``: a loopback server that answers every POST
    with 200 and ``body`` and records the paths, for answers the emulator does not give."""
    servers: list[ThreadingHTTPServer] = []

    def start(body: bytes, tls: ssl.SSLContext | None = None) -> tuple[int, list[str]]:
        received: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_port, received

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
