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
from .wire import MAX_ROW_DEPTH, inexact

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
