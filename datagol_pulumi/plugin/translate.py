"""Names and values between the engine (camelCase, PropertyValue) and the core (snake_case)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc

from ..operations import SECRET_KEYS_KEY
from ..properties import (
    CONFIG,
    EXTRACTION_INPUTS,
    EXTRACTION_OUTPUTS,
    GROUP_INPUTS,
    GROUP_OUTPUTS,
    RESULT_OUTPUTS,
    RUN_INPUTS,
    RUN_OUTPUTS,
    camel,
    snake,
)
from ..secrecy import protected_inputs

_KNOWN = {
    p.name
    for p in (
        *RUN_INPUTS,
        *RUN_OUTPUTS,
        *RESULT_OUTPUTS,
        *GROUP_INPUTS,
        *GROUP_OUTPUTS,
        *EXTRACTION_INPUTS,
        *EXTRACTION_OUTPUTS,
        *CONFIG,
    )
}
#: The dynamic face's own bookkeeping that must survive in state as it is (the group's record
#: of which runs hold secrets, compared by its diff).
_KEPT = frozenset((SECRET_KEYS_KEY,))
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
    """The engine's value for a core value (every number a float, as the engine carries it;
    the SDK's secret wrappers as secrets)."""
    if rpc.is_rpc_secret(value):
        return to_value(rpc.unwrap_rpc_secret(value)).with_secret(True)
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


def secret_names(props: Mapping[str, PropertyValue]) -> set[str]:
    """The top-level properties that are, or hold, a secret."""
    return {k for k, v in props.items() if v.contains_secret()}


def secret_inputs(props: Mapping[str, PropertyValue], *, state: bool = False) -> list[str]:
    """A run's inputs (snake_case) that are, or hold, a secret: what the core protects derived
    outputs for. From a ``state`` (old outputs), the inputs its outputs are protected for."""
    names = {snake(k) for k in secret_names(props)}
    if state:
        names = set(protected_inputs(names, {snake(k) for k in props}))
    return sorted(names)


def secret_runs(props: Mapping[str, PropertyValue]) -> list[str]:
    """A group's run keys whose inputs hold a secret (``["*"]`` when ``runs`` itself is one)."""
    runs = props.get("runs")
    if runs is None:
        return []
    if runs.is_secret:
        return ["*"]
    if not isinstance(runs.value, Mapping):
        return ["*"] if runs.contains_secret() else []
    return sorted(k for k, v in runs.value.items() if v.contains_secret())


def run_out(values: Mapping[str, Any], secret: set[str] = frozenset()) -> dict[str, PropertyValue]:
    """Core run values as engine properties, those named in ``secret`` (camelCase) kept secret:
    an output echoing a secret input stays one. Other ``__`` keys are the dynamic face's."""
    out: dict[str, PropertyValue] = {}
    for key, value in values.items():
        if key.startswith("__") and key not in _KEPT:
            continue
        name = key if key in _KEPT else camel(key)
        converted = to_value(value)
        out[name] = converted.with_secret(True) if name in secret else converted
    return out


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


def group_out(
    values: Mapping[str, Any], secret: set[str] = frozenset()
) -> dict[str, PropertyValue]:
    values = dict(values)
    for key in ("runs", "results"):
        runs = values.get(key)
        if isinstance(runs, dict):
            values[key] = {
                name: _camel_keys(spec) if isinstance(spec, dict) else spec
                for name, spec in runs.items()
            }
    return run_out(values, secret)


def _camel_keys(spec: Mapping[str, Any]) -> Any:
    if rpc.is_rpc_secret(spec):  # a result kept secret by the dynamic face: wrapped as one
        return rpc.wrap_rpc_secret(_camel_keys(rpc.unwrap_rpc_secret(spec)))
    return {camel(k): v for k, v in spec.items() if not k.startswith("__")}


def camel_text(text: str) -> str:
    """A core message with its property names as the schema spells them (whereClause)."""
    return _SNAKE_WORD.sub(lambda m: camel(m.group(1)), text)


def camel_path(path: str) -> str:
    """``runs.a.where_clause`` -> ``runs.a.whereClause`` (run keys are left alone)."""
    parts = path.split(".")
    return ".".join(camel(p) if p in _KNOWN else p for p in parts)
