"""A response read with a size cap: what the transport hands back and the failures module reads.

Its own module so that ``failures`` (which classifies) needs nothing from ``transport`` (which
sends): the imports go one way, transport -> failures -> reply.
"""

from __future__ import annotations

import requests

#: Replies above this are not read further: nothing sane the API sends is this large.
MAX_RESPONSE_BYTES = 1024 * 1024


class Reply:
    """A response whose body was read with a size cap."""

    def __init__(self, response: requests.Response, body: bytes, truncated: bool) -> None:
        self.status = response.status_code
        self.headers = response.headers
        self.body = body
        self.truncated = truncated
        retries = getattr(response.raw, "retries", None)
        #: How many times the request was sent, resends included.
        self.attempts = len(retries.history) + 1 if retries is not None else 1


def read_capped(response: requests.Response) -> Reply:
    """Read the body, at most MAX_RESPONSE_BYTES of it; an unreadable body reads as empty."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                response.close()  # stop reading; the connection is not reused
                break
    except requests.exceptions.RequestException:
        # The status line arrived; an unreadable body is handled like an empty one.
        response.close()
        chunks, size = [], 0
    body = b"".join(chunks)
    return Reply(response, body[:MAX_RESPONSE_BYTES], size > MAX_RESPONSE_BYTES)


__all__ = ["MAX_RESPONSE_BYTES", "Reply", "read_capped"]
