"""What DataGOL refuses in an extraction configuration, found before any request is sent.

The same ``(normalised, failures)`` contract as :func:`datagol_pulumi.validation.check_run`:
nothing raises, every failure names its property and the fix, values still unknown in a
preview pass unchecked, and a secret value is never quoted.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from ..ids import NOT_SHOWN, check_id
from ..properties import EXTRACTION_INPUTS, names
from ..secrecy import is_secret
from ..wire import is_unknown, plain, whole_numbers, wholly_unknown

EXTRACTION_PROPERTIES = names(EXTRACTION_INPUTS)
#: Changing one of these makes a new configuration: the Pulumi id names them.
RECREATE_PROPERTIES = names(EXTRACTION_INPUTS, "recreate")
REQUIRED = tuple(p.name for p in EXTRACTION_INPUTS if p.required)

EXTRACTION_MODES = ("STANDARD", "ADVANCED")
ELEMENT_TYPES = ("COLUMN", "FILE", "FOLDER")
SCHEDULE_TYPES = ("CRON", "MANUAL", "SCHEDULED", "DATA_CHANGE")
TIME_UNITS = ("SECOND", "MINUTE", "HOURS", "DAY", "MONTH")
_ENUMS = {
    "extraction_mode": EXTRACTION_MODES,
    "element_type": ELEMENT_TYPES,
    "schedule_type": SCHEDULE_TYPES,
}
_STRINGS = ("title", "input_table_id", "llm_model")
_OBJECTS = ("output_configuration", "advanced_schema", "schedule")
_STRING_LISTS = ("primary_key_column_id", "element_ids")

Failure = tuple[str, str]


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def check_extraction(
    inputs: Mapping[str, Any], secret: Collection[str] = ()
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate and normalise one configuration's inputs (enums upper-cased, ids as strings,
    the engine's whole floats as ints inside nested objects)."""
    inputs = plain(dict(inputs))
    out: dict[str, Any] = {}
    failures: list[Failure] = []

    def shown(prop: str, value: Any) -> str:
        return NOT_SHOWN if is_secret(prop, secret) else repr(value)

    for key, value in inputs.items():
        if key.startswith("__"):
            continue
        if key not in EXTRACTION_PROPERTIES:
            valid = ", ".join(EXTRACTION_PROPERTIES)
            failures.append((key, f"unknown property {key!r}; valid properties: {valid}"))
        elif value is not None:
            out[key] = whole_numbers(value) if not is_unknown(value) else value

    for prop in REQUIRED:
        if inputs.get(prop) in (None, "") and prop not in ("workspace_id", "element_id"):
            failures.append((prop, f"{prop} is required (DataGOL refuses a configuration without)"))
    for prop in ("workspace_id", "element_id"):
        if not is_unknown(inputs.get(prop)):
            check_id(inputs, prop, out, failures, hidden=is_secret(prop, secret))
    workspace = out.get("workspace_id")
    if isinstance(workspace, str) and not any(p == "workspace_id" for p, _ in failures):
        try:
            uuid.UUID(workspace)
        except ValueError:
            got = shown("workspace_id", workspace)
            failures.append(("workspace_id", f"workspace_id must be a UUID, got {got}"))

    for prop, allowed in _ENUMS.items():
        value = inputs.get(prop)
        if value is None or is_unknown(value):
            continue
        if isinstance(value, str) and value.upper() in allowed:
            out[prop] = value.upper()
        else:
            got = shown(prop, value)
            failures.append((prop, f"{prop} must be one of {', '.join(allowed)}, got {got}"))

    for prop in _STRINGS:
        value = inputs.get(prop)
        if value is not None and not is_unknown(value) and not isinstance(value, str):
            failures.append((prop, f"{prop} must be a string, got {_kind(value)}"))
    for prop in _OBJECTS:
        value = inputs.get(prop)
        if value is not None and not wholly_unknown(value) and not isinstance(value, Mapping):
            failures.append((prop, f"{prop} must be an object (a map), got {_kind(value)}"))
    for prop in _STRING_LISTS:
        _check_strings(inputs.get(prop), prop, failures)
    value = inputs.get("store_extracted_data")
    if value is not None and not is_unknown(value) and not isinstance(value, bool):
        failures.append(
            (
                "store_extracted_data",
                f"store_extracted_data must be true or false, got {_kind(value)}",
            )
        )
    _check_columns(inputs.get("column_configuration"), failures)
    _check_schedule(inputs.get("schedule"), failures)
    return out, failures


def _check_strings(value: Any, prop: str, failures: list[Failure]) -> None:
    if value is None or wholly_unknown(value):
        return
    if not isinstance(value, list):
        failures.append((prop, f"{prop} must be a list of strings, got {_kind(value)}"))
        return
    known = [v for v in value if not wholly_unknown(v)]
    if not all(isinstance(v, str) for v in known):
        failures.append((prop, f"{prop} must be a list of strings"))
    elif len(set(known)) != len(known):
        failures.append((prop, f"{prop} must not name an id twice (DataGOL keeps them unique)"))


def _check_columns(value: Any, failures: list[Failure]) -> None:
    if value is None or wholly_unknown(value):
        return
    if not isinstance(value, list):
        failures.append(
            ("column_configuration", f"column_configuration must be a list, got {_kind(value)}")
        )
        return
    for index, column in enumerate(value):
        if wholly_unknown(column):
            continue
        name = column.get("name") if isinstance(column, Mapping) else None
        if not isinstance(column, Mapping) or not (
            wholly_unknown(name) or (isinstance(name, str) and name)
        ):
            failures.append(
                (
                    "column_configuration",
                    f"column_configuration[{index}] must be an object with a name (and "
                    "description, uiDataType, uiMetadata)",
                )
            )
            return


def _check_schedule(value: Any, failures: list[Failure]) -> None:
    if not isinstance(value, Mapping):
        return
    basic = value.get("basicSchedule")
    unit = basic.get("timeUnit") if isinstance(basic, Mapping) else None
    if unit is not None and not is_unknown(unit) and unit not in TIME_UNITS:
        failures.append(
            (
                "schedule",
                f"schedule.basicSchedule.timeUnit must be one of {', '.join(TIME_UNITS)}, "
                f"got {unit!r}",
            )
        )
