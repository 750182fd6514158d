"""The DataGOL HTTP client, in three layers: ``transport`` (a requests session whose resends
urllib3's Retry decides, on connections that record whether a request's bytes left:
``tracking``), ``failures`` (every failure mapped to the errors.py tree, the one place that
decides whether a job may have started) and ``api`` (the DataGOL calls), plus ``credentials``
(static token or OAuth access token) and ``reply`` (a capped response). Imports go one way:
api -> transport -> failures -> reply."""

from .api import USER_AGENT, DataGolClient, RunStatus, TriggerResult, find_request_id, utc_now
from .failures import MAX_MESSAGE_CHARS
from .reply import MAX_RESPONSE_BYTES

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_RESPONSE_BYTES",
    "USER_AGENT",
    "DataGolClient",
    "RunStatus",
    "TriggerResult",
    "find_request_id",
    "utc_now",
]
