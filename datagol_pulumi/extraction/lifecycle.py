"""What each engine operation does to an extraction configuration, written once for both faces.

Create = POST (never resent; a create whose answer was lost is found again, see
:func:`create`); update = one PUT of the declared configuration; delete = DELETE (already gone
counts as deleted); read = Get Extractions of the element, where a missing entry means the
configuration is gone. The Pulumi id names the element as well as the configuration
(``<workspaceId>/<elementType>/<elementId>/<extractionId>``), so that read needs nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..client import DataGolClient
from ..client.extractions import (
    create_extraction,
    delete_extraction,
    list_extractions,
    update_extraction,
)
from ..errors import ConfigurationError, DataGolError, NotFoundError, ValidationError
from ..wire import is_unknown, plain
from .body import INPUTS, from_dto, imported_inputs, outputs, same, to_dto
from .checks import ELEMENT_TYPES, RECREATE_PROPERTIES, check_extraction

#: The Pulumi type token of the plugin face, for the import command a message gives.
TOKEN = "datagol:index:Extraction"
ID_FORM = "<workspaceId>/<elementType>/<elementId>/<extractionId>"


@dataclass
class ExtractionDiff:
    changes: bool
    replaces: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)


def resource_id(inputs: Mapping[str, Any], extraction_id: str) -> str:
    return "/".join(
        (inputs["workspace_id"], inputs["element_type"], inputs["element_id"], extraction_id)
    )


def parse_id(resource_id: str) -> tuple[str, str, str, str]:
    """(workspace, element type, element id, extraction id) of a Pulumi id; element ids may
    hold "/" (folder paths), the other three never do."""
    parts = resource_id.split("/")
    problem = None
    if len(parts) < 4 or not all(parts[:2]) or not parts[-1] or not "/".join(parts[2:-1]):
        problem = "it does not have four parts"
    else:
        try:
            uuid.UUID(parts[0])
        except ValueError:
            problem = f"its workspaceId {parts[0]!r} is not a UUID"
        if parts[1].upper() not in ELEMENT_TYPES:
            problem = f"its elementType {parts[1]!r} is not one of {', '.join(ELEMENT_TYPES)}"
        elif not parts[-1].isdigit():
            problem = f"its extractionId {parts[-1]!r} is not DataGOL's integer id"
    if problem:
        raise ConfigurationError(
            f"extraction configuration id {resource_id!r}: {problem}; expected {ID_FORM}, e.g. "
            "6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f/FILE/file-42/1001"
        )
    return parts[0], parts[1].upper(), "/".join(parts[2:-1]), parts[-1]


def checked(props: Mapping[str, Any]) -> dict[str, Any]:
    inputs, failures = check_extraction({k: v for k, v in props.items() if k in INPUTS})
    if failures:
        raise ValidationError(failures)
    return inputs


def diff(olds: Mapping[str, Any], news: Mapping[str, Any]) -> ExtractionDiff:
    """Declared inputs against what the state holds; an input left out keeps DataGOL's value."""
    olds = plain(dict(olds))
    # As check normalised them (case of enums, engine floats), whoever called check before.
    news = check_extraction({k: v for k, v in news.items() if k in INPUTS})[0]
    changed = [
        name
        for name in INPUTS
        if news.get(name) is not None
        and (is_unknown(news[name]) or not same(news[name], olds.get(name)))
    ]
    replaces = [name for name in changed if name in RECREATE_PROPERTIES]
    return ExtractionDiff(
        bool(changed), replaces, [name for name in changed if name not in replaces]
    )


def create(
    client: DataGolClient,
    props: Mapping[str, Any],
    name: str = "",
    recalled: Callable[[Mapping[str, Any]], list[dict[str, Any]] | None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """POST the declared configuration, unless the element already holds one with its title.

    One with the title and the declared values is adopted (a create whose answer was lost, or
    a runner killed after the POST, made it); one with other values is refused with how to
    adopt it. A POST that may have reached DataGOL is never resent: what it made is looked up.
    ``recalled``: the configurations titled so that check just read, if any (else read here).
    """
    inputs = checked(props)
    known = recalled(inputs) if recalled is not None else None
    existing = known if known is not None else titled(client, inputs)
    if existing:
        return _adopted(existing, inputs, name)
    try:
        dto = create_extraction(client, inputs["workspace_id"], to_dto(inputs))
    except DataGolError as exc:
        if not exc.may_have_started:
            raise
        dto = _made_by_lost_create(client, inputs, exc)
    return resource_id(inputs, str(dto["id"])), outputs(dto, inputs)


def titled(client: DataGolClient, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    held = list_extractions(
        client, inputs["workspace_id"], inputs["element_type"], inputs["element_id"]
    )
    return [dto for dto in held or () if dto.get("title") == inputs["title"]]


def _adopted(
    existing: list[dict[str, Any]], inputs: Mapping[str, Any], name: str
) -> tuple[str, dict[str, Any]]:
    refusal = conflict(existing, inputs, name)
    if refusal:
        raise ConfigurationError(refusal)
    dto = next(dto for dto in existing if not _differences(dto, inputs))
    return resource_id(inputs, str(dto["id"])), outputs(dto, inputs)


def conflict(existing: list[dict[str, Any]], inputs: Mapping[str, Any], name: str) -> str | None:
    """Why a create refuses, given the element's configurations titled as declared (None: it
    creates, or adopts the one that holds the declared values); said by the preview too."""
    if not existing:
        return None
    if len(existing) == 1 and not _differences(existing[0], inputs):
        return None
    ids = ", ".join(str(dto.get("id")) for dto in existing)
    where = f"{inputs['element_type']} element {inputs['element_id']}"
    if len(existing) > 1:
        return (
            f"{where} already holds {len(existing)} extraction configurations titled "
            f"{inputs['title']!r} (ids {ids}); nothing was created. Delete the extra ones in "
            f"DataGOL, or give this one another title. {_import_hint(inputs, existing[0], name)}"
        )
    differing = ", ".join(_differences(existing[0], inputs))
    return (
        f"{where} already holds an extraction configuration titled {inputs['title']!r} (id "
        f"{ids}) whose {differing} differ from the declaration; nothing was created, so that "
        "one declaration never makes two configurations. To take it over, declare the values "
        "DataGOL holds (the next `pulumi up` adopts it, and later changes are one update "
        f"each), {_import_hint(inputs, existing[0], name)} Or give this one another title."
    )


def _import_hint(inputs: Mapping[str, Any], dto: Mapping[str, Any], name: str) -> str:
    ident = resource_id(inputs, str(dto.get("id")))
    return f"or import it: `pulumi import {TOKEN} {name or '<name>'} '{ident}'`."


def _differences(dto: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[str]:
    held = from_dto(dto)
    return [k for k in INPUTS if inputs.get(k) is not None and not same(inputs[k], held.get(k))]


def _made_by_lost_create(
    client: DataGolClient, inputs: Mapping[str, Any], lost: DataGolError
) -> dict[str, Any]:
    try:
        found = [dto for dto in titled(client, inputs) if not _differences(dto, inputs)]
    except DataGolError:
        found = None
    if found and len(found) == 1:
        return found[0]
    if found == []:
        raise DataGolError(
            f"{lost} DataGOL holds no configuration titled {inputs['title']!r} on that element, "
            "so nothing was created; run `pulumi up` again."
        ) from None
    raise DataGolError(
        f"{lost} The create may have reached DataGOL and was not resent; the next `pulumi up` "
        "finds the configuration it made (by its title on the element) and adopts it."
    ) from None


def update(
    client: DataGolClient, resource_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    """One PUT of the declared configuration."""
    inputs = checked(news)
    workspace, _, _, extraction_id = parse_id(resource_id)
    dto = {**to_dto(inputs), "id": int(extraction_id)}
    answer = update_extraction(client, workspace, extraction_id, dto)
    if answer is None:
        raise NotFoundError(deleted_outside(extraction_id), status=404)
    # An empty answer: DataGOL holds what was sent, beside what it kept before.
    held = answer or {**_dto_of(plain(dict(olds))), **dto}
    return outputs(held, inputs)


def deleted_outside(extraction_id: str) -> str:
    """What an update of a configuration that DataGOL no longer holds says (and its preview)."""
    return (
        f"extraction configuration {extraction_id} was deleted outside Pulumi; run `pulumi "
        "refresh` (it leaves the stack), then `pulumi up` creates it again"
    )


def held_ids(client: DataGolClient, resource_id: str) -> set[str] | None:
    """The ids of the configurations DataGOL lists for the element a Pulumi id names; None when
    DataGOL knows no such element (404)."""
    workspace, element_type, element_id, _ = parse_id(resource_id)
    held = list_extractions(client, workspace, element_type, element_id)
    return None if held is None else {str(dto.get("id")) for dto in held}


def _dto_of(outs: Mapping[str, Any]) -> dict[str, Any]:
    # to_dto keeps the inputs alone; the dates are the server-kept fields an update keeps.
    return {
        **to_dto(outs),
        "createDate": outs.get("create_date"),
        "modiDate": outs.get("modi_date"),
    }


def read(
    client: DataGolClient, resource_id: str, olds: Mapping[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(id, outputs, inputs) as DataGOL holds the configuration; ("", {}, {}) when it is gone.

    ``olds``: the state's outputs (empty for an import). On refresh, DataGOL's values are
    projected on what the state holds; on import, they are taken as they are, and the inputs
    are what a program declaring them has.
    """
    workspace, element_type, element_id, extraction_id = parse_id(resource_id)
    held = list_extractions(client, workspace, element_type, element_id)
    dto = next((d for d in held or () if str(d.get("id")) == extraction_id), None)
    if dto is None:
        return "", {}, {}
    olds = plain(dict(olds))
    ids = {"workspace_id": workspace, "element_type": element_type, "element_id": element_id}
    if not olds:
        found = imported_inputs(dto)
        return resource_id, outputs(dto, ids), {**found, **ids}
    shape = {k: v for k, v in olds.items() if k in INPUTS and v not in (None, "", [], {})}
    return resource_id, outputs(dto, {**shape, **ids}), {}


def delete(client: DataGolClient, resource_id: str) -> None:
    workspace, _, _, extraction_id = parse_id(resource_id)
    delete_extraction(client, workspace, extraction_id)


def lookup(
    client: DataGolClient,
    workspace_id: str,
    element_type: str,
    element_id: str,
    title: str | None = None,
) -> list[dict[str, Any]]:
    """The configurations of one element (optionally those titled ``title``), each as an
    Extraction's outputs name its fields: ``extraction_id``, ``title``, ``modi_date``, ..."""
    inputs, failures = check_extraction(
        {"workspace_id": workspace_id, "element_type": element_type, "element_id": element_id}
    )
    failures = [f for f in failures if f[0] in ("workspace_id", "element_type", "element_id")]
    if failures:
        raise ValidationError(failures, "getExtractions")
    held = list_extractions(client, workspace_id, inputs["element_type"], element_id) or []
    return [outputs(dto, {}) for dto in held if title is None or dto.get("title") == title]


__all__ = ["create", "delete", "diff", "lookup", "parse_id", "read", "update"]
