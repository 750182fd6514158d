"""Runs declared in stack YAML: loaded, checked with the provider's own validation, named.

A stack declares its runs under one config key, as a list (each entry with a ``name``) or as a
map of name to run; an optional ``defaults`` map is merged into every run::

    config:
      datagol-pulumi:defaults:
        workspace_id: 6f1c2f0e-8a3b-4c55-9d7e-0a1b2c3d4e5f
      datagol-pulumi:runs:
        orders-new: {extraction_id: ext-1, element_type: COLUMN, element_id: col-9, mode: new}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pulumi
from pulumi.runtime.config import is_config_secret

from .errors import ConfigurationError
from .secrecy import ALL
from .validation import RUN_PROPERTIES, check_run

#: Inputs the program declares resources from (a run that waits gets a completion beside it):
#: kept plain, as run names are, when they come from a secret key.
DECLARING = ("wait_for_completion",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VALID = ", ".join(RUN_PROPERTIES)


def _suggest(key: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower().replace("-", "_")
    if snake in RUN_PROPERTIES:
        return f" (did you mean {snake!r}?)"
    close = difflib.get_close_matches(snake, RUN_PROPERTIES, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_runs(
    runs: Any, defaults: Any = None, *, key: str = "runs", secret: Collection[str] = ()
) -> dict[str, dict[str, Any]]:
    """Run inputs by name from the stack's ``runs`` (list or map) and ``defaults`` values.

    Raises :class:`ConfigurationError` listing every problem, each with the run's name: unknown
    keys (with the valid ones), duplicate names, wrong types and any input ``check`` would refuse.
    ``secret``: the run inputs whose values came from a secret key; a problem with one names it
    without quoting the value.
    """
    problems: list[str] = []
    if defaults is None:
        defaults = {}
    elif not isinstance(defaults, Mapping):
        raise ConfigurationError(
            f"defaults must be a map of run properties, got {type(defaults).__name__}"
        )
    else:
        for name in defaults:
            if name not in RUN_PROPERTIES:
                problems.append(
                    f"defaults: unknown key {name!r}{_suggest(name)}; valid keys: {_VALID}"
                )

    entries: list[tuple[str, str, Any]] = []  # (name, where, spec)
    if isinstance(runs, Mapping):
        entries = [(str(name), f"{key}.{name}", spec) for name, spec in runs.items()]
    elif isinstance(runs, list):
        for index, spec in enumerate(runs):
            where = f"{key}[{index}]"
            name = spec.get("name") if isinstance(spec, Mapping) else None
            if not isinstance(name, str) or not name:
                problems.append(f"{where}: every run in the list needs a `name` (a string)")
                continue
            entries.append((name, where, {k: v for k, v in spec.items() if k != "name"}))
    elif runs is None:
        raise ConfigurationError(f"no runs declared: set `{key}` to a list or map of runs")
    else:
        raise ConfigurationError(
            f"{key} must be a list of runs (each with a name) or a map of name to run, "
            f"got {type(runs).__name__}"
        )

    loaded: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}
    for name, where, spec in entries:
        label = f"run {name!r} ({where})"
        if name in seen:
            problems.append(
                f"{label}: the name {name!r} is already used by {seen[name]}; names must be unique"
            )
            continue
        seen[name] = where
        if not _NAME.match(name):
            problems.append(f"{label}: a name may hold letters, digits, '.', '_' and '-' only")
        if not isinstance(spec, Mapping):
            problems.append(f"{label}: must be a map of run properties, got {type(spec).__name__}")
            continue
        unknown = [k for k in spec if k not in RUN_PROPERTIES]
        for k in unknown:
            problems.append(f"{label}: unknown key {k!r}{_suggest(str(k))}; valid keys: {_VALID}")
        merged = {**defaults, **{k: v for k, v in spec.items() if k not in unknown}}
        inputs, failures = check_run(merged, secret)
        problems.extend(f"{label}: {prop}: {reason}" for prop, reason in failures)
        loaded[name] = inputs
    if problems:
        raise ConfigurationError("invalid runs in stack config:\n  " + "\n  ".join(problems))
    return loaded


def read_runs(config: pulumi.Config, key: str = "runs") -> dict[str, dict[str, Any]]:
    """:func:`load_runs` over the stack's ``runs`` and ``defaults`` keys, every value that
    comes from a key set with ``--secret`` (``--path`` too: the whole key is then secret) given
    to the resources as a secret."""
    defaults = config.get_object("defaults")
    runs_secret = is_config_secret(config.full_key(key))
    defaults_secret = is_config_secret(config.full_key("defaults"))
    named = defaults if isinstance(defaults, Mapping) else {}
    secret = {ALL} if runs_secret else set(named) if defaults_secret else set()
    loaded = load_runs(config.get_object(key), defaults, key=key, secret=secret)
    return keep_secret(loaded, named, runs_secret=runs_secret, defaults_secret=defaults_secret)


def keep_secret(
    loaded: Mapping[str, Mapping[str, Any]],
    defaults: Mapping[str, Any],
    *,
    runs_secret: bool,
    defaults_secret: bool,
    secret: Callable[[Any], Any] = pulumi.Output.secret,
) -> dict[str, dict[str, Any]]:
    """``loaded`` with each value from a secret key wrapped by ``secret``: every run value when
    the runs are secret, the values named in ``defaults`` when those are. The SDK says only
    which keys are secret, not which paths inside them, so the whole key counts. Names and
    :data:`DECLARING` inputs stay plain: resources are declared from them."""
    return {
        name: {
            prop: secret(value)
            if value is not None
            and prop not in DECLARING
            and (runs_secret or (defaults_secret and prop in defaults))
            else value
            for prop, value in inputs.items()
        }
        for name, inputs in loaded.items()
    }
