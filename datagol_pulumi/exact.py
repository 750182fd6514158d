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

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from .errors import ValidationError
from .provider_resource import current_program
from .validation import REPLACE_PROPERTIES
from .wire import MAX_ROW_DEPTH, big_numbers, inexact, is_pending

#: Inputs whose numbers DataGOL must receive exactly (ids, rows, triggers).
EXACT_PROPERTIES = frozenset((*REPLACE_PROPERTIES, "rows", "triggers"))
#: Inputs whose nulls are sent: the other inputs are compared, never sent (triggers), or
#: scalars, where a null means "not given".
NULLS_SENT = frozenset(("rows",))


def exact_input(subject: str, prop: str, value: Any, path: str | None = None) -> Any:
    """``value``, refused (:class:`ValidationError` naming ``subject`` and the path) if it
    would not be sent as written; with its Outputs checked when they resolve.

    ``path`` is where ``value`` stands (``prop`` by default, ``runs.a.rows`` in a group). A
    value holding Outputs is returned copied down to them, each Output in its place checked as
    it resolves: one still unknown in a preview stays unknown in its place
    (``{"table": [unknown]}``), and a secret one stays a secret in its place.
    """
    if prop not in EXACT_PROPERTIES or value is None:
        return value
    return _exact(subject, path or prop, value, prop in NULLS_SENT, 0, False)


def _exact(subject: str, path: str, value: Any, nulls: bool, rounds: int, in_map: bool) -> Any:
    if is_pending(value):
        # Bounded: an Output inside a Mapping that is not a dict is not resolved by from_input.
        if rounds > MAX_ROW_DEPTH:
            return value
        return checked_when_resolved(
            pulumi.Output.from_input(value),
            lambda resolved: _exact(subject, path, resolved, nulls, rounds + 1, in_map),
        )
    if value is None and in_map and nulls:
        raise ValidationError([_null_failure([path])], subject)
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
        failures.append(_null_failure(found.nulls))
    if failures:
        raise ValidationError(failures, subject)
    if not found.pending:
        return value
    return _copied(subject, path, value, nulls, rounds, 0)


def checked_when_resolved(output: pulumi.Output, check: Callable[[Any], Any]) -> pulumi.Output:
    """``output.apply(check)``, where a refusal fails the program only once the program's
    resource hook is registered.

    The SDK starts a gRPC server for resource hooks when the first one is made, and a program
    that fails meanwhile stops it mid-start: grpc's aio server then crashes the process
    (SIGSEGV, grpcio 1.85) and the refusal is never shown. A refusal raised in the program's
    body comes before that server starts; one raised as an Output resolves may not.
    """

    def run(value: Any) -> Any:
        try:
            return check(value)
        except ValidationError as error:
            return _refuse_when_hooks_ready(error)

    return output.apply(run)


async def _refuse_when_hooks_ready(error: ValidationError) -> Any:
    registered = getattr(current_program().failure_hook, "_registered", None)
    if registered is not None:
        with contextlib.suppress(Exception):  # a failed registration is the SDK's to report
            await registered
    raise error


def _null_failure(paths: list[str]) -> tuple[str, str]:
    first = paths[0]
    key = first.rsplit(".", 1)[-1]
    return (
        first,
        f"{first} is null ({len(paths)} such value(s)); Pulumi's dynamic providers drop nulls "
        f"inside maps, so DataGOL would get no {key!r} there: remove {key!r}, or give it a value",
    )


def _copied(subject: str, path: str, value: Any, nulls: bool, rounds: int, depth: int) -> Any:
    # The plain parts were checked (inexact skips Outputs): only the Outputs are left to guard.
    if depth > 2 * MAX_ROW_DEPTH:
        return value  # check refuses values this deep
    if isinstance(value, Mapping):
        return {
            k: _child(subject, f"{path}.{k}", v, nulls, rounds, depth, True)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [
            _child(subject, f"{path}[{i}]", v, nulls, rounds, depth, False)
            for i, v in enumerate(value)
        ]
    return value


def _child(
    subject: str, path: str, value: Any, nulls: bool, rounds: int, depth: int, in_map: bool
) -> Any:
    if is_pending(value):
        return _exact(subject, path, value, nulls, rounds, in_map)
    if isinstance(value, (Mapping, list, tuple)):
        return _copied(subject, path, value, nulls, rounds, depth + 1)
    return value


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
