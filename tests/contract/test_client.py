"""The client's resend rules against the emulator over real HTTP: every test counts what was
sent. POST starts a paid job, so it is resent only when nothing can have started one."""

from __future__ import annotations

import socket
import ssl
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from datagol_pulumi.client import DataGolClient
from datagol_pulumi.client.transport import Transport
from datagol_pulumi.config import Settings
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.errors import (
    ApiError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from datagol_pulumi.payload import trigger_requests
from datagol_pulumi.runs import validated
from tests.conftest import BASE_RUN, TOKEN
from tests.contract.test_credentials import _certificate

REQUEST = next(trigger_requests(validated(BASE_RUN)))


@pytest.fixture
def connect(emulator: Emulator) -> Iterator:
    """``connect(**settings) -> DataGolClient`` against the emulator, closed afterwards."""
    clients: list[DataGolClient] = []

    def make(**overrides) -> DataGolClient:
        values = {"base_url": emulator.url, "token": TOKEN, "max_retries": 3, **overrides}
        client = DataGolClient(Settings(**values))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def lookups(monkeypatch) -> Counter:
    """Counts name lookups per host: one per connection attempt. ``refused.test`` resolves to a
    closed loopback port, ``datagol.invalid`` to nothing; other names resolve as usual."""
    counts: Counter = Counter()
    real = socket.getaddrinfo
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]

    def resolve(host, port, *args, **kwargs):
        counts[host] += 1
        if host == "datagol.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host == "refused.test":
            return real("127.0.0.1", closed_port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return counts


@pytest.fixture
def tls_url(tmp_path, canned_server) -> tuple[str, list[str]]:
    """An https server whose certificate no default CA bundle trusts."""
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    port, received = canned_server(b"{}", tls=context)
    return f"https://localhost:{port}", received


def statuses(emulator: Emulator, method: str) -> list[int | None]:
    return [r["status"] for r in emulator.requests(method=method)]


def a_job_id(emulator: Emulator, connect) -> str:
    job = connect().trigger(REQUEST).request_id
    emulator.clear_requests()
    assert job is not None
    return job


# -- POST: a paid job -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_answered_5xx_is_sent_once(emulator, connect, status) -> None:
    emulator.add_fault(status=status, count=5, retry_after=0)
    with pytest.raises(ServerError) as info:
        connect().trigger(REQUEST)
    assert statuses(emulator, "POST") == [status]
    assert info.value.may_have_started is True


def test_post_refused_with_retry_after_is_resent(emulator, connect) -> None:
    emulator.add_fault(status=429, count=1, retry_after=0)
    emulator.add_fault(status=503, count=1, retry_after=0)
    result = connect().trigger(REQUEST)
    assert statuses(emulator, "POST") == [429, 503, 200]
    assert result.request_id == emulator.requests()[-1]["request_id"]
    assert len(emulator.jobs) == 1


def test_post_413_with_retry_after_is_not_resent(emulator, connect) -> None:
    # urllib3 would resend a 413 carrying Retry-After; the body is still too large then.
    emulator.add_fault(status=413, count=3, retry_after=0)
    with pytest.raises(ApiError):
        connect().trigger(REQUEST)
    assert statuses(emulator, "POST") == [413]


@pytest.mark.parametrize("fault", [{"close": True}, {"delay": 0.6}])
def test_post_without_an_answer_is_sent_once(emulator, connect, fault) -> None:
    emulator.add_fault(status=None, count=3, **fault)
    with pytest.raises(TransportError) as info:
        connect(request_timeout=0.2).trigger(REQUEST)
    assert len(emulator.requests(method="POST")) == 1
    assert info.value.may_have_started is True


def test_connection_refused_is_resent_up_to_max_retries(connect, lookups) -> None:
    with pytest.raises(TransportError) as info:
        connect(base_url="http://refused.test", max_retries=2).trigger(REQUEST)
    assert lookups["refused.test"] == 3  # one connection attempt each: 1 + 2 resends
    assert "connection refused" in str(info.value)
    assert info.value.may_have_started is False


def test_dns_failure_is_not_retried(connect, lookups) -> None:
    with pytest.raises(TransportError) as info:
        connect(base_url="https://datagol.invalid", max_retries=3).trigger(REQUEST)
    assert lookups["datagol.invalid"] == 1
    assert "Cannot resolve the host of https://datagol.invalid" in str(info.value)
    assert info.value.may_have_started is False


@pytest.mark.parametrize("url", ["http://a..b", "http://[::1"])
def test_invalid_url_is_not_sent(connect, lookups, url) -> None:
    with pytest.raises(TransportError) as info:
        connect(base_url=url, max_retries=3).trigger(REQUEST)
    assert sum(lookups.values()) == 0  # refused before any connection was tried
    assert "datagol:baseUrl is not a valid URL" in str(info.value)
    assert info.value.may_have_started is False


def test_tls_failure_is_not_retried(connect, lookups, tls_url, monkeypatch) -> None:
    url, received = tls_url
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TransportError) as info:
        connect(base_url=url, max_retries=3).trigger(REQUEST)
    assert lookups["localhost"] == 1 and received == []
    assert "TLS verification failed" in str(info.value)
    assert info.value.may_have_started is False


# -- GET: Poll Status changes nothing -------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_transient_failures_are_retried(emulator, connect, status) -> None:
    job = a_job_id(emulator, connect)
    emulator.add_fault(status=status, count=2, method="GET")
    assert connect().poll_status(job).status == "COMPLETED"
    assert statuses(emulator, "GET") == [status, status, 200]


@pytest.mark.parametrize("fault", [{"close": True}, {"delay": 0.6}])
def test_get_read_errors_are_retried(emulator, connect, fault) -> None:
    job = a_job_id(emulator, connect)
    emulator.add_fault(status=None, count=1, method="GET", **fault)
    assert connect(request_timeout=0.3).poll_status(job).status == "COMPLETED"
    assert len(emulator.requests(method="GET")) == 2


def test_get_500_is_not_retried(emulator, connect) -> None:
    job = a_job_id(emulator, connect)
    emulator.add_fault(status=500, count=3, method="GET", body='{"message": "bug"}')
    with pytest.raises(ApiError) as info:
        connect().poll_status(job)
    assert statuses(emulator, "GET") == [500]
    assert "HTTP 500: bug" in str(info.value)


def test_get_retries_are_bounded_by_max_retries(emulator, connect) -> None:
    job = a_job_id(emulator, connect)
    emulator.add_fault(status=502, count=10, method="GET", retry_after=0)
    with pytest.raises(ApiError) as info:
        connect(max_retries=2).poll_status(job)
    assert statuses(emulator, "GET") == [502, 502, 502]
    assert "after 3 attempts" in str(info.value)


# -- the deadline ---------------------------------------------------------------------------------


def test_retry_after_waits_end_within_the_deadline(emulator, connect) -> None:
    emulator.add_fault(status=429, count=10, retry_after=1)
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as info:
        connect(max_retries=10, retry_deadline=2.5).trigger(REQUEST)
    elapsed = time.monotonic() - started
    # Sent at 0 s, 1 s and 2 s; a fourth at 3 s would end after the 2.5 s deadline.
    assert statuses(emulator, "POST") == [429, 429, 429]
    assert 1.9 < elapsed < 2.5
    assert "after 3 attempt(s)" in str(info.value) and "no job was started" in str(info.value)


def test_retry_after_beyond_the_deadline_is_not_awaited(emulator, connect) -> None:
    emulator.add_fault(status=503, count=1, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(RateLimitedError) as info:
        connect(retry_deadline=5).trigger(REQUEST)
    assert time.monotonic() - started < 1
    assert statuses(emulator, "POST") == [503]
    assert "datagol:retryDeadline" in str(info.value)


def test_backoff_of_get_retries_ends_within_the_deadline(emulator, connect) -> None:
    job = a_job_id(emulator, connect)
    emulator.add_fault(status=502, count=10, method="GET")
    started = time.monotonic()
    with pytest.raises(ApiError):
        connect(max_retries=10, retry_deadline=1.0).poll_status(job)
    # Backoff 0 s, 0.5 s, then 1 s, which would pass the deadline: three requests.
    assert statuses(emulator, "GET") == [502, 502, 502]
    assert time.monotonic() - started < 1.0


def test_the_environments_proxy_is_used_and_no_proxy_respected(canned_server, monkeypatch) -> None:
    # Read once per client (when the provider is configured), not on every request.
    port, received = canned_server(b'{"requestId": "via-proxy"}')
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    base_url = "http://datagol.invalid"  # never resolved: the proxy is asked for it
    settings = Settings(base_url=base_url, token=TOKEN, allow_insecure_http=True)
    client = DataGolClient(settings)
    [request] = trigger_requests(validated(BASE_RUN))
    assert client.trigger(request, target="t").request_id == "via-proxy"
    client.close()
    assert received == [base_url + request.path + "?extractOnlyNew=false"]

    monkeypatch.setenv("NO_PROXY", "datagol.invalid")
    assert Transport(settings, user_agent="t").proxies == {}  # would go direct (no DNS here)


def test_a_wait_stopped_while_it_sleeps_reads_nothing_more(emulator, connect) -> None:
    # Ctrl-C lands during the sleep between two polls: the wait ends there, without one more
    # Poll Status read (which, slow or resent, would delay the answer to the cancel).
    emulator.configure(job_seconds=60)
    job = a_job_id(emulator, connect)
    stopped: list[bool] = []
    last, timed_out = connect().wait_for_run(
        job,
        poll_interval=30,
        timeout=60,
        stop=lambda: bool(stopped),
        sleep=lambda _seconds: stopped.append(True),
    )
    assert timed_out and last.status != "COMPLETED"
    assert len(emulator.requests(method="GET")) == 1
