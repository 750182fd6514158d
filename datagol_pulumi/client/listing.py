"""Get Extractions read tolerantly, for the preview's check: ids and titles of an element's
configurations, or None for an answer of another shape (a warning there, never a refusal).

GET ``/noCo/api/v2/workspaces/{workspaceId}/extraction/{elementType}/{elementId}`` answers an
array of ExtractionDTO (shared/datagol-api/NOTES.md); an ``id`` is an integer there and a
string on the reference page, so both are read as their decimal text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .extractions import element_configurations, listed_items

if TYPE_CHECKING:
    from .api import DataGolClient


@dataclass(frozen=True)
class Configuration:
    """One extraction configuration as listed: its id and, when given, its title."""

    id: str
    title: str | None = None

    def shown(self) -> str:
        return f"{self.id} ({self.title})" if self.title else self.id


def get_extractions(
    client: DataGolClient, workspace_id: str, element_type: str, element_id: str
) -> list[Configuration] | None:
    """The element's configurations; None when the answer is no list of them (another shape).

    Raises the client's errors (AuthenticationError for 401/403, TransportError, ...).
    """
    return configurations(element_configurations(client, workspace_id, element_type, element_id))


def configurations(payload: Any) -> list[Configuration] | None:
    """The configurations in an answer (see :func:`extractions.listed_items`)."""
    items = listed_items(payload)
    if items is None:
        return None
    found = []
    for item in items:
        if not isinstance(item, Mapping):
            return None
        raw = item.get("id")
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            return None
        title = item.get("title")
        found.append(Configuration(str(raw), title if isinstance(title, str) and title else None))
    return found
