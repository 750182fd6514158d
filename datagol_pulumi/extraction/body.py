"""Between declared inputs and DataGOL's ExtractionDTO, and how the two are compared.

Drift is judged only on what the program declared, the way terraform-provider-restful decodes
an answer into the shape of the prior body: :func:`project` keeps, of DataGOL's value, the keys
the declaration has, and takes a list DataGOL reordered as equal. Fields DataGOL fills in (a
default model, the new output table's id, column titles) therefore never make a diff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..properties import EXTRACTION_INPUTS, EXTRACTION_OUTPUTS, camel, names
from ..wire import whole_numbers

INPUTS = names(EXTRACTION_INPUTS)
SERVER_OUTPUTS = names(EXTRACTION_OUTPUTS)
#: What an absent value is in outputs: the engine drops null outputs, and a preview shows a
#: dropped one as a change.
_ABSENT = {"string": "", "strings": [], "rows": [], "map": {}, "boolean": False}
_TYPES = {p.name: p.type for p in (*EXTRACTION_INPUTS, *EXTRACTION_OUTPUTS)}


def to_dto(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The ExtractionDTO of checked inputs: declared fields only, nested objects as written."""
    return {camel(k): inputs[k] for k in INPUTS if inputs.get(k) is not None}


def canonical(value: Any) -> str:
    return json.dumps(whole_numbers(value), sort_keys=True, separators=(",", ":"), default=str)


def project(server: Any, declared: Any) -> Any:
    """DataGOL's ``server`` value as far as ``declared`` says anything about it."""
    if isinstance(declared, Mapping):
        if not isinstance(server, Mapping):
            return server
        return {k: project(server.get(k), v) for k, v in declared.items()}
    if isinstance(declared, list) and isinstance(server, list):
        # Reordered by DataGOL (primary keys sorted, columns listed otherwise): equal.
        left = list(server)
        for item in declared:
            match = next(
                (i for i, s in enumerate(left) if canonical(project(s, item)) == canonical(item)),
                None,
            )
            if match is None:
                break
            del left[match]
        else:
            if not left:
                return list(declared)
        return [project(s, d) for s, d in zip(server, declared, strict=False)] + server[
            len(declared) :
        ]
    return server


def same(declared: Any, held: Any) -> bool:
    """Whether DataGOL holding ``held`` satisfies the declaration ``declared``."""
    return canonical(project(held, declared)) == canonical(declared)


def from_dto(dto: Mapping[str, Any]) -> dict[str, Any]:
    """Every input and server-kept field of an ExtractionDTO, snake_case (None when absent)."""
    values = {name: dto.get(camel(name)) for name in INPUTS}
    values.update({name: dto.get(camel(name)) for name in SERVER_OUTPUTS})
    values["extraction_id"] = str(dto["id"]) if dto.get("id") is not None else None
    for name in ("company_id", "workspace_id"):
        if values.get(name) is not None:
            values[name] = str(values[name])
    return whole_numbers(values)


def outputs(dto: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The resource's outputs for what DataGOL holds: each declared input as DataGOL holds it
    (projected on the declaration), undeclared inputs as DataGOL chose them, and the fields
    DataGOL keeps itself. Create, update and read all build them here, so that the first
    refresh after an ``up`` shows nothing."""
    held = from_dto(dto)
    out = {
        k: project(v, declared[k]) if declared.get(k) is not None else v for k, v in held.items()
    }
    for key in ("workspace_id", "element_type", "element_id"):
        # The id names these; an answer without them does not move the configuration.
        if out.get(key) in (None, "") and declared.get(key) is not None:
            out[key] = declared[key]
    return {k: _ABSENT.get(_TYPES[k], "") if v is None else v for k, v in out.items()}


def imported_inputs(dto: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a program declaring what DataGOL holds would have (``pulumi import``)."""
    held = from_dto(dto)
    return {k: held[k] for k in INPUTS if held.get(k) not in (None, "", [], {})}
