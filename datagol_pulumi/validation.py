"""The one place where run inputs are checked and normalised.

Used by the provider's ``check`` (so ``pulumi preview`` reports bad input before any request),
by the stack YAML loader in ``__main__.py``, by :class:`ExtractionRunGroup` and by the tests.
Nothing here raises on bad input: every problem becomes a ``(property, reason)`` failure.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Mapping
from typing import Any

from .finite import non_finite_failures
from .ids import NOT_SHOWN, check_id
from .payload import canonical_json, rows_digest
from .properties import GROUP_INPUTS, RUN_INPUTS, names
from .secrecy import ALL, is_secret
from .wire import (
    MAX_ROW_DEPTH,
    is_unknown,
    legacy_floats,
    plain,
    scan,
    unwrap,
    whole_numbers,
    wholly_unknown,
)

# The lists below are derived from the property definitions (datagol_pulumi.properties).
#: Inputs whose change targets another element or extraction: the run is replaced.
REPLACE_PROPERTIES = names(RUN_INPUTS, "replace")
#: Inputs whose change re-triggers the run (an update that sends a request).
TRIGGER_PROPERTIES = names(RUN_INPUTS, "trigger")
#: Inputs that only change how a run is sent or awaited: an update without a request.
SETTING_PROPERTIES = names(RUN_INPUTS, "setting")
RUN_PROPERTIES = REPLACE_PROPERTIES + TRIGGER_PROPERTIES + SETTING_PROPERTIES

DEFAULT_POLL_INTERVAL_SECONDS = 5.0
DEFAULT_TIMEOUT_SECONDS = 3600.0

#: What an absent optional value means, for inputs and outputs alike. An ExtractionRun's
#: outputs carry these instead of null: the engine drops null outputs, and a preview shows a
#: dropped output as unknown, so a no-op preview would list them as changes. ``diff`` compares
#: the same effective values, so an omitted value and its meaning never count as a change.
ABSENT: dict[str, Any] = {
    "where_clause": "",
    "extract_only_new": False,
    "triggers": {},
    "wait_for_completion": False,
    "poll_interval_seconds": DEFAULT_POLL_INTERVAL_SECONDS,
    "timeout_seconds": DEFAULT_TIMEOUT_SECONDS,
    "batch_size": 0,
    "rows_digest": "",
    "row_count": 0,
    "request_id": "",
    "status": "",
    "message": "",
    "error": "",
    "finished_at": "",
    "duration_seconds": 0.0,
    "request_digest": "",
    "masked_values": [],
}


def effective(prop: str, value: Any) -> Any:
    """``value``, or what its absence means (see :data:`ABSENT`)."""
    return ABSENT.get(prop) if value is None else value


def present(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """``outputs`` with every absent value replaced by what it means, for the engine."""
    return {k: (ABSENT[k] if v is None and k in ABSENT else v) for k, v in outputs.items()}


MODES = ("full", "filter", "selected", "new")
ELEMENT_TYPES = ("COLUMN", "FILE", "FOLDER")
#: A single request body above this needs ``batch_size``; services cap bodies well below it.
MAX_UNBATCHED_BODY_BYTES = 16 * 1024 * 1024

Failure = tuple[str, str]

_VALID_KEYS = ", ".join(RUN_PROPERTIES)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _shown(value: Any, hidden: bool, text: str | None = None) -> str:
    """``value`` as a message quotes it (``text``, else its repr), unless it was secret."""
    if hidden:
        return NOT_SHOWN
    return repr(value) if text is None else text


def _check_number(
    inputs: Mapping[str, Any],
    prop: str,
    out: dict,
    failures: list[Failure],
    *,
    integer: bool,
    hidden: bool = False,
) -> None:
    value = inputs.get(prop)
    if value is None or is_unknown(value):
        return
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        failures.append((prop, f"{prop} must be {kind} greater than 0, got {_type_name(value)}"))
    elif integer and (isinstance(value, float) and not value.is_integer()):
        got = _shown(value, hidden, str(value))
        failures.append((prop, f"{prop} must be {kind} greater than 0, got {got}"))
    elif not math.isfinite(value) or value <= 0:
        got = _shown(value, hidden, str(value))
        failures.append((prop, f"{prop} must be {kind} greater than 0, got {got}"))
    else:
        out[prop] = int(value) if integer else value


def _check_bool(inputs: Mapping[str, Any], prop: str, out: dict, failures: list[Failure]) -> None:
    value = inputs.get(prop)
    if value is None or is_unknown(value):
        return
    if not isinstance(value, bool):
        failures.append((prop, f"{prop} must be true or false, got {_type_name(value)}"))


def _check_rows(rows: Any, depth: int, failures: list[Failure]) -> None:
    if not isinstance(rows, list) or not rows:
        got = "an empty list" if rows == [] else _type_name(rows)
        failures.append(
            ("rows", f"mode 'selected' needs rows: a non-empty list of objects, got {got}")
        )
        return
    for index, row in enumerate(rows):
        if type(row) is not dict and not isinstance(row, Mapping):
            failures.append(("rows", f"rows[{index}] must be a JSON object, got {_type_name(row)}"))
            return
    if depth > MAX_ROW_DEPTH + 1:  # the list itself is one level
        failures.append(
            ("rows", f"rows are nested deeper than {MAX_ROW_DEPTH} levels; flatten them")
        )


def check_run(
    inputs: Mapping[str, Any], secret: Collection[str] = ()
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate and normalise one run's inputs.

    Returns the normalised inputs (element type upper-cased, mode lower-cased and defaulted,
    numeric ids as strings) and the failures, each naming its property. Values still unknown
    during preview are passed through unchecked. ``secret``: the inputs that hold a secret
    (:func:`secrecy.secret_inputs`); a failure of one says which property and why, never its
    value.
    """
    inputs = dict(inputs)
    scans = {key: scan(value) for key, value in inputs.items()}
    wrapped = {key for key, (_, holds_secret, _, _) in scans.items() if holds_secret}
    for key in wrapped:
        inputs[key] = unwrap(inputs[key])
        scans[key] = scan(inputs[key])
    secret = frozenset(secret) | wrapped  # a value still wrapped as a secret is one too

    def hidden(prop: str) -> bool:
        return is_secret(prop, secret)

    for key in ("rows", "triggers"):
        # Not past the depth that is refused below: whole_numbers recurses.
        if key in scans and scans[key][3] and scans[key][2] <= MAX_ROW_DEPTH + 1:
            inputs[key] = whole_numbers(inputs[key])
    unknown = {key for key, (is_unknown_, _, _, _) in scans.items() if is_unknown_}
    out: dict[str, Any] = dict(inputs)
    failures: list[Failure] = []

    for key in inputs:
        if key not in RUN_PROPERTIES and not key.startswith("__"):
            failures.append(
                (key or repr(key), f"unknown property {key!r}; valid properties: {_VALID_KEYS}")
            )

    for prop in REPLACE_PROPERTIES:
        if not is_unknown(inputs.get(prop)):
            check_id(inputs, prop, out, failures, hidden=hidden(prop))
    refused_ids = {prop for prop, _ in failures}

    workspace_id = out.get("workspace_id")
    if (
        isinstance(workspace_id, str)
        and not is_unknown(workspace_id)
        and "workspace_id" not in refused_ids
    ):
        try:
            uuid.UUID(workspace_id)
        except ValueError:
            got = _shown(workspace_id, hidden("workspace_id"))
            failures.append(("workspace_id", f"workspace_id must be a UUID, got {got}"))

    element_type = out.get("element_type")
    if (
        isinstance(element_type, str)
        and not is_unknown(element_type)
        and "element_type" not in refused_ids
    ):
        if element_type.upper() in ELEMENT_TYPES:
            out["element_type"] = element_type.upper()
        else:
            got = _shown(element_type, hidden("element_type"))
            failures.append(
                (
                    "element_type",
                    f"element_type must be one of {', '.join(ELEMENT_TYPES)}, got {got}",
                )
            )

    mode = inputs.get("mode")
    if mode is None:
        mode = out["mode"] = "full"
    if is_unknown(mode):
        mode = None  # nothing below can be checked against an unknown mode
    elif not isinstance(mode, str) or mode.lower() not in MODES:
        got = _shown(mode, hidden("mode"))
        failures.append(("mode", f"mode must be one of {', '.join(MODES)}, got {got}"))
        mode = None
    else:
        mode = out["mode"] = mode.lower()
    # The mode, as the messages below name it: a secret mode is not named.
    named_mode = "the secret mode" if hidden("mode") else f"mode {mode!r}"

    where_clause = inputs.get("where_clause")
    if where_clause is not None and not is_unknown(where_clause):
        if not isinstance(where_clause, str):
            failures.append(
                ("where_clause", f"where_clause must be a string, got {_type_name(where_clause)}")
            )
        elif mode in ("full", "selected"):
            failures.append(
                (
                    "where_clause",
                    f"where_clause is not used with {named_mode}; use mode 'filter' or 'new', "
                    "or remove where_clause",
                )
            )
    if mode == "filter" and (where_clause is None or where_clause == ""):
        failures.append(
            ("where_clause", "mode 'filter' needs a where_clause, e.g. \"status = 'open'\"")
        )

    rows = inputs.get("rows")
    if mode == "selected":
        if "rows" not in unknown:
            _check_rows(rows, scans.get("rows", (False, False, 0, False))[2], failures)
    elif rows is not None and mode is not None:
        failures.append(
            ("rows", f"rows are only sent with mode 'selected', not {named_mode}; remove rows")
        )

    _check_bool(inputs, "extract_only_new", out, failures)
    if mode == "new" and inputs.get("extract_only_new") is False:
        failures.append(
            (
                "extract_only_new",
                "mode 'new' always extracts only new records; remove extract_only_new: false",
            )
        )

    triggers = inputs.get("triggers")
    if triggers is not None and not is_unknown(triggers) and not isinstance(triggers, Mapping):
        failures.append(
            ("triggers", f"triggers must be a map of values, got {_type_name(triggers)}")
        )

    floats = [p for p in ("rows", "triggers") if p in scans and scans[p][3]]
    failures.extend(non_finite_failures(inputs, floats, hidden))

    _check_bool(inputs, "wait_for_completion", out, failures)
    for prop in ("poll_interval_seconds", "timeout_seconds", "batch_size"):
        integer = prop == "batch_size"
        _check_number(inputs, prop, out, failures, integer=integer, hidden=hidden(prop))
    if inputs.get("batch_size") is not None and mode not in ("selected", None):
        failures.append(
            ("batch_size", f"batch_size only applies to mode 'selected', not {named_mode}")
        )

    if mode == "selected" and "rows" not in unknown and not any(p == "rows" for p, _ in failures):
        _check_encoding(rows, inputs.get("batch_size"), failures)
    return out, failures


def _check_encoding(rows: list[Any], batch_size: Any, failures: list[Failure]) -> None:
    try:
        size = len(canonical_json(rows))
    except TypeError as exc:
        failures.append(("rows", f"rows must hold only JSON values (strings, numbers, ...): {exc}"))
        return
    if batch_size is None and size > MAX_UNBATCHED_BODY_BYTES:
        failures.append(
            (
                "batch_size",
                f"rows exceed {MAX_UNBATCHED_BODY_BYTES // (1024 * 1024)} MiB in one request; "
                "set batch_size to send them in batches",
            )
        )


def changed_properties(
    old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any]
) -> tuple[list[str], list[str], list[str]]:
    """Which declared inputs changed: (replace, re-trigger, update-only) property names.

    The engine hands ``diff`` the previous *outputs*; they echo every input but ``rows``, whose
    digest stands in for them. Values are compared by what they mean (an omitted where clause
    equals ""; 1.0 equals 1). Unknown new values count as changed. ``__provider`` is never
    compared: a new SDK or package version must not re-trigger anything.
    """
    new_inputs = plain(dict(new_inputs))
    old_outputs = plain(dict(old_outputs))
    changed: dict[str, list[str]] = {"replace": [], "trigger": [], "setting": []}
    for group, props in (
        ("replace", REPLACE_PROPERTIES),
        ("trigger", TRIGGER_PROPERTIES),
        ("setting", SETTING_PROPERTIES),
    ):
        for prop in props:
            new = new_inputs.get(prop)
            if is_unknown(new):
                changed[group].append(prop)
            elif prop == "rows":
                if not _same_rows(new, old_outputs.get("rows_digest")):
                    changed[group].append(prop)
            elif effective(prop, new) != effective(prop, old_outputs.get(prop)):
                changed[group].append(prop)
    return changed["replace"], changed["trigger"], changed["setting"]


def _same_rows(rows: Any, old_digest: Any) -> bool:
    if rows is not None and scan(rows)[3]:
        rows = whole_numbers(rows)  # the engine hands diff floats; check sent ints
    if rows_digest(rows) == (old_digest or None):
        return True
    # Versions before 0.2 sent and hashed numbers as the engine delivered them (1 as 1.0): the
    # same rows must not re-trigger a paid run after an upgrade.
    return rows is not None and bool(old_digest) and rows_digest(legacy_floats(rows)) == old_digest


GROUP_PROPERTIES = names(GROUP_INPUTS)
#: Group-level values that each run inherits unless it sets its own.
GROUP_RUN_DEFAULTS = ("wait_for_completion", "poll_interval_seconds", "timeout_seconds")
DEFAULT_MAX_CONCURRENCY = 16


def check_group(
    inputs: Mapping[str, Any],
    secret: Collection[str] = (),
    secret_runs: Collection[str] = (),
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate an ExtractionRunGroup: each run as :func:`check_run` does, named by its key.

    Group-level defaults are folded into every run, so each normalised run is complete.
    ``secret``: the group's inputs that hold a secret; ``secret_runs``: the run keys whose
    inputs do. No message quotes a value of either.
    """
    inputs = plain(dict(inputs))
    out: dict[str, Any] = {}
    failures: list[Failure] = []
    for key in inputs:
        if key not in GROUP_PROPERTIES and not key.startswith("__"):
            failures.append(
                (
                    key or repr(key),
                    f"unknown property {key!r}; valid properties: {', '.join(GROUP_PROPERTIES)}",
                )
            )
    defaults_out: dict[str, Any] = {}
    _check_bool(inputs, "wait_for_completion", defaults_out, failures)
    for prop in ("poll_interval_seconds", "timeout_seconds"):
        hide = is_secret(prop, secret)
        _check_number(inputs, prop, defaults_out, failures, integer=False, hidden=hide)
    for prop in GROUP_RUN_DEFAULTS:
        if inputs.get(prop) is not None:
            out[prop] = inputs[prop]

    max_concurrency = inputs.get("max_concurrency")
    if max_concurrency is None:
        out["max_concurrency"] = DEFAULT_MAX_CONCURRENCY
    else:
        hide = is_secret("max_concurrency", secret)
        _check_number(inputs, "max_concurrency", out, failures, integer=True, hidden=hide)

    runs = inputs.get("runs")
    if wholly_unknown(runs):
        out["runs"] = runs
        return out, failures
    if not isinstance(runs, Mapping) or not runs:
        failures.append(
            ("runs", f"runs must be a non-empty map of name to run, got {_type_name(runs)}")
        )
        return out, failures
    normalised_runs: dict[str, Any] = {}
    for key, spec in runs.items():
        if wholly_unknown(spec):
            normalised_runs[key] = spec
            continue
        if not isinstance(spec, Mapping):
            failures.append((f"runs.{key}", f"run {key!r} must be a map of run properties"))
            continue
        merged = {p: inputs.get(p) for p in GROUP_RUN_DEFAULTS if inputs.get(p) is not None}
        merged.update({k: v for k, v in spec.items() if v is not None})
        normalised, run_failures = check_run(merged, run_secret(key, secret, secret_runs))
        normalised_runs[key] = normalised
        failures.extend((f"runs.{key}.{prop}", f"run {key!r}: {why}") for prop, why in run_failures)
    out["runs"] = normalised_runs
    return out, failures


def run_secret(key: str, secret: Collection[str], secret_runs: Collection[str]) -> frozenset[str]:
    """The inputs of a group's run ``key`` that hold a secret: all of them when the run (or
    the whole ``runs`` input) is secret, else the group-level defaults it inherits that are."""
    if is_secret("runs", secret) or ALL in secret_runs or key in secret_runs:
        return frozenset({ALL})
    return frozenset(p for p in GROUP_RUN_DEFAULTS if is_secret(p, secret))
