"""Secret input values kept out of every message the client builds for one run.

A server message may echo what it was sent (a 400 quoting the where clause, a row value), and a
message names the path, so the ids in it. While a run is sent (``with masking(values)``), every
error and message the client produces on that thread has each secret value replaced by
``[secret]``. One context variable, so the client's signatures do not change and the threads of
a group each mask their own run.

What a process masks is never kept only in its memory: a run records its fragments in a secret
output (``masked_values``), and a completion or a refresh, perhaps in another process, masks
the same fragments from there (:func:`masked_fragments`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

from ..errors import ApiError, DataGolError
from ..secrecy import MASKED_VALUES, is_secret

MASK = "[secret]"
#: Values shorter than this are masked only where they stand alone (not inside a longer word
#: or number): replacing "7" everywhere would make "HTTP 400" unreadable, not safer.
_SHORT = 4

_MASKED: ContextVar[tuple[str, ...]] = ContextVar("datagol_masked_values", default=())

# A quoted literal inside a where clause: a server that refuses the clause often quotes only
# the literal it stumbled on ("near '123-45-6789'").
_LITERAL = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"")


def secret_values(inputs: Mapping[str, Any], secret: Collection[str]) -> set[str]:
    """Every text a secret input's value could appear as in a message: each string and number
    inside it, its JSON-escaped and percent-quoted forms, and a where clause's quoted
    literals. Booleans and nulls are not: they are no secret on their own."""
    found: set[str] = set()
    for prop, value in inputs.items():
        if not prop.startswith("__") and is_secret(prop, secret):
            _collect(value, found)
    for text in list(found):
        for match in _LITERAL.finditer(text):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
        found.add(json.dumps(text)[1:-1])
        found.add(quote(text, safe=""))
    found.discard("")
    return found


def masked_fragments(inputs: Mapping[str, Any], secret: Collection[str]) -> list[str]:
    """:func:`secret_values` as a run records them (its ``masked_values`` output, a secret),
    so that every later process that reads the run's status masks the same fragments."""
    return sorted(secret_values(inputs, secret))


def recorded_fragments(outputs: Mapping[str, Any]) -> list[str]:
    """The fragments a run recorded (none in a state written before runs recorded them)."""
    value = outputs.get(MASKED_VALUES)
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, int):
        found.add(str(value))
    elif isinstance(value, float):
        found.add(repr(value))
        if value.is_integer():
            found.add(str(int(value)))
    elif isinstance(value, Mapping):
        # Values only: a row's keys are the extraction's column names, and masking "amount"
        # or "id" would leave no message readable.
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, found)


@contextlib.contextmanager
def masking(values: Iterable[str]) -> Iterator[None]:
    """Within this block, :func:`mask` hides ``values`` (and those of enclosing blocks)."""
    combined = set(_MASKED.get()) | {v for v in values if v}
    # Longest first: a value inside another is then replaced as part of it.
    token = _MASKED.set(tuple(sorted(combined, key=lambda v: (-len(v), v))))
    try:
        yield
    finally:
        _MASKED.reset(token)


def mask(text: str) -> str:
    """``text`` with every value masked in this context replaced by ``[secret]``."""
    for value in _MASKED.get():
        if value not in text:
            continue
        if len(value) >= _SHORT:
            text = text.replace(value, MASK)
        else:
            text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", MASK, text)
    return text


def mask_error(exc: DataGolError) -> DataGolError:
    """``exc`` with its message (and the server's, if any) masked, in place."""
    if _MASKED.get():
        exc.args = tuple(mask(a) if isinstance(a, str) else a for a in exc.args)
        if isinstance(exc, ApiError):
            exc.server_message = mask(exc.server_message)
    return exc
