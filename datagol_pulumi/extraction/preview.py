"""What the preview asks DataGOL before an extraction configuration is created.

A create refuses when the element already holds a configuration with the declared title but
other values, or several with that title (:func:`lifecycle.conflict`: one declaration never
makes two configurations). The same read, Get Extractions of the element, at ``check`` of a
new ``Extraction`` lets the preview refuse it too, naming the same fix, instead of a green
preview and a red ``up``. As for the runs' checks (:mod:`datagol_pulumi.preview_checks`): no
credentials, or credentials DataGOL refuses, fail the check; an answer that tells nothing
(network, 5xx, another shape) is left to ``up``; a value still unknown skips the read, and
``datagol:skipPreviewReads`` turns it off.

An update (one PUT) of a configuration deleted in DataGOL's UI meanwhile fails with a 404: the
preview of it reads the element's list at ``diff`` and fails with the same message
(:func:`update_refusal`); a list that tells nothing is left to ``up``.

In an update the engine calls create right after check: the create takes the check's answer
(:func:`recalled`, once, if at most a minute old) instead of reading the element again.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Collection, Mapping
from typing import Any

from ..errors import AuthenticationError, ConfigurationError, DataGolError
from ..operations import Context
from ..preview_checks import SET_CREDENTIALS, SKIP_HINT
from ..wire import scan
from . import lifecycle

#: What the read needs, known and non-empty.
_ELEMENT = ("workspace_id", "element_type", "element_id", "title")
#: How old a check's answer the create that follows may take instead of reading again.
MAX_AGE_SECONDS = 60.0

_Key = tuple[str, ...]
_ANSWERS: weakref.WeakKeyDictionary[Context, dict[_Key, tuple[float, list[Any]]]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _key(inputs: Mapping[str, Any]) -> _Key:
    return tuple(str(inputs.get(k)) for k in _ELEMENT)


def recalled(context: Context, inputs: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The configurations titled as declared that check read for this element, once (None:
    none read, or too old: the create reads)."""
    with _LOCK:
        answer = _ANSWERS.get(context, {}).pop(_key(inputs), None)
    if answer is None or time.monotonic() - answer[0] > MAX_AGE_SECONDS:
        return None
    return answer[1]


def refusals(
    context: Context,
    olds: Mapping[str, Any] | None,
    inputs: Mapping[str, Any],
    name: str,
    secret: Collection[str] = (),
) -> list[tuple[str, str]]:
    """(property, reason) for a new configuration ``up`` would refuse to create; raises
    :class:`ConfigurationError` for missing or refused credentials. ``secret``: the inputs
    the program marked secret (the refusal quotes the title and names the element)."""
    settings = context.settings
    if settings.skip_preview_reads or (olds and any(not k.startswith("__") for k in olds)):
        return []  # reads off, or a configuration the stack already has
    if not all(isinstance(inputs.get(k), str) and inputs.get(k) for k in _ELEMENT):
        return []
    if any(k in secret for k in _ELEMENT):
        return []
    if scan(dict(inputs))[0]:  # a value unknown at preview cannot be compared
        return []
    if not (settings.token or settings.uses_oauth):
        raise ConfigurationError(
            "DataGOL: no credentials are configured, and this update creates extraction "
            f"configuration {name or inputs['title']!r}. {SET_CREDENTIALS}"
        )
    try:
        existing = lifecycle.titled(context.client(), inputs)
    except AuthenticationError as exc:
        raise ConfigurationError(
            f"Checked at preview with Get Extractions (a read that costs nothing); nothing was "
            f"sent. {exc} {SKIP_HINT}"
        ) from None
    except DataGolError:
        return []  # nothing verified: `up`'s create reads again before its POST
    with _LOCK:
        _ANSWERS.setdefault(context, {})[_key(inputs)] = (time.monotonic(), existing)
    refusal = lifecycle.conflict(existing, inputs, name)
    return [("title", f"{refusal} (checked at preview with Get Extractions)")] if refusal else []


def update_refusal(context: Context, resource_id: str) -> ConfigurationError | None:
    """Why the update of the configuration ``resource_id`` names would fail: DataGOL no longer
    lists it for its element (deleted outside Pulumi). None when it is listed, or when the read
    tells nothing (reads off, no credentials, an error, another shape, no such element)."""
    settings = context.settings
    if settings.skip_preview_reads or not (settings.token or settings.uses_oauth):
        return None
    try:
        held = lifecycle.held_ids(context.client(), resource_id)
    except DataGolError:
        return None
    extraction_id = resource_id.rsplit("/", 1)[-1]  # held_ids parsed it: the last part
    if held is None or extraction_id in held:
        return None
    return ConfigurationError(
        f"{lifecycle.deleted_outside(extraction_id)} (checked at preview with Get Extractions)"
    )
