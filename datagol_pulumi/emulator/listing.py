"""Get Extractions: the extraction configurations of one element (read only, costs nothing).

GET ``/noCo/api/v2/workspaces/{workspaceId}/extraction/{elementType}/{elementId}`` answers an
array of ExtractionDTO (shared/datagol-api/NOTES.md). What the emulator lists for an element:

- its entry in ``element_extractions`` (``{"FILE/file-7781": [{"id": ..., "title": ...}]}``),
  when it has one;
- else, when ``extractions`` names the ids that exist, one configuration per id (the trigger
  accepts each of them for any element, so the listing says the same);
- else (every id exists) nothing: an empty array, as DataGOL answers an element without any.
"""

from __future__ import annotations

from typing import Any

from .common import ELEMENT_TYPES, HttpError
from .jobs import _is_canonical_uuid


def is_listing(method: str, segments: list[str]) -> bool:
    """Whether this is Get Extractions (only GET: the 8-segment path has no other method)."""
    return (
        method == "GET"
        and len(segments) == 8
        and segments[:4] == ["noCo", "api", "v2", "workspaces"]
        and segments[5] == "extraction"
        and bool(segments[7])
    )


def list_extractions(segments: list[str], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The body of Get Extractions, or an HttpError (400) for a malformed path."""
    workspace_id, element_type, element_id = segments[4], segments[6], segments[7]
    if not _is_canonical_uuid(workspace_id):
        raise HttpError(400, f"workspaceId must be a UUID, got {workspace_id!r}")
    if element_type not in ELEMENT_TYPES:
        raise HttpError(
            400, f"elementType must be one of {', '.join(ELEMENT_TYPES)}, got {element_type!r}"
        )
    declared = (settings.get("element_extractions") or {}).get(f"{element_type}/{element_id}")
    if declared is not None:
        listed = [dict(c) for c in declared]
    elif settings["extractions"] is not None:
        listed = [{"id": i, "title": f"Extraction {i}"} for i in settings["extractions"]]
    else:
        listed = []
    for configuration in listed:
        configuration.setdefault("workspaceId", workspace_id)
        configuration.setdefault("elementType", element_type)
        configuration.setdefault("elementId", element_id)
        configuration.setdefault("extractionMode", "STANDARD")
    return listed
