"""The DataGOL side of the emulator: record, inject faults, check credentials, answer."""

from __future__ import annotations

import time
import urllib.parse
from typing import TYPE_CHECKING

from .common import HttpError
from .extractions import ExtractionStore, Refused
from .listing import list_extractions
from .oauth import basic_auth, no_auth, redacted_token_body
from .records import recorded_body, recorded_headers

if TYPE_CHECKING:
    from .handler import Handler
    from .server import Emulator


def serve_api(handler: Handler, emulator: Emulator, raw_path: str, raw_query: str) -> int | None:
    """Answer one API request; returns the status sent, or None when the connection dropped."""
    # Split the RAW path first: an element id may contain an encoded "/" (%2F).
    segments = [urllib.parse.unquote(s) for s in raw_path.split("/")[1:]]
    query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    headers = recorded_headers(handler.headers.items())
    is_token_endpoint = raw_path.rstrip("/") == "/oauth/token"
    settings = emulator.settings_snapshot()

    try:
        data, body_bytes = handler.read_body(settings["max_body_bytes"])
    except HttpError as exc:
        record = emulator.request_log.arrived(
            handler.command, raw_path, segments, query, headers, no_auth(), None, 0
        )
        return handler.respond(record, exc.status, {"message": exc.message}, close=True)

    if is_token_endpoint:
        auth, client = basic_auth(handler.headers.get("Authorization"))
        shown_body = redacted_token_body(data, headers.get("content-type", ""))
    else:
        client = None
        auth = emulator.token_issuer.check(handler.headers, settings)
        shown_body = recorded_body(data)
    record = emulator.request_log.arrived(
        handler.command, raw_path, segments, query, headers, auth, shown_body, body_bytes
    )

    if settings["latency"]:
        time.sleep(settings["latency"])
    fault = emulator.fault_queue.take(handler.command, raw_path)
    lost_answer = fault is not None and fault["after"]
    if fault is not None and not lost_answer:
        emulator.request_log.update(record, fault=True)
        if fault["delay"]:
            time.sleep(fault["delay"])
        if fault["close"]:
            # No response at all: the client sees the connection drop.
            handler.close_connection = True
            return None
        if fault["status"] is not None:
            extra = {}
            if fault["retry_after"] is not None:
                extra["Retry-After"] = str(fault["retry_after"])
            return handler.respond(
                record,
                fault["status"],
                fault["body"],
                content_type=fault["content_type"],
                headers=extra,
            )
        # Delay-only fault: handle normally after the delay, with current settings.
        settings = emulator.settings_snapshot()

    if data is None:
        limit = settings["max_body_bytes"]
        message = f"Request body of {body_bytes} bytes exceeds the limit of {limit} bytes"
        return handler.respond(record, 413, {"message": message})

    if is_token_endpoint:
        status, body, extra, client_ok = emulator.token_issuer.grant(
            handler.command, data, headers, client, settings
        )
        emulator.request_log.update(record, auth={**auth, "valid": client_ok})
        return handler.respond(record, status, body, headers=extra)

    if not auth["valid"]:
        challenge = 'Bearer realm="datagol-emulator"'
        if auth["token_sha256"]:
            challenge += ', error="invalid_token"'
        return handler.respond(
            record,
            401,
            {"message": "Invalid or missing token"},
            headers={"WWW-Authenticate": challenge},
        )

    if ExtractionStore.matches(handler.command, segments):
        try:
            status, body = emulator.extractions.route(handler.command, segments, data)
            if len(segments) == 8 and segments[7]:  # Get Extractions (route: GET only); seeds
                made = {c["id"] for c in body}
                body += [c for c in list_extractions(segments, settings) if c["id"] not in made]
        except Refused as exc:
            status, body = exc.status, exc.body
        except HttpError as exc:
            return handler.respond(
                record, exc.status, {"message": exc.message}, headers=exc.headers
            )
        if lost_answer:
            # Handled, then the connection drops: the client never learns what happened.
            emulator.request_log.update(record, fault=True, status=status)
            handler.close_connection = True
            return None
        return handler.respond(record, status, body)

    try:
        result = emulator.job_book.route(handler.command, segments, query, data, settings)
    except HttpError as exc:
        return handler.respond(record, exc.status, {"message": exc.message}, headers=exc.headers)
    status, body, content_type, returned_id, job_id = result
    return handler.respond(
        record,
        status,
        body,
        content_type=content_type,
        request_id=returned_id,
        job_id=job_id,
    )
