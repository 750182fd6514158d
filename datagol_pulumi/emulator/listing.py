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

from .common import HttpError
from .jobs import _is_canonical_uuid


def list_extractions(segments: list[str], settings: dict[str, Any]) -> list[dict[str, Any]]:
    """What the settings seed for Get Extractions, after ExtractionStore.route answered the
    path (its GET only; the element type checked there); HttpError (400) for a workspace id
    that is a UUID in another spelling (the trigger's rule)."""
    workspace_id, element_type, element_id = segments[4], segments[6], segments[7]
    if not _is_canonical_uuid(workspace_id):
        raise HttpError(400, f"workspaceId must be a UUID, got {workspace_id!r}")
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
