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

import atexit
import threading
import uuid
import weakref
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from . import engine_link, engine_log
from .client.masking import MASK
from .config import NAMESPACE, Settings
from .errors import ConfigurationError
from .ledger import Ledger
from .operations import SECRET_KEYS_KEY
from .reconcile import NOT_SENT
from .runs import has_pending
from .secrecy import is_secret, secret_inputs
from .tally import KEPT_NAMES, Tally, Totals, for_update
from .validation import changed_properties, run_secret
from .wire import is_unknown, plain

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
    if is_unknown(runs) or not isinstance(runs, Mapping):
        return {}, [], False
    previous = (plain(olds).get("results") or {}) if olds else {}
    targets: Targets = {}
    keys: list[str] = []
    for key, inputs in sorted(runs.items()):  # named in a stable order
        old = previous.get(key)
        ledger = plan(inputs, old if isinstance(old, Mapping) else None, group=True)
        if ledger is not None and ledger.batches:
            _add(targets, inputs, ledger, run_secret(str(key), secret, secret_keys))
            keys.append(str(key))
    return targets, keys, True


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
    owner: Any,
    urn: str,
    targets: Targets,
    limit: int,
    keys: list[str] | None = None,
    *,
    tenant: str = "",
) -> Totals | None:
    """Count a resource's runs in its update, say in one short line what it will send, and
    refuse it when the update would go over ``limit`` (0: none). None when it sends nothing
    (a no-op is silent). The update's totals are shown once, when it ends (:func:`summary`).

    ``keys``: a group's keys triggered, named as ``group[key]``; ``tenant``: the base URL.
    """
    runs = sum(t[0] for t in targets.values())
    if not runs:
        return None
    name = urn.rsplit("::", 1)[-1] if urn else "(unnamed)"
    names = [f"{name}[{k}]" for k in keys] if keys is not None else [name]
    # Without a URN (direct use) nothing tells two resources apart: each is counted.
    key = urn or f"(unnamed {uuid.uuid4().hex})"
    tally = _tally(owner)
    placed = {f"{_tenant(tenant)}{TENANT_END}{t}": v for t, v in targets.items()}
    totals, added = tally.charge(key, names, placed, limit)
    if not added:
        first = tally.refuse(totals.runs + runs)
        raise TriggerLimitExceeded(
            refusal(totals, runs, names, limit) if first else refused_again(limit)
        )
    _said(urn, tally, limit, announcement(targets, names if keys else []))
    return totals


#: Between a target's tenant and the rest of it, in the tally's keys.
TENANT_END = "\t"


def _tenant(base_url: str) -> str:
    """The tenant as shown: its base URL, without any user or password in it."""
    parts = urlsplit(base_url or "")
    if not parts.netloc:
        return base_url or "(default)"
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


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


def announcement(targets: Targets, keys: list[str]) -> str:
    """The one short line of a resource: what it triggers, where (the update's totals are
    said once, at its end)."""
    here = "; ".join(f"{_amounts(*v)} in {t}" for t, v in sorted(targets.items()))
    if keys:
        more = len(keys) - KEPT_NAMES
        here += f" ({', '.join(keys[:KEPT_NAMES])}{f' and {more} more' if more > 0 else ''})"
    return f"DataGOL: triggers {here}"


def summary(totals: Totals, limit: int) -> str:
    """The update's bill, said once: totals, then per tenant, then per workspace and
    extraction, in a stable order."""
    bound = f"limit {limit}" if limit else "no limit"
    amounts = _amounts(totals.runs, totals.batches, totals.rows, totals.hidden)
    if totals.refused:
        head = (
            f"DataGOL: this update went over the limit of {limit} runs at {totals.refused} "
            f"({LIMIT_KEY}); counted before it: {amounts or '0 runs'}"
        )
    else:
        head = (
            f"DataGOL bill of this update: {amounts}, paid extraction jobs ({bound}, {LIMIT_KEY})"
        )
    tenants: dict[str, dict[str, list[int]]] = {}
    for placed, counts in totals.targets.items():
        tenant, _, target = placed.rpartition(TENANT_END)
        tenants.setdefault(tenant or "(default)", {})[target] = counts
    lines = [head]
    for tenant, targets in sorted(tenants.items()):
        sums = [sum(c[i] for c in targets.values()) for i in range(4)]
        lines.append(f"  tenant {tenant}: {_amounts(*sums)}")
        lines.extend(f"    {t}: {_amounts(*c)}" for t, c in sorted(targets.items()))
    return "\n".join(lines)


def refusal(totals: Totals, runs: int, names: list[str], limit: int) -> str:
    """Why the update stops here, and the ways out (said by its first refused resource)."""
    at_least = totals.runs + runs
    counted = totals.names + names
    shown = ", ".join(counted[:KEPT_NAMES])
    more = at_least - min(len(counted), KEPT_NAMES)
    return (
        f"This update would trigger at least {at_least} DataGOL runs (paid extraction jobs), "
        f"over the limit of {limit} per update ({LIMIT_KEY}). This resource was not sent, "
        f"nor anything after it. Runs counted: {shown}{f' and {more} more' if more > 0 else ''}"
        ". Ways out: if this is intended, "
        f"raise the limit for this update only: `{LIMIT_ENV}=<runs> pulumi up` (0: no limit), "
        f"or for the stack: `pulumi config set {LIMIT_KEY} <runs>`; update part of the stack "
        "with `pulumi up --target <urn>`; or split the change into smaller updates"
    )


def refused_again(limit: int) -> str:
    """Every later refusal of the same update: the first one said why and the ways out."""
    return (
        f"Not sent: this update is over the limit of {limit} DataGOL runs ({LIMIT_KEY}), see above"
    )


# -- where it is said ----------------------------------------------------------------------------

_SAID_LOCK = threading.Lock()
#: (engine address, URN) already announced by this process: the engine checks a replaced
#: resource twice (once with its old inputs, once without), and one line is enough.
_SAID: set[tuple[str, str]] = set()
#: Engine address -> (tally, limit) whose summary this process shows at exit.
_PENDING: dict[str, tuple[Tally, int]] = {}


def _said(urn: str, tally: Tally, limit: int, message: str) -> None:
    """The resource's line, as its status in the CLI's display (not repeated in the
    Diagnostics); and the summary to show when this provider process ends. Nothing outside
    an engine."""
    address = engine_link.address()
    if address is None:
        return
    with _SAID_LOCK:
        if (address, urn) in _SAID:
            return
        _SAID.add((address, urn))
        first = not _PENDING
        _PENDING[address] = (tally, limit)
    if first:
        atexit.register(say_summary)
    engine_log.status(address, urn, message)


def say_summary() -> None:
    """Show the update's totals once: the engine ends every provider process of a deployment
    when it is done, and the first one to end says them (the others find them said)."""
    with _SAID_LOCK:
        pending = list(_PENDING.items())
        _PENDING.clear()
    for address, (tally, limit) in pending:
        totals = tally.claim_summary()
        if totals is not None:
            engine_log.info(address, "", summary(totals, limit))


# -- the faces' hooks ----------------------------------------------------------------------------


def on_check(
    owner: Any,
    settings: Settings,
    urn: str,
    olds: Mapping[str, Any] | None,
    inputs: Mapping[str, Any],
    *,
    group: bool,
) -> None:
    """``check`` of a resource the engine is about to create (no old inputs): its whole bill.
    An existing resource is counted by :func:`on_diff`; inputs that fail check are not.
    ``settings``: its provider's (the tenant and the limit)."""
    if olds:
        return
    limit, tenant = settings.max_triggers_per_update, settings.base_url
    if group:
        targets, keys, _ = group_charge(None, inputs)
        account(owner, urn, targets, limit, keys, tenant=tenant)
    else:
        account(owner, urn, run_charge(None, inputs), limit, tenant=tenant)


def on_diff(
    owner: Any,
    settings: Settings,
    urn: str,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replaces: list[str],
    *,
    group: bool,
) -> None:
    """``diff`` of a resource the stack has: what its update (or replacement) sends."""
    limit, tenant = settings.max_triggers_per_update, settings.base_url
    if group:
        targets, keys, _ = group_charge(olds, news)
        account(owner, urn, targets, limit, keys, tenant=tenant)
    else:
        replaced = bool(replaces)
        account(owner, urn, run_charge(olds, news, replaced=replaced), limit, tenant=tenant)
