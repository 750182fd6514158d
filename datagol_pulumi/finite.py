"""NaN and ±Infinity in rows and triggers: refused at check, naming where they stand.

JSON has no such numbers: the request body's encoder (orjson) writes null for them, so DataGOL
would get a row with null where the program had a number (pandas gives NaN for every missing
value). Triggers are refused alike: they are JSON too, in the stack's state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .wire import MAX_ROW_DEPTH


def first_non_finite(value: Any, limit: int = MAX_ROW_DEPTH + 1) -> tuple[str, float] | None:
    """Where the first NaN or ±Infinity in ``value`` stands (``"[2].amount"``) and what it is;
    None when every number is finite.

    Iterative and in document order, to the depth ``limit`` (deeper is refused anyway).
    Unknown values (preview) are skipped: they are checked once known.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return path, item
            continue
        if kind is dict or (kind is not list and isinstance(item, Mapping)):
            children = [(v, f"{path}.{k}") for k, v in item.items()]
        elif kind is list or kind is tuple:
            children = [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            continue
        if depth <= limit:
            stack.extend((v, p, depth + 1) for v, p in reversed(children))
    return None


def non_finite_failures(
    inputs: Mapping[str, Any], props: Iterable[str], hidden: Callable[[str], bool]
) -> list[tuple[str, str]]:
    """A failure for each of ``props`` (of ``inputs``) that holds a NaN or ±Infinity, named by
    where it stands (as :func:`exact.maybe_rounded` names a path), with the fix; a secret value
    (``hidden``) is named by its property only: its keys are part of the secret."""
    failures = []
    for prop in props:
        found = first_non_finite(inputs[prop])
        if found is None:
            continue
        path, number = found
        if hidden(prop):
            where, what = prop, f"{prop} hold a NaN or Infinity"
        else:
            shown = "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
            where = prop + path
            what = f"{where} is {shown}"
        fate = ": DataGOL would get null instead" if prop == "rows" else ""
        failures.append(
            (
                where,
                f"{what}, which JSON cannot carry{fate}; remove it, or give a finite number "
                "or a string",
            )
        )
    return failures
