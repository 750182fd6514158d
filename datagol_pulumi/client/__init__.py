"""The DataGOL HTTP client, in three layers: ``transport`` (a requests session whose resends
urllib3's Retry decides), ``failures`` (every failure mapped to the errors.py tree) and ``api``
(the DataGOL calls), plus ``credentials`` (static token or OAuth access token)."""

from .api import USER_AGENT, DataGolClient, RunStatus, TriggerResult, find_request_id, utc_now
from .failures import MAX_MESSAGE_CHARS
from .transport import MAX_RESPONSE_BYTES

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
