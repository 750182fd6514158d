"""What the Pulumi engine hands a provider, and what it must get back.

The engine's wire is not Python's: a value not known at preview is a ``pulumi.output.Unknown``
object in check and diff (the ``UNKNOWN`` string in a program's preview), every number is a
64-bit float, secrets may come wrapped, and a null output is dropped (and shown as unknown in a
preview). These helpers take values off that wire and put outputs on it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from pulumi.output import Output, Unknown
from pulumi.runtime import rpc

#: Deeper rows are refused: they are almost certainly a mistake, and json would overflow
#: Python's stack on them long before the service could make sense of them.
MAX_ROW_DEPTH = 32


_SCALARS = frozenset((int, float, bool, type(None)))
_SECRET_SIG_KEY = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig


def scan(value: Any, limit: int = 2 * MAX_ROW_DEPTH) -> tuple[bool, bool, int, bool]:
    """One pass over a value: (holds an unknown, holds a secret wrapper, container depth,
    holds a float).

    Iterative, so hostile nesting cannot exhaust the stack, and it stops descending below
    ``limit``. Scalars are checked where they stand rather than queued: with 100,000 rows this
    walk is most of what ``check`` costs. Unknowns come as ``pulumi.output.Unknown`` objects
    from the engine (check, diff) and as the ``UNKNOWN`` string in a program's preview.
    """
    unknown = secret = floats = False
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict or (kind is not list and isinstance(item, Mapping)):
            children = item.values()
            if _SECRET_SIG_KEY in item and item[_SECRET_SIG_KEY] == _SECRET_SIG:
                secret = True
        elif kind is list or kind is tuple:
            children = item
        else:
            unknown = unknown or kind is Unknown or (kind is str and item == rpc.UNKNOWN)
            floats = floats or kind is float
            continue
        if depth > deepest:
            deepest = depth
        if depth > limit:
            continue
        for child in children:
            kind = type(child)
            if kind is str:
                if child == rpc.UNKNOWN:
                    unknown = True
            elif kind is float:
                floats = True
            elif kind in _SCALARS:
                continue
            elif kind is Unknown:
                unknown = True
            elif kind is dict or kind is list or isinstance(child, (Mapping, tuple)):
                stack.append((child, depth + 1))
    return unknown, secret, deepest, floats


#: Beyond this, a whole number cannot cross the engine intact: it carries every number as a
#: 64-bit float.
MAX_SAFE_INTEGER = 2**53


def whole_numbers(value: Any) -> Any:
    """``value`` with floats that hold a whole number (as the engine delivers ``1``) as ints.

    Used on rows, triggers and ids, so that DataGOL receives ``{"id": 1}``, never ``1.0``.
    Floats beyond :data:`MAX_SAFE_INTEGER` stay floats: the program refuses ints that large
    (:func:`inexact`), so such a float was a float to begin with.
    """
    kind = type(value)
    if kind is float:
        return int(value) if value.is_integer() and abs(value) <= MAX_SAFE_INTEGER else value
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return {k: whole_numbers(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [whole_numbers(v) for v in value]
    return value


def legacy_floats(value: Any) -> Any:
    """``value`` as versions before 0.2 stored it: every number a float, as the engine sent it."""
    kind = type(value)
    if kind is int:
        return float(value)
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return {k: legacy_floats(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [legacy_floats(v) for v in value]
    return value


class Inexact(NamedTuple):
    """What in a value would not reach DataGOL as the program wrote it."""

    #: Paths of ints beyond 2**53: the engine carries numbers as 64-bit floats and rounds them.
    unsafe_integers: list[str]
    #: Paths of nulls held by a map: the SDK's dynamic-provider server drops them.
    nulls: list[str]
    #: Whether it holds Outputs or awaitables (what they resolve to is checked then).
    pending: bool


_FINE = Inexact([], [], False)


def inexact(value: Any, path: str, *, nulls: bool = False) -> Inexact:
    """What in ``value`` (at any depth) would not be sent as written; ``nulls``: look for
    nulls held by maps too (a null in a list survives the wire, one in a map does not).

    A first pass without paths: the program runs this on every run's rows, and naming
    100,000 rows' fields costs far more than looking at them. Iterative, so hostile nesting
    cannot exhaust the stack.
    """
    if not _suspect(value, nulls):
        return _FINE
    unsafe: list[str] = []
    null_paths: list[str] = []
    pending = False
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                unsafe.append(where)
        elif kind is dict or (kind is not list and isinstance(item, Mapping)):
            for key, child in item.items():
                if child is None and nulls:
                    null_paths.append(f"{where}.{key}")
                else:
                    stack.append((child, f"{where}.{key}"))
        elif kind is list or kind is tuple:
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
        elif kind not in _SCALARS and kind is not str:
            pending = pending or is_pending(item)
    return Inexact(sorted(unsafe), sorted(null_paths), pending)


def _suspect(value: Any, nulls: bool) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is float or kind is bool or item is None:
            continue  # the common case first: most of rows is scalars
        if kind is int:
            if abs(item) > MAX_SAFE_INTEGER:
                return True
        elif kind is dict or (kind is not list and isinstance(item, Mapping)):
            children = item.values()
            # `in` compares by identity first: cheap on plain JSON values.
            if nulls and None in children:
                return True
            stack.extend(children)
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif is_pending(item):
            return True
    return False


def big_numbers(value: Any, path: str) -> list[str]:
    """Paths of the numbers in ``value`` of magnitude 2**53 or more, at any depth.

    For values that crossed the engine as floats: there, such a number may be a rounded int
    (2**53 + 1 arrives as 2**53), so it may not be what the program wrote.
    """
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        kind = type(item)
        if kind is float or kind is int:
            # ±Infinity is no rounded int: finite.py refuses it for what it is.
            if abs(item) >= MAX_SAFE_INTEGER and math.isfinite(item):
                found.append(where)
        elif kind is dict or (kind is not list and isinstance(item, Mapping)):
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
        elif kind is list or kind is tuple:
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return sorted(found)


def is_pending(item: Any) -> bool:
    """Whether ``item`` is an Output or an awaitable: known only once it resolves."""
    return isinstance(item, Output) or inspect.isawaitable(item)


def is_unknown(value: Any) -> bool:
    """True when ``value`` is, or contains, a value Pulumi does not know yet (preview)."""
    if wholly_unknown(value):
        return True
    kind = type(value)
    return False if kind is str or kind in _SCALARS else scan(value)[0]


def wholly_unknown(value: Any) -> bool:
    """True when ``value`` itself (not something inside it) is unknown."""
    return type(value) is Unknown or (type(value) is str and value == rpc.UNKNOWN)


def plain(value: Any) -> Any:
    """``value`` with Pulumi's RPC secret wrappers removed, at any depth.

    Providers that do not accept secrets get plain values from the engine; this keeps the
    provider correct when driven directly (tests, other engines) with wrapped values. Values
    without wrappers (the usual case, and large row lists) are returned as they are.
    """
    return unwrap(value) if scan(value)[1] else value


def unwrap(value: Any, depth: int = 0) -> Any:
    if depth > 2 * MAX_ROW_DEPTH:
        return value  # too deep to be valid; check_run refuses it with a message
    if rpc.is_rpc_secret(value):
        return unwrap(rpc.unwrap_rpc_secret(value), depth + 1)
    if isinstance(value, Mapping):
        return {k: unwrap(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [unwrap(v, depth + 1) for v in value]
    return value
