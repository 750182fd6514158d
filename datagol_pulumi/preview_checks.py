"""What the preview asks DataGOL before anything is sent: credentials, and extraction ids.

Where the bill counts what an update triggers (``check`` of a new resource, ``diff`` of one the
stack has; see :mod:`bill`), both faces call this module for the same runs:

- no credentials at all (config, environment, OAuth) fails the preview, naming the ways to set
  one; a no-op sends nothing and needs none;
- one free, documented read, Get Extractions of the run's element, proves DataGOL accepts the
  credentials (a 401/403 fails the preview) and lists the element's extraction configurations:
  a run whose id is not among them fails, naming the property, the id and what is listed.
  Anything else (network error, timeout, 5xx, 404 of the route, an empty list, another shape)
  is a warning: a false refusal would block a deploy.

One read per element per provider process (a preview, or an update, is one process), a few at
a time; ids unknown at preview are skipped. ``datagol:skipPreviewReads`` turns all of it off.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from . import engine_link, engine_log
from .bill import plan
from .client.listing import Configuration, get_extractions
from .client.masking import MASK, masking, secret_values
from .config import NAMESPACE
from .errors import AuthenticationError, ConfigurationError, DataGolError
from .operations import SECRET_KEYS_KEY, Context
from .secrecy import is_secret, secret_inputs
from .validation import run_secret
from .wire import plain, wholly_unknown

#: Reads in flight at once, per provider process: a preview of many elements stays polite.
READS_AT_ONCE = 4
SKIP_KEY = f"{NAMESPACE}:skipPreviewReads"
SKIP_ENV = "DATAGOL_SKIP_PREVIEW_READS"
SKIP_HINT = (
    f"To preview without asking DataGOL (no network or credentials, as in a pull request from "
    f"a fork): `pulumi config set {SKIP_KEY} true` or {SKIP_ENV}=true"
)
SET_CREDENTIALS = (
    f"Set one: `pulumi config set --secret {NAMESPACE}:token <token>` (or DATAGOL_TOKEN), or "
    f"OAuth: {NAMESPACE}:oauthRefreshToken, or {NAMESPACE}:oauthClientId with "
    f"{NAMESPACE}:oauthClientSecret, each with {NAMESPACE}:oauthTokenUrl (or their DATAGOL_* "
    f"variables). Nothing was sent. {SKIP_HINT}"
)
NO_CREDENTIALS = (
    "DataGOL: no credentials are configured, and this update triggers {runs}. " + SET_CREDENTIALS
)


#: Said once per process with the first element whose ids could not be checked.
OTHERS_UNCHECKED = (
    "Other elements of this preview whose answer verifies nothing are not named again; `up` "
    "still finds a wrong id at its POST (404)."
)


@dataclass(frozen=True)
class Planned:
    """One run an update triggers: ``prefix`` names it in a property path (``runs.k.``)."""

    prefix: str
    inputs: Mapping[str, Any]
    secret: Collection[str]


@dataclass(frozen=True)
class Listing:
    """What Get Extractions told of one element: configurations, or why it tells nothing."""

    configurations: tuple[Configuration, ...] = ()
    refused: DataGolError | None = None
    #: Why the answer verifies nothing (None: a list was read).
    unreadable: str | None = None


def planned_runs(
    olds: Mapping[str, Any] | None,
    news: Mapping[str, Any],
    *,
    group: bool,
    replaced: bool = False,
) -> list[Planned]:
    """The runs the operation will trigger, by the rule the bill counts them with."""
    secret = secret_inputs(news)
    if not group:
        inputs = plain(news)
        ledger = plan(inputs, None if replaced or olds is None else plain(olds), group=False)
        return [Planned("", inputs, secret)] if ledger is not None and ledger.batches else []
    runs = plain(news).get("runs")
    if wholly_unknown(runs) or not isinstance(runs, Mapping):
        return []
    held = plain(news.get(SECRET_KEYS_KEY))
    secret_keys = {str(k) for k in held} if isinstance(held, list) else set()
    previous = (plain(olds).get("results") or {}) if olds else {}
    planned = []
    for key, inputs in sorted(runs.items()):
        if not isinstance(inputs, Mapping):  # unknown at preview: its ids are too
            continue
        old = previous.get(key)
        ledger = plan(inputs, old if isinstance(old, Mapping) else None, group=True)
        if ledger is not None and ledger.batches:
            planned.append(
                Planned(f"runs.{key}.", inputs, run_secret(str(key), secret, secret_keys))
            )
    return planned


# -- one read per element per process ------------------------------------------------------------

Element = tuple[str, str, str]


class Listings:
    """The answers of one provider configuration, each element read once, a few at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[Element, Listing] = {}
        self._reading: dict[Element, threading.Event] = {}
        self._slots = threading.Semaphore(READS_AT_ONCE)
        self._warned = False

    def first_warning(self) -> bool:
        """Whether no warning was said yet (one per process: the CLI shows each warning on the
        resource's line and again in the Diagnostics, so one per element would drown a preview
        of many runs; the docs say what an unchecked element means)."""
        with self._lock:
            first, self._warned = not self._warned, True
            return first

    def get(self, context: Context, element: Element, hidden: set[str]) -> tuple[Listing, bool]:
        """The element's listing, and whether this call read it (and so says its warning)."""
        with self._lock:
            if element in self._done:
                return self._done[element], False
            waiting = self._reading.get(element)
            if waiting is None:
                self._reading[element] = threading.Event()
        if waiting is not None:
            waiting.wait()
            return self._done[element], False
        listing = Listing(unreadable="the read did not finish")
        try:
            with self._slots, masking(hidden):
                listing = _read(context, element)
        finally:
            with self._lock:
                self._done[element] = listing
                self._reading.pop(element).set()
        return listing, True


def _read(context: Context, element: Element) -> Listing:
    try:
        configurations = get_extractions(context.client(), *element)
    except AuthenticationError as exc:
        return Listing(refused=exc)
    except DataGolError as exc:  # network, timeout, 5xx, 404 of the route: nothing verified
        return Listing(unreadable=str(exc))
    if configurations is None:
        return Listing(unreadable="its answer is not a list of extraction configurations")
    if not configurations:
        return Listing(unreadable="DataGOL lists no extraction configuration for it")
    return Listing(tuple(configurations))


_LISTINGS: weakref.WeakKeyDictionary[Context, Listings] = weakref.WeakKeyDictionary()
_LISTINGS_LOCK = threading.Lock()


def _listings(context: Context) -> Listings:
    with _LISTINGS_LOCK:
        listings = _LISTINGS.get(context)
        if listings is None:
            listings = _LISTINGS[context] = Listings()
        return listings


# -- the checks ----------------------------------------------------------------------------------


def _shown(run: Planned, prop: str) -> str:
    return MASK if is_secret(prop, run.secret) else str(run.inputs.get(prop))


def _where(run: Planned) -> str:
    return (
        f"{_shown(run, 'element_type')} {_shown(run, 'element_id')} in workspace "
        f"{_shown(run, 'workspace_id')}"
    )


def _element(run: Planned) -> Element | None:
    """The run's element to read, None while its ids are unknown (preview) or not text."""
    values = [run.inputs.get(p) for p in ("workspace_id", "element_type", "element_id")]
    extraction_id = run.inputs.get("extraction_id")
    if not all(isinstance(v, str) and v for v in (*values, extraction_id)):
        return None
    return (values[0], values[1], values[2])


def _read_all(
    context: Context, wanted: Mapping[Element, set[str]]
) -> dict[Element, tuple[Listing, bool]]:
    """Each element's listing, read a few at a time (a group may name many elements)."""
    listings = _listings(context)
    if len(wanted) <= 1:
        return {e: listings.get(context, e, hidden) for e, hidden in wanted.items()}
    with ThreadPoolExecutor(min(READS_AT_ONCE, len(wanted))) as pool:
        futures = {e: pool.submit(listings.get, context, e, h) for e, h in wanted.items()}
        return {e: future.result() for e, future in futures.items()}


def verify(context: Context, urn: str, runs: list[Planned]) -> list[tuple[str, str]]:
    """Check ``runs`` (those one resource triggers) with DataGOL; (property, reason) failures.

    Raises :class:`ConfigurationError` when no credential is configured or DataGOL refuses it.
    """
    settings = context.settings
    if not runs or settings.skip_preview_reads:
        return []
    name = urn.rsplit("::", 1)[-1] if urn else "this resource"
    if not (settings.token or settings.uses_oauth):
        count = f"{len(runs)} run{'s' * (len(runs) != 1)} ({name})"
        raise ConfigurationError(NO_CREDENTIALS.format(runs=count))
    checked = [(run, _element(run)) for run in runs]
    wanted: dict[Element, set[str]] = {}
    for run, element in checked:
        if element is not None:  # the values that mask this run's messages, per element
            wanted.setdefault(element, set()).update(secret_values(run.inputs, run.secret))
    answers = _read_all(context, wanted)
    failures: list[tuple[str, str]] = []
    for run, element in checked:
        if element is None:
            continue  # unknown at preview (or not yet valid): nothing to ask
        listing, read_here = answers[element]
        if listing.refused is not None:
            raise ConfigurationError(
                f"Checked at preview with Get Extractions (a read that costs nothing); nothing "
                f"was sent. {listing.refused} {SKIP_HINT}"
            )
        if listing.unreadable is not None:
            if read_here and _listings(context).first_warning():
                _warn(
                    urn,
                    f"DataGOL: extraction ids of {_where(run)} not checked at preview: "
                    f"{listing.unreadable}. {OTHERS_UNCHECKED}",
                )
            continue
        extraction_id = run.inputs.get("extraction_id")
        if any(c.id == extraction_id for c in listing.configurations):
            continue
        listed = ", ".join(c.shown() for c in listing.configurations)
        failures.append(
            (
                f"{run.prefix}extraction_id",
                f"DataGOL lists no extraction configuration {_shown(run, 'extraction_id')} "
                f"for {_where(run)}; it lists: {listed}. Fix the id; nothing was sent "
                f"(checked at preview with Get Extractions. {SKIP_HINT})",
            )
        )
    return failures


def _warn(urn: str, message: str) -> None:
    address = engine_link.address()
    if address is not None:
        engine_log.warning(address, urn, message)


# -- the faces' hooks (beside bill.on_check and bill.on_diff) ------------------------------------


def on_check(
    context: Context,
    urn: str,
    olds: Mapping[str, Any] | None,
    inputs: Mapping[str, Any],
    *,
    group: bool,
) -> list[tuple[str, str]]:
    """``check`` of a resource the engine is about to create; an existing one is ``on_diff``'s."""
    if context.settings.skip_preview_reads:  # before the runs are planned: check's hot path
        return []
    if olds and any(not k.startswith("__") for k in olds):  # "__provider" alone: still new
        return []
    return verify(context, urn, planned_runs(None, inputs, group=group))


def on_diff(
    context: Context,
    urn: str,
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    replaces: list[str],
    *,
    group: bool,
) -> list[tuple[str, str]]:
    """``diff`` of a resource the stack has: the runs its update (or replacement) triggers."""
    if context.settings.skip_preview_reads:
        return []
    runs = planned_runs(olds, news, group=group, replaced=bool(replaces))
    return verify(context, urn, runs)
