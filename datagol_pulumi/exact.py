"""Inputs sent exactly as the program wrote them, or refused in the program, naming the path.

Two things change a value between a Python program and the provider, silently:

- the engine carries every number as a 64-bit float, so an int beyond 2**53 is rounded;
- the SDK's dynamic-provider server (``python -m pulumi.dynamic``) drops every null held by a
  map (``rpc.deserialize_properties``), so ``{"id": "r1", "n": None}`` reaches the provider,
  and DataGOL, as ``{"id": "r1"}``. Nulls in lists survive.

The provider cannot refuse what it never sees, so the program does, before the resource is
registered (``pulumi preview`` fails, nothing is sent). An Output anywhere in a value is
checked when it resolves, still before registration; one that stays unknown in a preview is
not refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from .errors import ValidationError
from .validation import REPLACE_PROPERTIES
from .wire import MAX_ROW_DEPTH, big_numbers, inexact

#: Inputs whose numbers DataGOL must receive exactly (ids, rows, triggers).
EXACT_PROPERTIES = frozenset((*REPLACE_PROPERTIES, "rows", "triggers"))
#: Inputs whose nulls are sent: the other inputs are compared, never sent (triggers), or
#: scalars, where a null means "not given".
NULLS_SENT = frozenset(("rows",))


def exact_input(subject: str, prop: str, value: Any, path: str | None = None) -> Any:
    """``value``, refused (:class:`ValidationError` naming ``subject`` and the path) if it
    would not be sent as written; with its Outputs checked when they resolve.

    ``path`` is where ``value`` stands (``prop`` by default, ``runs.a.rows`` in a group). A
    value holding Outputs is returned as one Output of the resolved value: its Outputs may
    hold further Outputs, and only the whole resolved value can be checked with its paths.
    """
    if prop not in EXACT_PROPERTIES or value is None:
        return value
    return _exact(subject, path or prop, value, prop in NULLS_SENT, 0)


def _exact(subject: str, path: str, value: Any, nulls: bool, rounds: int) -> Any:
    found = inexact(value, path, nulls=nulls)
    failures = []
    if found.unsafe_integers:
        first = found.unsafe_integers[0]
        failures.append(
            (
                first,
                f"{first} is a whole number beyond 2**53 "
                f"({len(found.unsafe_integers)} such value(s)); Pulumi carries numbers as "
                "64-bit floats and would change it: pass it as a string",
            )
        )
    if found.nulls:
        first = found.nulls[0]
        key = first.rsplit(".", 1)[-1]
        failures.append(
            (
                first,
                f"{first} is null ({len(found.nulls)} such value(s)); Pulumi's dynamic "
                f"providers drop nulls inside maps, so DataGOL would get no {key!r} there: "
                f"remove {key!r}, or give it a value",
            )
        )
    if failures:
        raise ValidationError(failures, subject)
    # Bounded: an Output inside a Mapping that is not a dict is not resolved by from_input.
    if not found.pending or rounds > MAX_ROW_DEPTH:
        return value
    return pulumi.Output.from_input(value).apply(
        lambda resolved: _exact(subject, path, resolved, nulls, rounds + 1)
    )


def exact_run(subject: str, run: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """A run's inputs (a map), each checked by :func:`exact_input`; absent (None) ones left out."""
    prefix = f"{path}." if path else ""
    return {k: exact_input(subject, k, v, f"{prefix}{k}") for k, v in run.items() if v is not None}


def maybe_rounded(inputs: Mapping[str, Any], *, group: bool = False) -> list[tuple[str, str]]:
    """Check failures for the numbers in a run's (or a group's runs') exact inputs that reached
    a provider as floats of magnitude 2**53 or more: the engine may have rounded them on the
    way, and a provider cannot tell. For the packaged plugin, whose programs' SDKs send what
    they were given (the dynamic face's program refuses such ints itself, and keeps floats).
    """
    if group:
        runs = inputs.get("runs")
        if not isinstance(runs, Mapping):
            return []
        return [
            failure
            for key, spec in runs.items()
            if isinstance(spec, Mapping)
            for failure in _maybe_rounded(spec, f"runs.{key}.")
        ]
    return _maybe_rounded(inputs, "")


def _maybe_rounded(inputs: Mapping[str, Any], prefix: str) -> list[tuple[str, str]]:
    failures = []
    for prop in sorted(EXACT_PROPERTIES):
        paths = big_numbers(inputs.get(prop), f"{prefix}{prop}")
        if paths:
            failures.append(
                (
                    paths[0],
                    f"{paths[0]} is a number of magnitude 2**53 or more ({len(paths)} such "
                    "value(s)); Pulumi carries numbers as 64-bit floats, which round whole "
                    "numbers that large, so it may not be the number written: pass it as a string",
                )
            )
    return failures
