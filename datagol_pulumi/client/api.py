"""The DataGOL calls: Trigger Extraction, Poll Status, and waiting for a run to finish."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import requests

from .._version import __version__
from ..config import Settings
from ..errors import DataGolError
from ..payload import TriggerRequest, status_path
from .credentials import Credentials
from .failures import MESSAGE_KEYS, api_error, find_text, reply_json, scopes
from .masking import MASK, mask, mask_error
from .transport import Reply, Transport

USER_AGENT = f"datagol-pulumi/{__version__} python-requests/{requests.__version__}"
_ID_KEYS = ("requestId", "request_id", "id")


@dataclass(frozen=True)
class TriggerResult:
    """What Trigger Extraction answered. Its body is undocumented, so every field may be None."""

    request_id: str | None
    status: str | None
    message: str | None


@dataclass(frozen=True)
class RunStatus:
    """One Poll Status answer, classified with the configured status sets."""

    request_id: str
    status: str | None
    #: "succeeded", "failed" or "pending" (anything neither final nor known).
    outcome: str
    message: str | None

    @property
    def final(self) -> bool:
        return self.outcome != "pending"


def utc_now() -> str:
    """The current time as UTC ISO-8601 with a Z, the form of every timestamp output."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def find_request_id(payload: Any) -> str | None:
    """The request id from a Trigger Extraction answer, at the top or under data/result."""
    for scope in scopes(payload):
        for key in _ID_KEYS:
            value = scope.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


class DataGolClient:
    """A small client for Trigger Extraction and Poll Status.

    Thread-safe: the provider's gRPC server calls it from several threads at once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        pool_size: int = 32,
    ) -> None:
        self.settings = settings
        self._transport = Transport(
            settings, user_agent=USER_AGENT, session=session, pool_size=pool_size
        )
        self._credentials = Credentials(settings, self._transport)

    def close(self) -> None:
        self._transport.close()

    def trigger(self, request: TriggerRequest, *, target: str = "") -> TriggerResult:
        """POST one Trigger Extraction request; never resent once it may have started a job.

        ``target`` names the workspace, extraction and element for a 404 message.
        """
        reply = self._request(
            "POST",
            request.path,
            params=request.query,
            data=request.data,
            headers={"Content-Type": "application/json"},
            not_found=target or request.path,
        )
        payload = reply_json(reply)
        status = find_text(payload, ("status", "state"))
        message = find_text(payload, MESSAGE_KEYS)
        request_id = find_request_id(payload)
        return TriggerResult(
            request_id=request_id,
            status=status.upper() if status else None,
            message=self._scrub(message) if message else None,
        )

    def poll_status(self, request_id: str) -> RunStatus:
        """GET Poll Status once (resent on transient failures) and classify the answer.

        Its messages are masked with the run's recorded fragments by the caller
        (``masking(recorded_fragments(run))``): a poll may come from any later process.
        """
        reply = self._request("GET", status_path(request_id), not_found=f"request id {request_id}")
        payload = reply_json(reply)
        fields = dict.fromkeys((self.settings.status_field, "status", "state"))
        raw = find_text(payload, tuple(fields))
        status = raw.upper() if raw else None
        if status in self.settings.success_statuses:
            outcome = "succeeded"
        elif status in self.settings.failure_statuses:
            outcome = "failed"
        else:
            outcome = "pending"
        message = find_text(payload, MESSAGE_KEYS)
        return RunStatus(request_id, status, outcome, self._scrub(message) if message else None)

    def wait_for_run(
        self,
        request_id: str,
        *,
        poll_interval: float,
        timeout: float,
        stop: Callable[[], bool] | None = None,
        sleep: Callable[[float], object] = time.sleep,
        seen: Callable[[RunStatus], object] | None = None,
    ) -> tuple[RunStatus, bool]:
        """Poll until a final status or ``timeout`` seconds, or until ``stop()`` says to;
        returns (last status, whether it ended without a final status). ``sleep`` waits
        between polls (a wait that can be stopped returns from it early); ``seen`` is told
        each status read."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.poll_status(request_id)
            if seen is not None:
                seen(status)
            remaining = deadline - time.monotonic()
            if status.final:
                return status, False
            if remaining <= 0 or (stop is not None and stop()):
                return status, True
            sleep(min(poll_interval, remaining))
            if stop is not None and stop():  # stopped while asleep: no further read
                return status, True

    def _request(
        self,
        method: str,
        path: str,
        *,
        not_found: str,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        # The query is encoded here once, not by requests on every attempt.
        url = self.settings.base_url + path + (f"?{urlencode(params)}" if params else "")
        try:
            reply, auth = self._send(method, url, data, headers)
            if reply.status == 401 and self._credentials.renewable:
                # An expired access token: the request was refused, so resending is safe.
                self._credentials.renew(auth)
                reply, _ = self._send(method, url, data, headers)
            if 200 <= reply.status < 300:
                return reply
            raise api_error(
                self.settings, method, url, reply, not_found=not_found, scrub=self._scrub
            )
        except DataGolError as exc:
            # Every message built for this request (the server's, the path's ids, the OAuth
            # endpoint's) leaves without the run's secret input values.
            mask_error(exc)
            raise

    def _send(
        self, method: str, url: str, data: bytes | None, headers: Mapping[str, str] | None
    ) -> tuple[Reply, dict[str, str]]:
        """The reply, and the auth headers it was sent with (a 401 renews just that token)."""
        auth = self._credentials.headers()
        reply = self._transport.send(method, url, data=data, headers={**(headers or {}), **auth})
        return reply, auth

    def _scrub(self, text: str) -> str:
        for secret in self._credentials.secrets():
            text = text.replace(secret, MASK)
        return mask(text)
