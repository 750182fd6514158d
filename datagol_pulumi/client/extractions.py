"""DataGOL's extraction configuration calls: Create, Update, Delete and Get Extractions.

They take the client's one request path (``DataGolClient._request``: credentials, resends,
error mapping, masking). Only the GET is resent on a transient failure (``ResendPolicy``): a
POST that may have reached DataGOL is never sent twice, and its caller looks for what it made
instead (:mod:`datagol_pulumi.extraction.lifecycle`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import ApiError, NotFoundError
from .failures import reply_json

if TYPE_CHECKING:
    from .api import DataGolClient

COLLECTION_PATH = "/noCo/api/v2/workspaces/{}/extraction"
ITEM_PATH = COLLECTION_PATH + "/{}"
ELEMENT_PATH = COLLECTION_PATH + "/{}/{}"
_JSON = {"Content-Type": "application/json"}


def _segment(value: str) -> str:
    # safe="": a "/" inside an element id must not add a path segment.
    return quote(str(value), safe="")


def element_path(workspace_id: str, element_type: str, element_id: str) -> str:
    return ELEMENT_PATH.format(*map(_segment, (workspace_id, element_type, element_id)))


def item_path(workspace_id: str, extraction_id: str) -> str:
    return ITEM_PATH.format(_segment(workspace_id), _segment(extraction_id))


def _body(dto: dict[str, Any]) -> bytes:
    return json.dumps(dto, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _dto(payload: Any, where: str) -> dict[str, Any]:
    # Some deployments wrap answers in {"data": ...}, as they wrap errors.
    if isinstance(payload, dict) and "id" not in payload and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    if not isinstance(payload, dict) or payload.get("id") in (None, ""):
        raise ApiError(
            f"DataGOL answered {where} without the configuration's id; its answer was not an "
            "ExtractionDTO",
            status=200,
        )
    return payload


def list_extractions(
    client: DataGolClient, workspace_id: str, element_type: str, element_id: str
) -> list[dict[str, Any]] | None:
    """Get Extractions of one element: its configurations, or None when DataGOL knows no such
    element (404)."""
    path = element_path(workspace_id, element_type, element_id)
    try:
        answer = element_configurations(client, workspace_id, element_type, element_id)
    except NotFoundError:
        return None
    items = listed_items(answer)
    if items is None:
        raise ApiError(
            f"DataGOL answered GET {path} with {type(answer).__name__}, not a list of "
            "extraction configurations",
            status=200,
        )
    return [item for item in items if isinstance(item, dict)]


#: Where a deployment that wraps its answers puts the list (the envelope of its errors).
LIST_KEYS = ("data", "content", "result")


def listed_items(payload: Any) -> list[Any] | None:
    """The list in an answer of Get Extractions: the answer itself, or the list under one of
    LIST_KEYS; None for any other shape. The one reading of the preview's check and of the
    lifecycle, so that what the preview accepts, ``up`` accepts too."""
    if isinstance(payload, dict):
        payload = next((payload[k] for k in LIST_KEYS if isinstance(payload.get(k), list)), None)
    return payload if isinstance(payload, list) else None


def element_configurations(
    client: DataGolClient, workspace_id: str, element_type: str, element_id: str
) -> Any:
    """Get Extractions of one element, as DataGOL answered it (the one request of this read,
    for the lifecycle here and the preview's check); raises the client's errors."""
    path = element_path(workspace_id, element_type, element_id)
    reply = client._request("GET", path, not_found=f"{element_type} element {element_id}")
    return reply_json(reply)


def create_extraction(
    client: DataGolClient, workspace_id: str, dto: dict[str, Any]
) -> dict[str, Any]:
    """Create Extraction: the stored configuration (with its new id). Never resent."""
    path = COLLECTION_PATH.format(_segment(workspace_id))
    reply = client._request(
        "POST", path, data=_body(dto), headers=_JSON, not_found=f"workspace {workspace_id}"
    )
    return _dto(reply_json(reply), f"POST {path}")


def update_extraction(
    client: DataGolClient, workspace_id: str, extraction_id: str, dto: dict[str, Any]
) -> dict[str, Any] | None:
    """Update Extraction (PUT of the whole declared configuration): the stored configuration
    ({} when DataGOL answered without one), or None when it is gone (404)."""
    path = item_path(workspace_id, extraction_id)
    try:
        reply = client._request(
            "PUT", path, data=_body(dto), headers=_JSON, not_found=f"extraction {extraction_id}"
        )
    except NotFoundError:
        return None
    payload = reply_json(reply)
    return _dto(payload, f"PUT {path}") if payload is not None else {}


def delete_extraction(client: DataGolClient, workspace_id: str, extraction_id: str) -> bool:
    """Delete Extraction; False when it was already gone (which counts as deleted)."""
    try:
        client._request(
            "DELETE",
            item_path(workspace_id, extraction_id),
            not_found=f"extraction {extraction_id}",
        )
    except NotFoundError:
        return False
    return True
