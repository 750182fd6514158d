"""Fixtures shared by unit, contract and e2e tests."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from datagol_pulumi.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started DataGOL emulator accepting the static token "test-token"."""
    with Emulator(tokens=["test-token"]) as emu:
        yield emu


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


@pytest.fixture
def make_provider(emulator: Emulator):
    """Build an ExtractionRunProvider configured, as `configure` does, against the emulator."""
    from datagol_pulumi import ExtractionRunProvider

    made = []

    def make(provider_class=ExtractionRunProvider, **config: str):
        values = {
            "datagol:baseUrl": emulator.url,
            "datagol:token": TOKEN,
            "datagol:maxRetries": "3",
        }
        values.update({f"datagol:{k}": v for k, v in config.items()})
        provider = provider_class()
        provider.configure(configure_request({k: v for k, v in values.items() if v is not None}))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.client().close()


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
