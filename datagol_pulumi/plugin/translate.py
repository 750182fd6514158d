"""Names and values between the engine (camelCase, PropertyValue) and the core (snake_case)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.provider.experimental.property_value import Computed, PropertyValue

from ..properties import CONFIG, GROUP_INPUTS, GROUP_OUTPUTS, RUN_INPUTS, RUN_OUTPUTS, camel, snake

_KNOWN = {p.name for p in (*RUN_INPUTS, *RUN_OUTPUTS, *GROUP_INPUTS, *GROUP_OUTPUTS, *CONFIG)}
_SNAKE_WORD = re.compile(
    r"\b(" + "|".join(sorted((n for n in _KNOWN if "_" in n), key=len, reverse=True)) + r")\b"
)


def to_python(value: PropertyValue) -> Any:
    """A plain value as the dynamic face receives it: unknowns as ``Unknown``, no wrappers."""
    inner = value.value
    if isinstance(inner, Computed):
        return Unknown()
    if isinstance(inner, Mapping):
        return {k: to_python(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [to_python(v) for v in inner]
    return inner


def to_value(value: Any) -> PropertyValue:
    """The engine's value for a core value (every number a float, as the engine carries it)."""
    if isinstance(value, Unknown):
        return PropertyValue.computed()
    if isinstance(value, Mapping):
        return PropertyValue({str(k): to_value(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return PropertyValue([to_value(v) for v in value])
    if isinstance(value, int) and not isinstance(value, bool):
        return PropertyValue(float(value))
    return PropertyValue(value)


def run_in(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """A run's engine properties as core inputs/outputs (top-level names only: rows and
    triggers are the user's data and keep their keys)."""
    return {snake(k): to_python(v) for k, v in props.items()}


def run_out(values: Mapping[str, Any]) -> dict[str, PropertyValue]:
    """Core run values as engine properties; ``__`` keys are the dynamic face's own."""
    return {camel(k): to_value(v) for k, v in values.items() if not k.startswith("__")}


def group_in(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    values = run_in(props)
    for key in ("runs", "results"):
        runs = values.get(key)
        if isinstance(runs, dict):
            values[key] = {
                name: {snake(k): v for k, v in spec.items()} if isinstance(spec, dict) else spec
                for name, spec in runs.items()
            }
    return values


def group_out(values: Mapping[str, Any]) -> dict[str, PropertyValue]:
    values = dict(values)
    for key in ("runs", "results"):
        runs = values.get(key)
        if isinstance(runs, dict):
            values[key] = {
                name: {camel(k): v for k, v in spec.items() if not k.startswith("__")}
                if isinstance(spec, dict)
                else spec
                for name, spec in runs.items()
            }
    return run_out(values)


def camel_text(text: str) -> str:
    """A core message with its property names as the schema spells them (whereClause)."""
    return _SNAKE_WORD.sub(lambda m: camel(m.group(1)), text)


def camel_path(path: str) -> str:
    """``runs.a.where_clause`` -> ``runs.a.whereClause`` (run keys are left alone)."""
    parts = path.split(".")
    return ".".join(camel(p) if p in _KNOWN else p for p in parts)
