"""Contract tests of the DataGOL emulator: real HTTP over loopback, no mocking."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from datagol_pulumi.emulator import Emulator, EmulatorControl
from datagol_pulumi.emulator.__main__ import main as cli_main

WS = "123e4567-e89b-12d3-a456-426614174000"
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def trigger_path(
    ws: str = WS, extraction: str = "ex-1", element_type: str = "FILE", element: str = "el-1"
) -> str:
    """Segments are used as given: callers pass them already percent-encoded."""
    return f"/noCo/api/v2/workspaces/{ws}/extraction/{extraction}/{element_type}/{element}/run"


def status_path(request_id: str) -> str:
    return f"/noCo/api/v1/requestLog/status/{request_id}"


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # never route loopback traffic through an env proxy
    yield session
    session.close()


@pytest.fixture
def post(emulator: Emulator, http: requests.Session) -> Callable[..., requests.Response]:
    """POST a trigger: post(path=None, query="extractOnlyNew=false", **requests kwargs)."""

    def do(path: str | None = None, query: str | None = "extractOnlyNew=false", **kwargs: Any):
        kwargs.setdefault("headers", AUTH)
        kwargs.setdefault("timeout", 5)
        url = emulator.url + (path or trigger_path()) + (f"?{query}" if query is not None else "")
        return http.post(url, **kwargs)

    return do


@pytest.fixture
def poll(emulator: Emulator, http: requests.Session) -> Callable[[str], requests.Response]:
    def do(request_id: str) -> requests.Response:
        return http.get(emulator.url + status_path(request_id), headers=AUTH, timeout=5)

    return do


def wait_for(predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# --- Trigger Extraction ----------------------------------------------------------------------


def test_trigger_accepted_and_recorded(emulator: Emulator, post) -> None:
    body = {"selectAll": False, "rows": [{"id": "row1", "name": "Sample Data"}]}
    response = post(query="extractOnlyNew=true", json=body)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"requestId", "status", "message"}
    assert payload["status"] == "QUEUED"
    assert payload["message"] == "Extraction triggered"
    assert uuid.UUID(payload["requestId"]).version == 4

    [record] = emulator.requests()
    assert record["seq"] == 1
    assert abs(record["time"] - time.time()) < 5
    assert record["method"] == "POST"
    assert record["path"] == trigger_path()
    assert record["segments"] == [
        "noCo", "api", "v2", "workspaces", WS, "extraction", "ex-1", "FILE", "el-1", "run",
    ]  # fmt: skip
    assert record["query"] == {"extractOnlyNew": "true"}
    assert record["headers"]["content-type"] == "application/json"
    assert "authorization" not in record["headers"]
    assert record["auth"] == {"scheme": "bearer", "token_sha256": sha(TOKEN), "valid": True}
    assert record["body"] == body
    assert record["body_bytes"] == len(json.dumps(body).encode())
    assert record["status"] == 200
    assert record["request_id"] == payload["requestId"]
    assert record["job_id"] == payload["requestId"]
    assert record["fault"] is False
    # The token is never stored in plain text, anywhere.
    assert TOKEN not in json.dumps(emulator.requests())

    job = emulator.jobs[payload["requestId"]]
    assert job["extraction_id"] == "ex-1"
    assert job["workspace_id"] == WS
    assert job["element_type"] == "FILE"
    assert job["element_id"] == "el-1"
    assert job["extract_only_new"] is True
    assert job["body"] == body
    assert job["status"] == "COMPLETED"


def test_path_split_before_decoding(emulator: Emulator, post) -> None:
    path = trigger_path(extraction="ex%201", element="dir%2Fsub%20dir%2Ffile.pdf")
    response = post(path=path, json={})

    assert response.status_code == 200
    [record] = emulator.requests()
    assert record["path"] == path  # raw, still encoded
    assert record["segments"][6] == "ex 1"
    assert record["segments"][8] == "dir/sub dir/file.pdf"
    assert len(record["segments"]) == 10
    job = emulator.jobs[response.json()["requestId"]]
    assert job["element_id"] == "dir/sub dir/file.pdf"
    assert job["extraction_id"] == "ex 1"


@pytest.mark.parametrize("element_type", ["COLUMN", "FILE", "FOLDER"])
def test_each_element_type_accepted(emulator: Emulator, post, element_type: str) -> None:
    response = post(path=trigger_path(element_type=element_type))
    assert response.status_code == 200
    assert emulator.jobs[response.json()["requestId"]]["element_type"] == element_type


@pytest.mark.parametrize(
    ("query", "expected"),
    [(None, False), ("extractOnlyNew=false", False), ("extractOnlyNew=true", True)],
)
def test_extract_only_new(emulator: Emulator, post, query: str | None, expected: bool) -> None:
    response = post(query=query)
    assert response.status_code == 200
    assert emulator.jobs[response.json()["requestId"]]["extract_only_new"] is expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # empty body means {}
        {"data": b""},
        {"json": {}},
        {"json": {"selectAll": True}},
        {"json": {"selectAll": True, "whereClause": "status = 'new'"}},
        {"json": {"whereClause": "a > 1"}},
        {"json": {"selectAll": False, "rows": [{"id": 1}]}},
        {"json": {"rows": None, "whereClause": None, "selectAll": None}},
        {"json": {"selectAll": True, "unknownField": 1}},
    ],
)
def test_accepted_bodies(post, kwargs: dict[str, Any]) -> None:
    assert post(**kwargs).status_code == 200


@pytest.mark.parametrize(
    ("path", "query", "kwargs", "message"),
    [
        (trigger_path(ws="not-a-uuid"), None, {}, "workspaceId must be a UUID, got 'not-a-uuid'"),
        (trigger_path(ws=WS.replace("-", "")), None, {}, "workspaceId must be a UUID"),
        (trigger_path(element_type="file"), None, {}, "elementType must be one of COLUMN, FILE"),
        (trigger_path(element_type="ROW"), None, {}, "elementType must be one of"),
        (None, "extractOnlyNew=yes", {}, "extractOnlyNew must be 'true' or 'false', got 'yes'"),
        (None, "extractOnlyNew=TRUE", {}, "extractOnlyNew must be 'true' or 'false'"),
        (None, "extractOnlyNew=", {}, "extractOnlyNew must be 'true' or 'false', got ''"),
        (None, None, {"json": [1, 2]}, "Request body must be a JSON object"),
        (None, None, {"json": "text"}, "Request body must be a JSON object"),
        (None, None, {"data": b"{not json"}, "Request body is not valid JSON"),
        (None, None, {"data": b'{"selectAll": NaN}'}, "Request body is not valid JSON"),
        (None, None, {"json": {"rows": {"id": 1}}}, "rows must be a list of JSON objects"),
        (None, None, {"json": {"rows": [1, 2]}}, "rows must be a list of JSON objects"),
        (None, None, {"json": {"whereClause": 5}}, "whereClause must be a string"),
        (None, None, {"json": {"selectAll": "true"}}, "selectAll must be a boolean"),
        (None, None, {"json": {"selectAll": False}}, "rows must be a non-empty list"),
        (None, None, {"json": {"selectAll": False, "rows": []}}, "rows must be a non-empty list"),
    ],
)
def test_rejections(
    emulator: Emulator, post, path: str | None, query: str | None, kwargs: dict, message: str
) -> None:
    response = post(path=path, query=query, **kwargs)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["message"].startswith(message)
    assert emulator.jobs == {}
    [record] = emulator.requests()
    assert record["status"] == 400
    assert record["request_id"] is None


def test_body_too_large_is_413_and_connection_stays_usable(emulator: Emulator, post) -> None:
    emulator.configure(max_body_bytes=100)
    big = {"selectAll": False, "rows": [{"id": "x" * 200}]}
    response = post(json=big)

    assert response.status_code == 413
    size = len(json.dumps(big).encode())
    assert response.json() == {
        "message": f"Request body of {size} bytes exceeds the limit of 100 bytes"
    }
    [record] = emulator.requests()
    assert (record["status"], record["body_bytes"], record["body"]) == (413, size, None)
    assert post(json={"selectAll": True}).status_code == 200


def test_default_body_limit_is_16_mib(emulator: Emulator) -> None:
    assert emulator.settings["max_body_bytes"] == 16 * 1024 * 1024


def test_chunked_body_is_read(emulator: Emulator, post) -> None:
    chunks = [b'{"selectAll": false, ', b'"rows": [{"id": "r1"}]}']
    response = post(data=iter(chunks))
    assert response.status_code == 200
    [record] = emulator.requests()
    assert record["headers"]["transfer-encoding"] == "chunked"
    assert record["body"] == {"selectAll": False, "rows": [{"id": "r1"}]}


@pytest.mark.parametrize(
    ("shape", "content_type", "expected"),
    [
        ("requestId", "application/json", {"requestId": "ID", "status": "QUEUED"}),
        ("request_id", "application/json", {"request_id": "ID", "status": "QUEUED"}),
        ("id", "application/json", {"id": "ID", "status": "QUEUED"}),
        ("data.requestId", "application/json", {"data": {"requestId": "ID", "status": "QUEUED"}}),
        ("result.id", "application/json", {"result": {"id": "ID", "status": "QUEUED"}}),
        ("none", "application/json", {}),
        ("empty", None, None),
        ("text", "text/plain; charset=utf-8", "OK"),
    ],
)
def test_response_shapes(
    emulator: Emulator, post, shape: str, content_type: str | None, expected: Any
) -> None:
    emulator.configure(response_shape=shape)
    response = post()

    assert response.status_code == 200
    assert response.headers.get("Content-Type") == content_type
    [job_id] = emulator.jobs  # a job starts whatever the shape
    [record] = emulator.requests()
    assert record["job_id"] == job_id
    if shape == "empty":
        assert response.content == b""
        assert response.headers["Content-Length"] == "0"
        assert record["request_id"] is None
    elif shape == "text":
        assert response.text == "OK"
        assert record["request_id"] is None
    else:
        expected = json.loads(json.dumps(expected).replace('"ID"', json.dumps(job_id)))
        expected["message"] = "Extraction triggered"
        assert response.json() == expected
        assert record["request_id"] == (None if shape == "none" else job_id)


def test_unknown_response_shape_rejected(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="response_shape must be one of"):
        emulator.configure(response_shape="requestID")


def test_unknown_extraction_is_404(emulator: Emulator, post) -> None:
    emulator.configure(extractions=["ex-1"])
    assert post(path=trigger_path(extraction="ex-1")).status_code == 200

    response = post(path=trigger_path(extraction="ex-2"))
    assert response.status_code == 404
    assert response.json() == {"message": f"Extraction ex-2 not found in workspace {WS}"}
    assert len(emulator.jobs) == 1


def test_unknown_route_and_wrong_method(emulator: Emulator, http: requests.Session) -> None:
    response = http.get(emulator.url + "/noCo/api/v2/nothing", headers=AUTH)
    assert response.status_code == 404
    assert "No route" in response.json()["message"]

    response = http.get(emulator.url + trigger_path(), headers=AUTH)
    assert (response.status_code, response.headers["Allow"]) == (405, "POST")
    response = http.post(emulator.url + status_path("x"), headers=AUTH)
    assert (response.status_code, response.headers["Allow"]) == (405, "GET")


# --- Auth ------------------------------------------------------------------------------------


def test_x_auth_token_accepted(emulator: Emulator, post) -> None:
    response = post(headers={"x-auth-token": TOKEN})
    assert response.status_code == 200
    [record] = emulator.requests()
    assert record["auth"] == {"scheme": "x-auth-token", "token_sha256": sha(TOKEN), "valid": True}
    assert "x-auth-token" not in record["headers"]


@pytest.mark.parametrize(
    ("headers", "scheme", "token"),
    [
        ({}, None, None),
        ({"Authorization": "Bearer wrong"}, "bearer", "wrong"),
        ({"Authorization": "Bearer "}, "bearer", None),
        ({"x-auth-token": "wrong"}, "x-auth-token", "wrong"),
        ({"Authorization": "Basic dGVzdC10b2tlbjo="}, "basic", None),
        ({"Authorization": TOKEN}, TOKEN, None),  # token without a scheme
    ],
)
def test_missing_or_invalid_token_is_401(
    emulator: Emulator, post, headers: dict, scheme: str | None, token: str | None
) -> None:
    response = post(headers=headers, json={"selectAll": True})

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or missing token"}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="datagol-emulator"')
    assert emulator.jobs == {}
    [record] = emulator.requests()
    assert record["auth"] == {
        "scheme": scheme,
        "token_sha256": sha(token) if token else None,
        "valid": False,
    }
    assert record["status"] == 401


def test_poll_needs_auth_too(emulator: Emulator, post, http: requests.Session) -> None:
    request_id = post().json()["requestId"]
    assert http.get(emulator.url + status_path(request_id)).status_code == 401


def test_no_tokens_accepts_anything(emulator: Emulator, post) -> None:
    emulator.configure(tokens=None)
    assert post(headers={}).status_code == 200
    emulator.configure(tokens=[])
    assert post(headers={"Authorization": "Bearer whatever"}).status_code == 200
    first, second = emulator.requests()
    assert first["auth"] == {"scheme": None, "token_sha256": None, "valid": True}
    assert second["auth"]["valid"] is True


def test_several_static_tokens(emulator: Emulator, post) -> None:
    emulator.configure(tokens=["a", "b"])
    assert post(headers={"Authorization": "Bearer b"}).status_code == 200
    assert post(headers=AUTH).status_code == 401


# --- Poll Status -----------------------------------------------------------------------------


def test_poll_progression(emulator: Emulator, post, poll) -> None:
    emulator.configure(job_seconds=0.6)
    started = time.monotonic()
    request_id = post().json()["requestId"]

    def poll_at(offset: float) -> dict:
        time.sleep(max(0.0, started + offset - time.monotonic()))
        response = poll(request_id)
        assert response.status_code == 200
        return response.json()

    queued = poll_at(0.0)  # first third: QUEUED
    assert queued["requestId"] == request_id
    assert queued["status"] == "QUEUED"
    assert queued["message"] == "Extraction queued"
    assert ISO.match(queued["startedAt"])
    assert queued["finishedAt"] is None
    assert emulator.jobs[request_id]["status"] == "QUEUED"

    running = poll_at(0.35)
    assert (running["status"], running["finishedAt"]) == ("RUNNING", None)

    done = poll_at(0.7)
    assert done["status"] == "COMPLETED"
    assert done["message"] == "Extraction completed"
    assert ISO.match(done["finishedAt"])
    assert done["startedAt"] == queued["startedAt"]
    assert set(done) == {"requestId", "status", "message", "startedAt", "finishedAt"}


def test_poll_default_is_final_immediately(post, poll) -> None:
    request_id = post().json()["requestId"]
    assert poll(request_id).json()["status"] == "COMPLETED"


def test_poll_records_request_id(emulator: Emulator, post, poll) -> None:
    request_id = post().json()["requestId"]
    poll(request_id)
    [record] = emulator.requests(method="GET")
    assert (record["status"], record["request_id"], record["job_id"]) == (200, request_id, None)
    assert record["segments"][-1] == request_id


def test_poll_unknown_request_is_404(poll) -> None:
    response = poll("does-not-exist")
    assert response.status_code == 404
    assert response.json() == {"message": "Request does-not-exist not found"}


def test_failing_extraction(emulator: Emulator, post, poll) -> None:
    emulator.configure(failing_extractions=["ex-bad"])
    bad = post(path=trigger_path(extraction="ex-bad")).json()["requestId"]
    good = post().json()["requestId"]

    assert poll(bad).json()["status"] == "FAILED"
    assert poll(bad).json()["message"] == "Extraction failed: simulated failure"
    assert poll(good).json()["status"] == "COMPLETED"

    emulator.configure(failure_reason="quota exceeded")
    bad2 = post(path=trigger_path(extraction="ex-bad")).json()["requestId"]
    assert poll(bad2).json()["message"] == "Extraction failed: quota exceeded"


def test_job_seconds_by_extraction(emulator: Emulator, post, poll) -> None:
    emulator.configure(job_seconds=0.0, job_seconds_by_extraction={"ex-slow": 30})
    slow = post(path=trigger_path(extraction="ex-slow")).json()["requestId"]
    fast = post().json()["requestId"]
    assert poll(slow).json()["status"] == "QUEUED"
    assert poll(fast).json()["status"] == "COMPLETED"
    assert emulator.jobs[slow]["duration"] == 30.0


def test_status_field_renamed(emulator: Emulator, post, poll) -> None:
    emulator.configure(status_field="state")
    body = poll(post().json()["requestId"]).json()
    assert body["state"] == "COMPLETED"
    assert "status" not in body


# --- Faults ----------------------------------------------------------------------------------


def test_fault_with_retry_after_and_fifo_counts(emulator: Emulator, post) -> None:
    emulator.add_fault(status=503, count=2, retry_after=2)
    emulator.add_fault(status=429, retry_after=1)

    statuses = []
    for _ in range(4):
        response = post(json={"selectAll": True})
        statuses.append((response.status_code, response.headers.get("Retry-After")))
        if response.status_code != 200:
            assert response.json() == {"message": f"Injected fault {response.status_code}"}
    assert statuses == [(503, "2"), (503, "2"), (429, "1"), (200, None)]
    assert [r["fault"] for r in emulator.requests()] == [True, True, True, False]
    assert [r["status"] for r in emulator.requests()] == [503, 503, 429, 200]
    assert len(emulator.jobs) == 1  # faulted requests start no job
    assert emulator.faults() == []


def test_fault_without_retry_after_has_no_header(post, emulator: Emulator) -> None:
    emulator.add_fault(status=500)
    response = post()
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


def test_fault_custom_body_and_content_type(emulator: Emulator, post) -> None:
    emulator.add_fault(status=502, body="<html>Bad gateway</html>", content_type="text/html")
    response = post()
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert response.text == "<html>Bad gateway</html>"


def test_fault_matches_path_and_method(emulator: Emulator, post, poll) -> None:
    emulator.add_fault(status=500, path_contains="/requestLog/", method="get")
    request_id = post().json()["requestId"]  # POST to another path: not faulted
    assert poll(request_id).status_code == 500
    assert poll(request_id).status_code == 200


def test_clear_faults(emulator: Emulator, post) -> None:
    emulator.add_fault(status=503, count=5)
    emulator.clear_faults()
    assert post().status_code == 200


def test_invalid_fault_rejected(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.add_fault(status=None)  # would do nothing
    with pytest.raises(ValueError):
        emulator.add_fault(count=0)
    with pytest.raises(ValueError):
        emulator.add_fault(retry_after="1\r\nX-Forged: yes")


def test_delay_fault_causes_read_timeout_after_request_received(emulator: Emulator, post) -> None:
    emulator.add_fault(status=None, delay=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        post(json={"selectAll": True}, timeout=0.15)

    [record] = emulator.requests()  # recorded on arrival, before the delay
    assert record["fault"] is True
    # After the delay the request is handled normally: the job was started server-side.
    assert wait_for(lambda: emulator.requests()[0]["status"] == 200)
    assert len(emulator.jobs) == 1


def test_close_fault_drops_connection(emulator: Emulator, post) -> None:
    emulator.add_fault(close=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        post(json={"selectAll": True})
    [record] = emulator.requests()
    assert (record["fault"], record["status"], record["body"]) == (True, None, {"selectAll": True})
    assert emulator.jobs == {}
    assert post().status_code == 200  # the client reconnects


def test_global_latency(emulator: Emulator, post) -> None:
    emulator.configure(latency=0.2)
    started = time.monotonic()
    assert post().status_code == 200
    assert time.monotonic() - started >= 0.2


# --- OAuth -----------------------------------------------------------------------------------

OAUTH = {
    "oauth_client_id": "client-1",
    "oauth_client_secret": "client-secret",
    "oauth_refresh_token": "refresh-1",
}


def token_request(
    emulator: Emulator, http: requests.Session, auth: tuple[str, str] | None = None, **form: str
) -> requests.Response:
    return http.post(emulator.url + "/oauth/token", data=form, auth=auth, timeout=5)


def valid_form(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "client-1",
        "client_secret": "client-secret",
    }
    form.update(overrides)
    return form


def test_oauth_refresh_and_use(emulator: Emulator, http: requests.Session, post) -> None:
    emulator.configure(**OAUTH)
    response = token_request(emulator, http, **valid_form())

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"], body["refresh_token"]) == (
        "Bearer",
        3600,
        "refresh-1",
    )
    access = body["access_token"]
    assert post(headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert post(headers={"x-auth-token": access}).status_code == 200
    assert post(headers=AUTH).status_code == 200  # static tokens still work

    token_record = emulator.requests(path_contains="/oauth/token")[0]
    assert token_record["body"] == {
        "grant_type": "refresh_token",
        "refresh_token_sha256": sha("refresh-1"),
        "client_id": "client-1",
        "client_secret_sha256": sha("client-secret"),
    }
    assert token_record["auth"] == {"scheme": None, "token_sha256": None, "valid": True}
    assert token_record["status"] == 200
    dumped = json.dumps(emulator.requests())
    for secret in ("refresh-1", "client-secret", access):
        assert secret not in dumped


def test_oauth_basic_client_auth(emulator: Emulator, http: requests.Session) -> None:
    emulator.configure(**OAUTH, oauth_expires_in=60)
    form = {"grant_type": "refresh_token", "refresh_token": "refresh-1"}
    response = token_request(emulator, http, auth=("client-1", "client-secret"), **form)
    assert response.status_code == 200
    assert response.json()["expires_in"] == 60
    [record] = emulator.requests()
    assert record["auth"] == {
        "scheme": "basic",
        "token_sha256": sha("client-secret"),
        "valid": True,
    }
    assert "authorization" not in record["headers"]


def test_oauth_bad_client_secret(emulator: Emulator, http: requests.Session) -> None:
    emulator.configure(**OAUTH)
    response = token_request(emulator, http, **valid_form(client_secret="nope"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in response.headers

    basic = ("client-1", "nope")
    form = {"grant_type": "refresh_token", "refresh_token": "refresh-1"}
    assert token_request(emulator, http, auth=basic, **form).status_code == 401
    assert [r["auth"]["valid"] for r in emulator.requests()] == [False, False]


def test_oauth_bad_refresh_token(emulator: Emulator, http: requests.Session) -> None:
    emulator.configure(**OAUTH)
    response = token_request(emulator, http, **valid_form(refresh_token="stolen"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "authorization_code", "code": "c"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": ""}, "invalid_request"),
    ],
)
def test_oauth_request_errors(
    emulator: Emulator, http: requests.Session, form: dict, error: str
) -> None:
    emulator.configure(**OAUTH)
    response = token_request(
        emulator, http, **{"client_id": "client-1", "client_secret": "client-secret", **form}
    )
    assert (response.status_code, response.json()["error"]) == (400, error)


def test_oauth_json_body_rejected(emulator: Emulator, http: requests.Session) -> None:
    emulator.configure(**OAUTH)
    response = http.post(emulator.url + "/oauth/token", json=valid_form())
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")
    [record] = emulator.requests()
    assert record["body"]["client_secret_sha256"] == sha("client-secret")
    assert "client-secret" not in json.dumps(record)


def test_oauth_not_configured(emulator: Emulator, http: requests.Session) -> None:
    response = token_request(emulator, http, **valid_form())
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_oauth_revoke_forces_refresh(emulator: Emulator, http: requests.Session, post) -> None:
    emulator.configure(**OAUTH)
    first = token_request(emulator, http, **valid_form()).json()["access_token"]
    assert post(headers={"Authorization": f"Bearer {first}"}).status_code == 200

    assert emulator.revoke_access_tokens() == 1
    response = post(headers={"Authorization": f"Bearer {first}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    second = token_request(emulator, http, **valid_form()).json()["access_token"]
    assert second != first
    assert post(headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_oauth_configured_enforces_auth_without_static_tokens(
    emulator: Emulator, http: requests.Session, post
) -> None:
    emulator.configure(tokens=None, **OAUTH)
    assert post(headers={}).status_code == 401


def test_oauth_token_expires(emulator: Emulator, http: requests.Session, post) -> None:
    emulator.configure(**OAUTH, oauth_expires_in=0)
    access = token_request(emulator, http, **valid_form()).json()["access_token"]
    assert post(headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_oauth_client_credentials_grant(emulator: Emulator, http: requests.Session, post) -> None:
    emulator.configure(oauth_client_id="client-1", oauth_client_secret="client-secret")
    form = {"grant_type": "client_credentials", "client_id": "client-1"}
    response = token_request(emulator, http, client_secret="client-secret", **form)
    assert response.status_code == 200
    body = response.json()
    # RFC 6749 4.4.3: no refresh token for this grant.
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert post(headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200
    basic = token_request(emulator, http, auth=("client-1", "client-secret"), **form)
    assert basic.status_code == 200
    wrong = token_request(emulator, http, client_secret="nope", **form)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    record = emulator.requests(path_contains="/oauth/token")[0]
    assert record["body"] == {
        "grant_type": "client_credentials",
        "client_id": "client-1",
        "client_secret_sha256": sha("client-secret"),
    }
    assert "client-secret" not in json.dumps(emulator.requests())


def test_oauth_client_credentials_need_a_configured_client(
    emulator: Emulator, http: requests.Session
) -> None:
    # A refresh token alone configures no client identity that could be checked.
    emulator.configure(oauth_refresh_token="refresh-1")
    response = token_request(emulator, http, grant_type="client_credentials", client_id="x")
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


def test_oauth_rotating_refresh_tokens(emulator: Emulator, http: requests.Session) -> None:
    emulator.configure(**OAUTH, oauth_rotate_refresh_tokens=True)
    first = token_request(emulator, http, **valid_form()).json()
    assert first["refresh_token"] != "refresh-1"
    # The token just used is spent; the rotated one works once, and so on.
    reused = token_request(emulator, http, **valid_form())
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    second = token_request(emulator, http, **valid_form(refresh_token=first["refresh_token"]))
    assert second.status_code == 200
    assert second.json()["refresh_token"] not in (first["refresh_token"], "refresh-1")
    emulator.reset()  # back to the configured token, rotation off
    emulator.configure(**OAUTH)
    assert token_request(emulator, http, **valid_form()).status_code == 200


def test_verbose_log_never_prints_a_secret(capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator(tokens=["static-SECRET"], verbose=True, **OAUTH) as emu:
        session = requests.Session()
        session.trust_env = False
        access = session.post(emu.url + "/oauth/token", data=valid_form(), timeout=5).json()[
            "access_token"
        ]
        for token in ("static-SECRET", access):
            session.post(
                emu.url + trigger_path() + f"?token={token}",
                headers={"Authorization": f"Bearer {token}", "x-auth-token": token},
                timeout=5,
            )
        session.close()
    log = capfd.readouterr().err
    assert log.count("datagol-emulator: POST") == 3
    for secret in ("static-SECRET", access, "refresh-1", "client-secret"):
        assert secret not in log


# --- settings and in-process API -------------------------------------------------------------


def test_configure_rejects_unknown_and_bad_values(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="Unknown setting.*job_secs.*valid settings: tokens"):
        emulator.configure(job_secs=1)
    with pytest.raises(ValueError, match="job_seconds must be a non-negative number"):
        emulator.configure(job_seconds=-1)
    with pytest.raises(ValueError, match="tokens must be a list of strings"):
        emulator.configure(tokens="test-token")
    with pytest.raises(ValueError):
        Emulator(nonsense=True)
    assert emulator.settings["tokens"] == [TOKEN]  # nothing changed


def test_copies_are_returned(emulator: Emulator, post) -> None:
    request_id = post().json()["requestId"]
    emulator.requests()[0]["status"] = 999
    emulator.jobs[request_id]["status"] = "X"
    emulator.settings["tokens"].append("sneaky")
    assert emulator.requests()[0]["status"] == 200
    assert emulator.jobs[request_id]["status"] == "COMPLETED"
    assert emulator.settings["tokens"] == [TOKEN]


def test_requests_filter_and_clear(emulator: Emulator, post, poll) -> None:
    poll(post().json()["requestId"])
    assert [r["method"] for r in emulator.requests(method="post")] == ["POST"]
    assert [r["method"] for r in emulator.requests(path_contains="requestLog")] == ["GET"]
    emulator.clear_requests()
    assert emulator.requests() == []


def test_concurrent_requests_are_all_recorded(emulator: Emulator) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        with requests.Session() as session:
            session.trust_env = False
            for _ in range(20):
                try:
                    url = emulator.url + trigger_path()
                    assert session.post(url, headers=AUTH, timeout=5).status_code == 200
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records = emulator.requests()
    assert sorted(r["seq"] for r in records) == list(range(1, 161))
    assert len({r["request_id"] for r in records}) == 160
    assert len(emulator.jobs) == 160


def test_stop_and_restart_on_same_port(emulator: Emulator, http: requests.Session, post) -> None:
    url = emulator.url
    assert post().status_code == 200
    emulator.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        post()
    emulator.start()
    assert emulator.url == url
    assert post().status_code == 200
    assert len(emulator.requests()) == 2  # state survives a restart


def test_non_loopback_host_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")


def test_responses_go_out_in_one_write(emulator: Emulator, post) -> None:
    """Guard against the delayed-ACK regression (~40 ms per kept-alive request)."""
    assert post().status_code == 200  # connect outside the measurement
    started = time.perf_counter()
    for _ in range(50):
        assert post(json={"selectAll": True}).status_code == 200
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"50 keep-alive POSTs took {elapsed:.3f}s"


# --- control API -----------------------------------------------------------------------------


def test_control_client(emulator: Emulator, http: requests.Session, post) -> None:
    control = EmulatorControl(emulator.url)
    assert control.health() is True

    settings = control.configure(job_seconds=30, failing_extractions=["ex-9"])
    assert settings["job_seconds"] == 30.0
    assert settings["tokens"] == ["sha256:" + sha(TOKEN)]  # secrets are not echoed
    assert control.settings == settings
    assert emulator.settings["failing_extractions"] == ["ex-9"]

    control.add_fault(status=503, retry_after=3, path_contains="/run")
    assert control.faults()[0]["status"] == 503
    response = post()
    assert (response.status_code, response.headers["Retry-After"]) == (503, "3")
    request_id = post().json()["requestId"]
    assert control.jobs[request_id]["status"] == "QUEUED"
    # A job that would run 30 s ends now, with its final status; a finished one stays as is.
    assert control.finish_jobs() == 1
    assert control.jobs[request_id]["status"] == "COMPLETED"
    assert control.finish_jobs() == 0

    recorded = control.requests()
    assert [r["status"] for r in recorded] == [503, 200]
    assert [r["fault"] for r in control.requests(path_contains="/run", method="POST")] == [
        True,
        False,
    ]
    assert control.requests(method="GET") == []  # control calls are not recorded
    control.clear_requests()
    assert control.requests() == []

    control.add_fault(status=500, count=3)
    control.clear_faults()
    assert post().status_code == 200

    emulator.configure(**OAUTH)
    token_request(emulator, http, **valid_form())
    assert control.revoke_access_tokens() == 1

    with pytest.raises(ValueError, match="Unknown setting"):
        control.configure(bogus=1)
    with pytest.raises(ValueError, match="Unknown fault field"):
        control._call("POST", "/_emulator/faults", {"statsu": 500})

    control.reset()
    assert emulator.requests() == [] and emulator.jobs == {}
    assert emulator.settings["job_seconds"] == 0.0


def test_control_api_over_raw_http(emulator: Emulator, http: requests.Session) -> None:
    base = emulator.url + "/_emulator"
    assert http.get(base + "/health").json() == {"ok": True}
    response = http.post(base + "/config", json={"nope": 1})
    assert response.status_code == 400
    assert "valid settings: tokens" in response.json()["message"]
    assert http.post(base + "/faults", json={"status": 418}).status_code == 200
    assert http.delete(base + "/faults").status_code == 200
    assert http.post(base + "/revoke").json() == {"ok": True, "revoked": 0}
    assert http.delete(base + "/requests").status_code == 200
    assert http.get(base + "/nothing").status_code == 404
    assert http.put(base + "/health").status_code == 405


def test_control_health_false_when_unreachable() -> None:
    with Emulator() as emu:
        url = emu.url
    assert EmulatorControl(url, timeout=1).health() is False


# --- CLI -------------------------------------------------------------------------------------


def test_cli_runs_until_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "emulator.port"
    env = {**os.environ, "DATAGOL_EMULATOR_TOKEN": "env-token"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datagol_pulumi.emulator",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--token",
            "cli-token",
            "--job-seconds",
            "30",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert wait_for(port_file.exists, timeout=10)
        port = int(port_file.read_text())
        assert line == f"DataGOL emulator listening on http://127.0.0.1:{port}\n"
        url = f"http://127.0.0.1:{port}"
        control = EmulatorControl(url)
        assert control.health() is True
        assert control.settings["job_seconds"] == 30.0

        with requests.Session() as session:
            session.trust_env = False
            for token in ("cli-token", "env-token"):
                headers = {"Authorization": f"Bearer {token}"}
                assert session.post(url + trigger_path(), headers=headers).status_code == 200
            assert session.post(url + trigger_path()).status_code == 401
        assert [r["auth"]["token_sha256"] for r in control.requests()] == [
            sha("cli-token"),
            sha("env-token"),
            None,
        ]

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert not port_file.exists()
        assert "env-token" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_refuses_non_loopback_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--host", "0.0.0.0"]) == 2
    assert "loopback only" in capsys.readouterr().err
