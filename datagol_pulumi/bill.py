"""Know the bill before you pay it: what an update will trigger, said in preview, and a limit.

Every triggered run is a paid extraction job. The engine calls ``check`` for every resource it
is about to create and ``diff`` for every one it already has, in `pulumi preview` and in
`pulumi up` alike, before it sends the resource's create or update. There each face asks this
module what the operation will send, with the rules the operations themselves follow
(:func:`operations.update_run`, :func:`reconcile.reconcile_group`): a create sends every batch
of its run, an update sends all of them when a trigger input changed, only the batches that
never reached DataGOL when some did not, and nothing otherwise; a group does that per key.

The count is kept per update (:mod:`datagol_pulumi.tally`); a resource that would take it over
``datagol:maxTriggersPerUpdate`` is refused with a short error, so the preview fails before any
request. The update's bill (its totals per tenant, workspace and extraction, or how far it
counted before the limit and the ways out) is said once, when it ends: the engine sends every
provider process of a deployment Cancel when it is done (and ends them), and the first to hear
either says it, through the engine's ``Log`` service, the channel the engine gives every provider process (the dynamic
provider's SDK offers none). The CLI shows it in the Diagnostics, under the stack.
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
from .tally import Tally, Totals, for_update, name_order
from .validation import changed_properties, run_secret
from .wire import is_unknown, plain, wholly_unknown

LIMIT_KEY = f"{NAMESPACE}:maxTriggersPerUpdate"
LIMIT_ENV = "DATAGOL_MAX_TRIGGERS_PER_UPDATE"
#: Between a target's tenant (base URL) and the rest of it, in the tally's keys.
TENANT_END = "\t"

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
    owner: Any,
    urn: str,
    targets: Targets,
    limit: int,
    keys: list[str] | None = None,
    *,
    tenant: str = "",
) -> Totals | None:
    """Count a resource's runs in its update, and refuse it when the update would go over
    ``limit`` (0: none). None when it sends nothing (a no-op is silent). The update's totals
    are shown once, when it ends (:func:`summary`).

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
        tally.refuse(totals.runs + runs)
        _said(tally, limit)
        raise TriggerLimitExceeded(refusal(limit))
    _said(tally, limit)
    return totals


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


def _named(names: list[str], runs: int) -> str:
    """The runs counted by name, the first few in name order, and how many more."""
    more = runs - len(names)
    return f"{', '.join(sorted(names, key=name_order))}{f' and {more} more' if more > 0 else ''}"


def summary(totals: Totals, limit: int) -> str:
    """The update's bill, said once: its total (or how far it counted before the limit, and
    the ways out), then per tenant (base URL), then per workspace and extraction, in a stable
    order. Its first line holds no figure: the CLI repeats a first line on the stack's row."""
    bound = f"limit {limit}" if limit else "no limit"
    amounts = _amounts(totals.runs, totals.batches, totals.rows, totals.hidden) or "0 runs"
    lines = [f"DataGOL bill of this update (paid extraction jobs; {bound}, {LIMIT_KEY}):"]
    if totals.refused:
        lines.append(
            f"  over the limit of {limit} per update ({LIMIT_KEY}): this update would trigger "
            f"at least {totals.refused} DataGOL runs ({_named(totals.names, totals.refused)}); "
            "the run that went over was not sent, nor anything after it"
        )
        lines.append(f"  counted before the limit: {amounts}")
    else:
        lines.append(f"  total: {amounts} ({_named(totals.names, totals.runs)})")
    tenants: dict[str, dict[str, list[int]]] = {}
    for placed, counts in totals.targets.items():
        tenant, _, target = placed.rpartition(TENANT_END)
        tenants.setdefault(tenant or "(default)", {})[target] = counts
    for tenant, targets in sorted(tenants.items()):
        sums = [sum(c[i] for c in targets.values()) for i in range(4)]
        lines.append(f"  tenant {tenant}: {_amounts(*sums)}")
        lines.extend(f"    {t}: {_amounts(*c)}" for t, c in sorted(targets.items()))
    if totals.refused:
        lines.append(f"  ways out: {WAYS_OUT}")
    return "\n".join(lines)


WAYS_OUT = (
    f"if this is intended, raise the limit for this update only: `{LIMIT_ENV}=<runs> pulumi up`"
    f" (0: no limit), or for the stack: `pulumi config set {LIMIT_KEY} <runs>`; update part of "
    "the stack with `pulumi up --target <urn>`; or split the change into smaller updates"
)


def refusal(limit: int) -> str:
    """A refused resource's error (the CLI shows it on the resource's line and again in the
    Diagnostics): short, since the bill says how far the update counted and the ways out."""
    return (
        f"Not sent: this update is over the limit of {limit} DataGOL runs per update "
        f"({LIMIT_KEY}); the DataGOL bill of this update (under the stack) says how far it "
        "counted and the ways out"
    )


# -- where it is said ----------------------------------------------------------------------------

_SAID_LOCK = threading.Lock()
#: Engine address -> (tally, limit) whose summary this process shows at exit.
_PENDING: dict[str, tuple[Tally, int]] = {}


def _said(tally: Tally, limit: int) -> None:
    """Have this provider process show the update's summary when it ends (nothing outside an
    engine). No line per resource: the CLI prints a resource's message on its line and again
    in the Diagnostics, and hundreds of runs would drown the one total that matters."""
    address = engine_link.address()
    if address is None:
        return
    with _SAID_LOCK:
        first = not _PENDING
        _PENDING[address] = (tally, limit)
    if first:
        atexit.register(say_summary)


def say_summary() -> None:
    """Show the update's totals once: at the engine's Cancel, which ends every deployment
    while the engine still takes messages (both faces call this then), or else when the
    process exits; the first provider process to say them wins (the others find them said)."""
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
