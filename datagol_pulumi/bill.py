"""Know the bill before you pay it: what an update will trigger, said in preview, and a limit.

Every triggered run is a paid extraction job. The engine calls ``check`` for every resource it
is about to create and ``diff`` for every one it already has, in `pulumi preview` and in
`pulumi up` alike, before it sends the resource's create or update. There each face asks this
module what the operation will send, with the rules the operations themselves follow
(:func:`operations.update_run`, :func:`reconcile.reconcile_group`): a create sends every batch
of its run, an update sends all of them when a trigger input changed, only the batches that
never reached DataGOL when some did not, and nothing otherwise; a group does that per key.

The count is kept per update (:mod:`datagol_pulumi.tally`); a resource that would take it over
``datagol:maxTriggersPerUpdate`` is refused, so the preview fails before any request. Each
counted resource gets a message through the engine's ``Log`` service, the channel the engine
gives every provider process (the dynamic provider's SDK offers none): the CLI shows it under
the resource and in the preview's Diagnostics.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Collection, Mapping
from typing import Any

from . import engine_link, engine_log
from .client.masking import MASK
from .config import NAMESPACE
from .errors import ConfigurationError
from .ledger import Ledger
from .operations import SECRET_KEYS_KEY
from .reconcile import NOT_SENT
from .runs import has_pending
from .secrecy import is_secret, secret_inputs
from .tally import KEPT_NAMES, Tally, Totals, for_update
from .validation import changed_properties, run_secret
from .wire import is_unknown, plain, wholly_unknown

LIMIT_KEY = f"{NAMESPACE}:maxTriggersPerUpdate"
LIMIT_ENV = "DATAGOL_MAX_TRIGGERS_PER_UPDATE"

#: Per target ("workspace W, extraction E"): [runs, batches, selected rows, runs whose
#: batches and rows are secret (not in the two before)].
Targets = dict[str, list[int]]


class TriggerLimitExceeded(ConfigurationError):
    """An update would trigger more runs than ``datagol:maxTriggersPerUpdate`` allows."""


def plan(inputs: Mapping[str, Any], old: Mapping[str, Any] | None, *, group: bool) -> Ledger | None:
    """The batches the operation on one run will send (None: nothing), from its new inputs and
    its recorded outputs (None: a new run).

    The rules of :func:`operations.update_run` and :func:`reconcile.reconcile_group`; a
    replacement is a new run (``old`` None).
    """
    size = inputs.get("batch_size")
    if isinstance(size, float) and size.is_integer():  # numbers cross the engine as floats
        inputs = {**inputs, "batch_size": int(size)}
    if old is None:
        return Ledger.plan(inputs)
    replace, trigger, _ = changed_properties(old, inputs)
    if trigger or (group and (replace or old.get("status") == NOT_SENT)):
        return Ledger.plan(inputs)
    if has_pending(old):
        ledger = Ledger.from_outputs(old)
        ledger.resplit(inputs.get("batch_size"))
        return Ledger([ledger.batches[i] for i in ledger.pending()])
    return None


def _target(inputs: Mapping[str, Any], secret: Collection[str]) -> str:
    def shown(prop: str) -> str:
        value = inputs.get(prop)
        if is_secret(prop, secret):
            return MASK
        return "(known at update)" if value is None or is_unknown(value) else str(value)

    return f"workspace {shown('workspace_id')}, extraction {shown('extraction_id')}"


def _add(
    targets: Targets, inputs: Mapping[str, Any], ledger: Ledger, secret: Collection[str]
) -> None:
    total = targets.setdefault(_target(inputs, secret), [0, 0, 0, 0])
    total[0] += 1
    if is_secret("rows", secret) or is_secret("batch_size", secret):
        # Requests and rows are computed from them, and kept secret like them (secrecy.DERIVED).
        total[3] += 1
        return
    total[1] += len(ledger.batches)
    total[2] += sum(b.rows[1] - b.rows[0] for b in ledger.batches if b.rows)


def run_charge(
    olds: Mapping[str, Any] | None, news: Mapping[str, Any], *, replaced: bool = False
) -> Targets:
    """What an ExtractionRun's create (``olds`` None), replacement or update sends."""
    secret = secret_inputs(news)
    news = plain(news)
    ledger = plan(news, None if replaced or olds is None else plain(olds), group=False)
    targets: Targets = {}
    if ledger is not None and ledger.batches:
        _add(targets, news, ledger, secret)
    return targets


def group_charge(
    olds: Mapping[str, Any] | None, news: Mapping[str, Any]
) -> tuple[Targets, list[str], bool]:
    """What an ExtractionRunGroup's create (``olds`` None) or update sends: per target, the
    keys triggered, and whether its runs are known (in preview they may not be yet)."""
    secret = secret_inputs(news)
    keys_held = plain(news.get(SECRET_KEYS_KEY))
    secret_keys = {str(k) for k in keys_held} if isinstance(keys_held, list) else set()
    runs = plain(news).get("runs")
    # Runs whose extraction id is still unknown (an Extraction created by this update) count:
    # only runs not known at all are left to the update.
    if wholly_unknown(runs) or not isinstance(runs, Mapping):
        return {}, [], False
    previous = (plain(olds).get("results") or {}) if olds else {}
    targets: Targets = {}
    keys: list[str] = []
    known = True
    for key, inputs in sorted(runs.items()):  # named in a stable order
        if not isinstance(inputs, Mapping):
            known = False
            continue
        old = previous.get(key)
        ledger = plan(inputs, old if isinstance(old, Mapping) else None, group=True)
        if ledger is not None and ledger.batches:
            _add(targets, inputs, ledger, run_secret(str(key), secret, secret_keys))
            keys.append(str(key))
    return targets, keys, known


# -- the count of the update, its messages and its limit -----------------------------------------

_OWN: weakref.WeakKeyDictionary[Any, Tally] = weakref.WeakKeyDictionary()
_OWN_LOCK = threading.Lock()


def _tally(owner: Any) -> Tally:
    """The update's tally; outside an engine's provider process, one per ``owner`` (a
    provider's configuration), so that tests and tools never share a count."""
    address = engine_link.address()
    if address is not None:
        return for_update(address)
    with _OWN_LOCK:
        tally = _OWN.get(owner)
        if tally is None:
            tally = _OWN[owner] = Tally()
        return tally


def account(
    owner: Any, urn: str, targets: Targets, limit: int, keys: list[str] | None = None
) -> Totals | None:
    """Count a resource's runs in its update, say what it will send, and refuse it when the
    update would go over ``limit`` (0: none). None when it sends nothing (a no-op is silent).

    ``keys``: a group's keys triggered, named in messages as ``group[key]``.
    """
    runs = sum(t[0] for t in targets.values())
    if not runs:
        return None
    name = urn.rsplit("::", 1)[-1] if urn else "(unnamed)"
    names = [f"{name}[{k}]" for k in keys] if keys is not None else [name]
    # Without a URN (direct use) nothing tells two resources apart: each is counted.
    key = urn or f"(unnamed {uuid.uuid4().hex})"
    totals, added = _tally(owner).charge(key, names, targets, limit)
    if not added:
        raise TriggerLimitExceeded(refusal(totals, runs, names, limit))
    _say(urn, announcement(targets, totals, limit, names if keys else []))
    return totals


def _amounts(runs: int, batches: int, rows: int, hidden: int = 0) -> str:
    """Like "3 runs in 5 requests, 9 selected rows", and how many runs' figures are secret."""
    shown = runs - hidden
    parts = []
    if shown:
        text = f"{shown} run{'s' * (shown != 1)}"
        if batches != shown:
            text += f" in {batches} requests"
        if rows:
            text += f", {rows} selected row{'s' * (rows != 1)}"
        parts.append(text)
    if hidden:
        parts.append(
            f"{hidden} run{'s' * (hidden != 1)} with secret rows (requests and rows not shown)"
        )
    return " and ".join(parts)


def announcement(targets: Targets, totals: Totals, limit: int, keys: list[str]) -> str:
    """The message under a resource: what it triggers, where, and the update's count so far."""
    here = "; ".join(f"{_amounts(*v)} in {t}" for t, v in sorted(targets.items()))
    named = ""
    if keys:
        shown = ", ".join(keys[:KEPT_NAMES])
        named = (
            f" ({shown}{f' and {len(keys) - KEPT_NAMES} more' if len(keys) > KEPT_NAMES else ''})"
        )
    bound = f"limit {limit}" if limit else "no limit"
    return (
        f"DataGOL: this update triggers {here}{named}: paid extraction jobs. This update so far: "
        f"{_amounts(totals.runs, totals.batches, totals.rows, totals.hidden)} "
        f"({bound}, {LIMIT_KEY})."
    )


def refusal(totals: Totals, runs: int, names: list[str], limit: int) -> str:
    """Why the update stops here, and the ways out."""
    at_least = totals.runs + runs
    counted = totals.names + names
    shown = ", ".join(counted[:KEPT_NAMES])
    more = at_least - min(len(counted), KEPT_NAMES)
    where = "; ".join(f"{_amounts(*v)} in {t}" for t, v in sorted(totals.targets.items()))
    return (
        f"This update would trigger at least {at_least} DataGOL runs (paid extraction jobs), "
        f"over the limit of {limit} per update ({LIMIT_KEY}). This resource was not sent, "
        f"nor anything after it. Runs counted: {shown}{f' and {more} more' if more > 0 else ''}"
        f"{f' (before this one: {where})' if where else ''}. Ways out: if this is intended, "
        f"raise the limit for this update only: `{LIMIT_ENV}=<runs> pulumi up` (0: no limit), "
        f"or for the stack: `pulumi config set {LIMIT_KEY} <runs>`; update part of the stack "
        "with `pulumi up --target <urn>`; or split the change into smaller updates"
    )


def _say(urn: str, message: str) -> None:
    """Shown by the CLI under the resource (and in the Diagnostics); nothing outside an engine."""
    address = engine_link.address()
    if address is not None:
        engine_log.info(address, urn, message)


# -- the faces' hooks ----------------------------------------------------------------------------


def on_check(
    owner: Any,
    limit: int,
    urn: str,
    olds: Mapping[str, Any] | None,
    inputs: Mapping[str, Any],
    *,
    group: bool,
) -> None:
    """``check`` of a resource the engine is about to create (no old inputs): its whole bill.
    An existing resource is counted by :func:`on_diff`; inputs that fail check are not."""
    if olds:
        return
    if group:
        targets, keys, _ = group_charge(None, inputs)
        account(owner, urn, targets, limit, keys)
    else:
        account(owner, urn, run_charge(None, inputs), limit)


def on_diff(
    owner: Any,
    limit: int,
    urn: str,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replaces: list[str],
    *,
    group: bool,
) -> None:
    """``diff`` of a resource the stack has: what its update (or replacement) sends."""
    if group:
        targets, keys, _ = group_charge(olds, news)
        account(owner, urn, targets, limit, keys)
    else:
        account(owner, urn, run_charge(olds, news, replaced=bool(replaces)), limit)
