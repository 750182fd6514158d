"""The provider and client against the emulator over real HTTP: exact requests, exact counts."""

from __future__ import annotations

import hashlib
import socket
import time

import pytest

from datagol_pulumi import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    TransportError,
)
from datagol_pulumi._version import __version__
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.runs import validated
from tests.conftest import TOKEN, WORKSPACE_ID

WS = WORKSPACE_ID
PREFIX = f"/noCo/api/v2/workspaces/{WS}/extraction"
BASE = {
    "workspace_id": WS,
    "extraction_id": "ext-1",
    "element_type": "column",
    "element_id": "col-9",
}


def inputs(**extra) -> dict:
    return validated({**BASE, **extra})


def posts(emulator: Emulator) -> list[dict]:
    return emulator.requests(method="POST")


@pytest.mark.parametrize(
    ("extra", "query", "body"),
    [
        ({}, "false", {"selectAll": True}),
        ({"extract_only_new": True}, "true", {"selectAll": True}),
        (
            {"mode": "filter", "where_clause": "a = 'x'"},
            "false",
            {"selectAll": True, "whereClause": "a = 'x'"},
        ),
        (
            {"mode": "selected", "rows": [{"id": "row1"}]},
            "false",
            {"selectAll": False, "rows": [{"id": "row1"}]},
        ),
        ({"mode": "new"}, "true", {"selectAll": True}),
        (
            {"mode": "new", "where_clause": "b > 1"},
            "true",
            {"selectAll": True, "whereClause": "b > 1"},
        ),
    ],
)
def test_create_sends_exactly_one_request_per_mode(
    emulator, make_provider, extra, query, body
) -> None:
    result = make_provider().create(inputs(**extra))
    [request] = emulator.requests()
    assert request["method"] == "POST"
    assert request["path"] == f"{PREFIX}/ext-1/COLUMN/col-9/run"
    assert request["query"] == {"extractOnlyNew": query}
    assert request["body"] == body
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["user-agent"].startswith(f"datagol-pulumi/{__version__} ")
    assert request["auth"] == {
        "scheme": "bearer",
        "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
        "valid": True,
    }
    assert result.id == request["request_id"]
    assert result.outs["request_id"] == request["request_id"]
    assert result.outs["run_count"] == 1
    assert result.outs["status"] == "QUEUED"
    assert result.outs["triggered_at"].endswith("Z")
    assert result.outs["error"] == ""  # never null: see validation.ABSENT
    assert "rows" not in result.outs
    # Every input but rows is echoed, None included; so is request_id.
    assert set(BASE) | {"mode", "where_clause", "extract_only_new", "triggers"} <= set(result.outs)


def test_path_segments_are_encoded_and_decoded_back(emulator, make_provider) -> None:
    make_provider().create(inputs(extraction_id="ext 1", element_type="FILE", element_id="dir/a b"))
    [request] = emulator.requests()
    assert request["path"] == f"{PREFIX}/ext%201/FILE/dir%2Fa%20b/run"
    assert request["segments"][-4:] == ["ext 1", "FILE", "dir/a b", "run"]


def test_x_auth_token_scheme(emulator, make_provider) -> None:
    make_provider(authScheme="x-auth-token").create(inputs())
    [request] = emulator.requests()
    assert request["auth"]["scheme"] == "x-auth-token"
    assert request["auth"]["valid"] is True


def test_check_diff_delete_send_nothing(emulator, make_provider) -> None:
    provider = make_provider()
    result = provider.check({}, {**BASE, "__provider": "x"})
    assert result.failures == []
    outs = provider.create(result.inputs).outs
    emulator.clear_requests()
    assert provider.diff("id", outs, result.inputs).changes is False
    bad = provider.check({}, {**BASE, "element_type": "TABLE"})
    assert [f.property for f in bad.failures] == ["element_type"]
    provider.delete("id", outs)
    assert emulator.requests() == []


def test_update_retriggers_only_for_run_inputs(emulator, make_provider) -> None:
    provider = make_provider()
    first = provider.create(inputs(mode="filter", where_clause="a")).outs
    emulator.clear_requests()

    settings_only = provider.update(
        "id", first, inputs(mode="filter", where_clause="a", timeout_seconds=5)
    )
    assert emulator.requests() == []
    assert settings_only.outs["request_id"] == first["request_id"]
    assert settings_only.outs["run_count"] == 1
    assert settings_only.outs["timeout_seconds"] == 5

    changed = provider.update("id", settings_only.outs, inputs(mode="filter", where_clause="b"))
    [request] = emulator.requests()
    assert request["body"] == {"selectAll": True, "whereClause": "b"}
    assert changed.outs["run_count"] == 2
    assert changed.outs["request_id"] == request["request_id"] != first["request_id"]


def test_read_polls_status_of_waited_runs_and_never_posts(emulator, make_provider) -> None:
    emulator.configure(job_seconds=0.6)
    provider = make_provider()
    created = provider.create(
        inputs(wait_for_completion=True, timeout_seconds=0.1, poll_interval_seconds=0.05)
    )
    assert created.outs["status"] in ("QUEUED", "RUNNING")
    assert "did not finish" in created.outs["error"]
    time.sleep(0.7)  # the job finishes meanwhile
    emulator.clear_requests()
    read = provider.read(created.id, created.outs)
    assert [r["method"] for r in emulator.requests()] == ["GET"]
    assert emulator.requests()[0]["path"] == f"/noCo/api/v1/requestLog/status/{created.id}"
    assert read.outs["status"] == "COMPLETED"
    assert read.outs["error"] == ""  # the timed-out wait has since finished
    assert read.outs["run_count"] == 1


def test_read_of_a_fire_and_forget_run_sends_nothing(emulator, make_provider) -> None:
    provider = make_provider()
    created = provider.create(inputs())
    emulator.clear_requests()
    read = provider.read(created.id, created.outs)
    assert emulator.requests() == []
    assert read.outs == created.outs


@pytest.mark.parametrize("shape", ["requestId", "request_id", "id", "data.requestId", "result.id"])
def test_request_id_is_found_in_every_shape(emulator, make_provider, shape) -> None:
    emulator.configure(response_shape=shape)
    result = make_provider().create(inputs())
    [request] = emulator.requests()
    assert result.outs["request_id"] == request["job_id"]
    assert result.id == request["job_id"]


@pytest.mark.parametrize("shape", ["none", "empty", "text"])
def test_no_request_id_still_creates_with_a_generated_id(emulator, make_provider, shape) -> None:
    emulator.configure(response_shape=shape)
    result = make_provider().create(inputs())
    assert len(emulator.requests()) == 1
    assert result.outs["request_id"] == ""
    assert result.id.startswith("run-")
    assert result.outs["status"] == "TRIGGERED"  # no status in the answer either


# -- faults -------------------------------------------------------------------------------------


def test_429_with_retry_after_is_resent_after_the_wait(emulator, make_provider) -> None:
    emulator.add_fault(status=429, count=2, retry_after=0)
    result = make_provider().create(inputs())
    statuses = [r["status"] for r in posts(emulator)]
    assert statuses == [429, 429, 200]
    assert result.outs["request_id"] is not None


@pytest.mark.parametrize("status", [429, 503])
def test_refusal_without_retry_after_is_not_resent(emulator, make_provider, status) -> None:
    # The refusal started no job (so nothing is recorded and the next `up` sends it), but
    # without Retry-After the service did not say when it will take it: no guessing.
    emulator.add_fault(status=status, count=1)
    with pytest.raises(RateLimitedError) as info:
        make_provider().create(inputs())
    assert [r["status"] for r in posts(emulator)] == [status]
    assert "no Retry-After" in str(info.value) and info.value.may_have_started is False


def test_retries_are_bounded_by_max_retries(emulator, make_provider) -> None:
    emulator.add_fault(
        status=503, count=10, retry_after=0, body='{"message": "maintenance window"}'
    )
    with pytest.raises(RateLimitedError) as info:
        make_provider(maxRetries="2").create(inputs())
    assert len(posts(emulator)) == 3
    assert "maintenance window" in str(info.value)
    assert "no job was started" in str(info.value)


def test_retry_after_beyond_the_deadline_fails_without_waiting(emulator, make_provider) -> None:
    emulator.add_fault(status=429, count=1, retry_after=3600)
    with pytest.raises(RateLimitedError):
        make_provider(retryDeadline="5").create(inputs())
    assert len(posts(emulator)) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_on_post_are_not_resent_and_are_recorded(
    emulator, make_provider, status
) -> None:
    emulator.add_fault(status=status, count=5, body='{"message": "upstream broke"}')
    result = make_provider().create(inputs())
    assert len(posts(emulator)) == 1
    error = result.outs["error"]
    assert f"HTTP {status}: upstream broke" in error
    assert "may have started" in error
    assert "does not send it again" in error and "triggers" in error
    assert result.outs["status"] == "UNKNOWN"
    assert result.id.startswith("run-")


def test_read_timeout_after_sending_is_not_resent(emulator, make_provider) -> None:
    emulator.add_fault(status=None, delay=1.0)
    result = make_provider(requestTimeout="0.2").create(inputs())
    assert len(posts(emulator)) == 1
    assert "did not answer" in result.outs["error"]
    assert "may be running" in result.outs["error"]
    assert "datagol:requestTimeout" in result.outs["error"]


def test_dropped_connection_after_sending_is_not_resent(emulator, make_provider) -> None:
    emulator.add_fault(close=True)
    result = make_provider().create(inputs())
    assert len(posts(emulator)) == 1
    assert "may have started" in result.outs["error"]


def test_connection_refused_names_base_url_and_fails_cleanly(make_provider) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(TransportError) as info:
        make_provider(baseUrl=url, maxRetries="1").create(inputs())
    assert url in str(info.value)
    assert "connection refused" in str(info.value)
    assert info.value.may_have_started is False


def test_dns_failure_names_base_url(make_provider, monkeypatch) -> None:
    # Resolving a name would send traffic off this machine; the resolver's answer is simulated.
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "datagol.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(TransportError) as info:
        make_provider(baseUrl="https://datagol.invalid").create(inputs())
    assert "Cannot resolve the host of https://datagol.invalid" in str(info.value)


def test_auth_failure_names_the_token_setting_and_never_the_token(emulator, make_provider) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_provider(token="wrong-token-value").create(inputs())
    text = str(info.value)
    assert "datagol:token" in text and "DATAGOL_TOKEN" in text
    assert "auth scheme in use: bearer" in text
    assert "wrong-token-value" not in text
    assert len(posts(emulator)) == 1


def test_missing_token_says_how_to_set_one(emulator, make_provider) -> None:
    with pytest.raises(AuthenticationError) as info:
        make_provider(token=None).create(inputs())
    assert "pulumi config set --secret datagol:token" in str(info.value)


def test_404_names_workspace_extraction_and_element(emulator, make_provider) -> None:
    emulator.configure(extractions=["other"])
    with pytest.raises(NotFoundError) as info:
        make_provider().create(inputs())
    text = str(info.value)
    assert f"workspace {WS}, extraction ext-1, element COLUMN col-9" in text


def test_400_passes_the_server_message_on(emulator, make_provider) -> None:
    emulator.add_fault(status=400, body='{"message": "whereClause: unknown column foo"}')
    with pytest.raises(BadRequestError) as info:
        make_provider().create(inputs(mode="filter", where_clause="foo = 1"))
    assert "whereClause: unknown column foo" in str(info.value)


def test_413_says_to_set_batch_size(emulator, make_provider) -> None:
    emulator.configure(max_body_bytes=200)
    rows = [{"id": i, "text": "x" * 50} for i in range(10)]
    with pytest.raises(PayloadTooLargeError) as info:
        make_provider().create(inputs(mode="selected", rows=rows))
    assert "batch_size" in str(info.value)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        ("", "text/plain", "(empty body)"),
        ("plain words, not json", "text/plain", "plain words, not json"),
    ],
)
def test_error_bodies_of_any_kind_become_readable_messages(
    emulator, make_provider, body, content_type, expected
) -> None:
    emulator.add_fault(status=422, body=body, content_type=content_type)
    with pytest.raises(BadRequestError) as info:
        make_provider().create(inputs())
    assert expected in str(info.value)


def test_huge_error_body_is_truncated(emulator, make_provider) -> None:
    emulator.add_fault(status=400, body="E" * (3 * 1024 * 1024), content_type="text/plain")
    with pytest.raises(BadRequestError) as info:
        make_provider().create(inputs())
    assert len(str(info.value)) < 1000
    assert "(truncated)" in str(info.value)


def test_huge_success_body_is_accepted_without_request_id(make_provider, canned_server) -> None:
    """A 2xx is an accepted job whatever its body; the client must not fail on it."""
    port, received = canned_server(b'{"junk": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    result = make_provider(baseUrl=f"http://127.0.0.1:{port}").create(inputs())
    assert len(received) == 1
    assert result.outs["request_id"] == ""
    assert result.outs["error"] == ""


# -- waiting and batches ----------------------------------------------------------------------


def test_wait_for_completion_polls_until_final(emulator, make_provider) -> None:
    emulator.configure(job_seconds=0.3)
    result = make_provider().create(inputs(wait_for_completion=True, poll_interval_seconds=0.05))
    assert result.outs["status"] == "COMPLETED"
    assert result.outs["error"] == ""
    assert result.outs["finished_at"] >= result.outs["triggered_at"]
    assert result.outs["duration_seconds"] >= 0.3
    methods = [r["method"] for r in emulator.requests()]
    assert methods[0] == "POST" and methods.count("POST") == 1
    assert methods.count("GET") >= 2


def test_failed_run_is_recorded_with_request_id_status_and_message(emulator, make_provider) -> None:
    emulator.configure(failing_extractions=["ext-1"], failure_reason="model quota exceeded")
    result = make_provider().create(inputs(wait_for_completion=True, poll_interval_seconds=0.05))
    assert result.outs["status"] == "FAILED"
    error = result.outs["error"]
    assert result.outs["request_id"] in error
    assert "FAILED" in error and "model quota exceeded" in error
    assert len(posts(emulator)) == 1


def test_wait_timeout_says_how_long_and_how_to_wait_longer(emulator, make_provider) -> None:
    emulator.configure(job_seconds=30)
    result = make_provider().create(
        inputs(wait_for_completion=True, poll_interval_seconds=0.05, timeout_seconds=0.3)
    )
    assert "did not finish within 0.3 s" in result.outs["error"]
    assert "timeout_seconds" in result.outs["error"]
    assert result.outs["status"] in ("QUEUED", "RUNNING")
    assert len(posts(emulator)) == 1


def test_status_polls_are_retried_on_5xx(emulator, make_provider) -> None:
    provider = make_provider()
    created = provider.create(inputs())
    emulator.add_fault(status=502, count=2, method="GET", retry_after=0)
    status = provider.client().poll_status(created.id)
    assert status.status == "COMPLETED"
    assert [r["status"] for r in emulator.requests(method="GET")] == [502, 502, 200]


def test_custom_status_field_and_sets(emulator, make_provider) -> None:
    emulator.configure(status_field="state")
    provider = make_provider(statusField="state")
    result = provider.create(inputs(wait_for_completion=True, poll_interval_seconds=0.05))
    assert result.outs["status"] == "COMPLETED"


def test_batches_are_sent_in_order(emulator, make_provider) -> None:
    rows = [{"id": i} for i in range(7)]
    result = make_provider().create(inputs(mode="selected", rows=rows, batch_size=3))
    sent = posts(emulator)
    assert [r["body"]["rows"] for r in sent] == [rows[0:3], rows[3:6], rows[6:7]]
    assert result.outs["request_ids"] == [r["request_id"] for r in sent]
    assert result.outs["request_id"] == sent[0]["request_id"]
    assert result.outs["row_count"] == 7


def test_failed_batch_records_what_was_accepted(emulator, make_provider) -> None:
    rows = [{"id": i} for i in range(6)]
    emulator.add_fault(status=400, body='{"message": "bad row"}', path_contains="/run")
    provider = make_provider()
    # The first batch refused: nothing started, so the error is raised and state is untouched.
    with pytest.raises(BadRequestError):
        provider.create(inputs(mode="selected", rows=rows, batch_size=2))
    emulator.clear_requests()
    # A later batch refused: the accepted ones are recorded, never resent.
    original = provider.client().trigger
    calls = {"n": 0}

    def trigger(request, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            emulator.add_fault(status=400, body='{"message": "bad row"}', path_contains="/run")
        return original(request, **kwargs)

    provider.client().trigger = trigger
    result = provider.create(inputs(mode="selected", rows=rows, batch_size=2))
    assert [r["status"] for r in posts(emulator)] == [200, 400]
    assert result.outs["status"] == "PARTIAL"
    error = result.outs["error"]
    assert error.startswith(f"1 of 3 batches accepted ({posts(emulator)[0]['request_id']}).")
    assert "Batch 2 of 3: refused, so nothing started:" in error and "bad row" in error
    assert "Batch 3 of 3 was not sent." in error
    assert "sends the batches that were not sent, and only those" in error
    assert len(result.outs["request_ids"]) == 1
    assert [b["state"] for b in result.outs["batches"]] == ["accepted", "refused", "unsent"]
