"""'Not sent' means not sent: failures before a byte of the trigger left, over real sockets.

Each fault is a real server on 127.0.0.1 (a TLS listener that resets or closes during the
handshake, a proxy that refuses CONNECT, a closed proxy port, a server that reads the whole
request and then resets), in front of the emulator where the request would have gone. For each
'not sent' fault: the error says nothing was sent (``may_have_started`` False), the emulator
received nothing, the provider records nothing (the create raises), and the next create with the
fault gone sends exactly once. The control: a reset after the request was read stays ambiguous.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from datagol_pulumi import ConfigurationError, TransportError
from datagol_pulumi.client import DataGolClient
from datagol_pulumi.config import Settings
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.runs import validated
from tests.conftest import BASE_RUN, TOKEN
from tests.contract.test_credentials import _certificate

REQUEST = next(trigger_requests(validated(BASE_RUN)))
RUN = validated(BASE_RUN)


def _reset(conn: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _pump(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side ends, then close both.

    Neither thread closes a socket the other may be blocked in: an SSL socket keeps its file
    descriptor's number, so a close under a blocked read frees the number for the next accept
    (in this test or a later one), and the stale read then eats that connection's bytes and
    answers them with a TLS alert. shutdown() wakes the other thread; close() waits for both.
    """

    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except (OSError, ValueError):  # ValueError: an SSL socket the other side shut down
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except (OSError, ValueError):
                    pass

    back = threading.Thread(target=copy, args=(b, a), daemon=True)
    back.start()
    copy(a, b)
    back.join()
    a.close()
    b.close()


def _read_request(conn: socket.socket) -> bytes:
    """One whole HTTP request (head and Content-Length body), or b"" if the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


class Listener:
    """A loopback TCP server; ``serve(conn)`` handles each connection on its own thread."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            conn.close()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        self.conns += [a, b]  # so that close() can wake the pump's threads
        _pump(a, b)

    def close(self) -> None:
        # shutdown() wakes the threads blocked in accept() or recv(); the connections are closed
        # by the threads that use them (see _pump), so no descriptor is freed under a reader.
        for sock in self.conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class TlsFront(Listener):
    """https://localhost:<port> in front of the emulator. ``mode``: "reset" (reads the
    ClientHello, then resets), "eof" (reads it, then closes), "stall" (reads it, answers
    nothing), "read-reset" (completes TLS, reads the whole request, then resets), "relay"
    (completes TLS and relays to the emulator: the fault is gone)."""

    def __init__(self, context: ssl.SSLContext, target: int, mode: str) -> None:
        super().__init__()
        self.context, self.target, self.mode = context, target, mode
        self.requests = 0
        self.url = f"https://localhost:{self.port}"

    def serve(self, conn: socket.socket) -> None:
        if self.mode == "relay":
            tls = self.context.wrap_socket(conn, server_side=True)  # conn is detached now
            self._pump(tls, socket.create_connection(("127.0.0.1", self.target)))
            return
        if self.mode == "read-reset":
            tls = self.context.wrap_socket(conn, server_side=True)
            self.requests += bool(_read_request(tls))
            _reset(tls)
            return
        conn.recv(65536)  # the ClientHello: the handshake is under way
        if self.mode == "reset":
            _reset(conn)
        elif self.mode == "eof":
            conn.close()
        else:
            time.sleep(3)
            conn.close()


class ConnectProxy(Listener):
    """An http proxy for https: answers CONNECT with 403 (``refuse``) or tunnels."""

    def __init__(self, refuse: bool) -> None:
        super().__init__()
        self.refuse = refuse
        self.connects: list[str] = []
        self.url = f"http://127.0.0.1:{self.port}"

    def serve(self, conn: socket.socket) -> None:
        head = _read_request(conn).decode("latin-1")
        method, target, _ = head.split(" ", 2)
        self.connects.append(f"{method} {target}")
        if self.refuse or method != "CONNECT":
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        host, _, port = target.rpartition(":")
        upstream = socket.create_connection((host, int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._pump(conn, upstream)


class ReadThenReset(Listener):
    """Plain http: reads each whole request, then resets: the request may have been acted on."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.url = f"http://127.0.0.1:{self.port}"

    def serve(self, conn: socket.socket) -> None:
        if _read_request(conn):
            self.requests += 1
        _reset(conn)


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture
def front(tls, emulator: Emulator) -> Iterator:
    """front(mode) -> TlsFront before the emulator."""
    made: list[Listener] = []

    def make(mode: str) -> TlsFront:
        server = TlsFront(tls[0], int(emulator.url.rsplit(":", 1)[1]), mode)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


@pytest.fixture
def no_proxy_env(monkeypatch) -> pytest.MonkeyPatch:
    """No proxy from this process's environment; tests set their own."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def use_proxy(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    # The transport reads the proxy once, when it is built (requests.utils.get_environ_proxies).
    monkeypatch.setenv("HTTPS_PROXY", url)
    monkeypatch.setenv("https_proxy", url)


def client(url: str, cert: Path | None = None, **overrides) -> DataGolClient:
    values = {"base_url": url, "token": TOKEN, "max_retries": 3, **overrides}
    return DataGolClient(Settings(ca_bundle=str(cert) if cert else None, **values))


def unsent(call) -> TransportError:
    with pytest.raises(TransportError) as info:
        call()
    assert info.value.may_have_started is False
    assert "nothing was sent" in str(info.value)
    assert TOKEN not in str(info.value)
    return info.value


# -- the TLS handshake ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "shown"),
    [("reset", "connection reset"), ("eof", "EOF")],
)
def test_tls_handshake_reset_or_eof_is_not_sent(
    emulator, front, tls, no_proxy_env, mode, shown
) -> None:
    server = front(mode)
    error = unsent(lambda: client(server.url, tls[1]).trigger(REQUEST))
    text = str(error)
    assert f"The TLS handshake with {server.url} failed ({shown}" in text
    assert "not a certificate problem" in text
    assert "TLS verification failed" not in text and "caBundle" not in text
    assert server.accepted == 1  # the resend rules are unchanged: not resent on its own
    assert emulator.requests() == []


def test_tls_handshake_timeout_is_not_sent(emulator, front, tls, no_proxy_env) -> None:
    # urllib3 raises a *read* timeout for a stalled handshake; nothing of the request was read.
    server = front("stall")
    error = unsent(lambda: client(server.url, tls[1], connect_timeout=0.3).trigger(REQUEST))
    assert "failed (no answer within datagol:connectTimeout, 0.3 s)" in str(error)
    assert "The job may be running" not in str(error)


def test_a_trusted_tls_front_passes(emulator, front, tls, no_proxy_env) -> None:
    """The control for the tests above: the same front without its fault reaches the emulator."""
    result = client(front("relay").url, tls[1]).trigger(REQUEST)
    [post] = emulator.requests(method="POST")
    assert result.request_id == post["request_id"]


@pytest.mark.parametrize("mode", ["reset", "eof"])
def test_provider_records_nothing_on_a_handshake_failure_and_sends_once_after(
    emulator, make_provider, front, tls, no_proxy_env, mode
) -> None:
    server = front(mode)
    provider = make_provider(baseUrl=server.url, caBundle=str(tls[1]))
    with pytest.raises(TransportError) as info:
        provider.create(RUN)  # raised, not recorded: the engine stores no run
    assert info.value.may_have_started is False
    assert emulator.requests() == []
    server.mode = "relay"  # the fault is gone; same provider, same baseUrl
    result = provider.create(RUN)
    [post] = emulator.requests(method="POST")
    assert result.outs["request_id"] == post["request_id"]


# -- proxies --------------------------------------------------------------------------------------


def test_proxy_refusing_connect_is_not_sent(emulator, front, tls, no_proxy_env) -> None:
    server, proxy = front("relay"), ConnectProxy(refuse=True)
    use_proxy(no_proxy_env, proxy.url)
    error = unsent(lambda: client(server.url, tls[1]).trigger(REQUEST))
    text = str(error)
    assert f"the proxy {proxy.url} refused to open a connection to {server.url}" in text
    assert "403 Forbidden" in text and "HTTPS_PROXY" in text
    assert proxy.connects == [f"CONNECT localhost:{server.port}"]
    assert server.accepted == 0 and emulator.requests() == []


def test_proxy_refusing_the_connection_is_not_sent(emulator, front, tls, no_proxy_env) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    server = front("relay")
    use_proxy(no_proxy_env, dead.replace("http://", "http://user:proxy-pass@"))
    error = unsent(lambda: client(server.url, tls[1], max_retries=1).trigger(REQUEST))
    assert f"Cannot connect to the proxy {dead} (connection refused)" in str(error)
    assert "proxy-pass" not in str(error)  # the proxy's credentials are not shown
    assert server.accepted == 0 and emulator.requests() == []


def test_provider_behind_a_refusing_proxy_records_nothing_and_sends_once_after(
    emulator, make_provider, front, tls, no_proxy_env
) -> None:
    server, proxy = front("relay"), ConnectProxy(refuse=True)
    use_proxy(no_proxy_env, proxy.url)
    provider = make_provider(baseUrl=server.url, caBundle=str(tls[1]))
    with pytest.raises(TransportError) as info:
        provider.create(RUN)
    assert info.value.may_have_started is False
    assert emulator.requests() == []
    proxy.refuse = False  # the proxy lets it through now
    result = provider.create(RUN)
    [post] = emulator.requests(method="POST")
    assert result.outs["request_id"] == post["request_id"]
    assert len(proxy.connects) == 2


def test_provider_with_an_unreachable_proxy_records_nothing_and_sends_once_after(
    emulator, make_provider, front, tls, no_proxy_env
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        use_proxy(no_proxy_env, f"http://127.0.0.1:{s.getsockname()[1]}")
    server = front("relay")
    with pytest.raises(TransportError) as info:
        make_provider(baseUrl=server.url, caBundle=str(tls[1]), maxRetries="0").create(RUN)
    assert info.value.may_have_started is False
    assert emulator.requests() == []
    no_proxy_env.delenv("HTTPS_PROXY")
    no_proxy_env.delenv("https_proxy")
    # A new provider process reads the fixed environment.
    result = make_provider(baseUrl=server.url, caBundle=str(tls[1])).create(RUN)
    [post] = emulator.requests(method="POST")
    assert result.outs["request_id"] == post["request_id"]


# -- header values --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [TOKEN + "\n", TOKEN + "\u20ac"])
def test_an_unsendable_token_is_not_sent(emulator, token) -> None:
    """Settings built without ``load`` (which refuses these): the transport still proves it."""
    error = unsent(lambda: client(emulator.url, token=token).trigger(REQUEST))
    assert "a header value cannot be sent over HTTP" in str(error)
    assert "datagol:token" in str(error)
    assert token.strip() not in str(error)
    assert emulator.requests() == []


def test_provider_refuses_a_token_with_a_newline_in_configure_and_sends_once_fixed(
    emulator, make_provider
) -> None:
    with pytest.raises(ConfigurationError) as info:
        make_provider(token=TOKEN + "\n").create(RUN)
    assert "datagol:token has a trailing newline" in str(info.value)
    assert TOKEN not in str(info.value)
    assert emulator.requests() == []
    result = make_provider().create(RUN)
    [post] = emulator.requests(method="POST")
    assert result.outs["request_id"] == post["request_id"]


# -- the control: once the request was read, a reset is ambiguous --------------------------------


def test_reset_after_the_request_was_read_may_have_started(no_proxy_env) -> None:
    server = ReadThenReset()
    try:
        with pytest.raises(TransportError) as info:
            client(server.url).trigger(REQUEST)
        assert info.value.may_have_started is True
        assert "may have started, so it was not resent" in str(info.value)
        assert "nothing was sent" not in str(info.value)
        assert server.requests == 1  # read once, never resent
    finally:
        server.close()


def test_tls_reset_after_the_request_was_read_may_have_started(front, tls, no_proxy_env) -> None:
    """urllib3 raises the same ProtocolError('Connection aborted.', ConnectionResetError) as
    for a reset during the handshake: only what was written tells them apart."""
    server = front("read-reset")
    with pytest.raises(TransportError) as info:
        client(server.url, tls[1]).trigger(REQUEST)
    assert info.value.may_have_started is True
    assert "broke during POST" in str(info.value)
    assert "nothing was sent" not in str(info.value)
    assert server.requests == 1 and server.accepted == 1


def test_provider_records_a_reset_after_the_request_was_read(make_provider, no_proxy_env) -> None:
    server = ReadThenReset()
    try:
        provider = make_provider(baseUrl=server.url)
        outs = provider.create(RUN).outs  # recorded, not raised
        assert outs["status"] == "UNKNOWN"
        assert "may have started" in outs["error"]
        assert server.requests == 1
    finally:
        server.close()
