"""What each engine operation does to a run, a group and a completion, written once.

Both faces call these functions directly: the dynamic providers (:mod:`datagol_pulumi.provider`)
and the packaged plugin (:mod:`datagol_pulumi.plugin.provider`). A face only translates the
engine's values in and out; every decision (what re-triggers, what is carried over, what is
recorded, what re-attaches, what stays secret) is taken here or in the modules this one calls
(:mod:`runs`, :mod:`reconcile`, :mod:`completion`).

Values are plain Python (a face unwraps the engine's secrets and unknowns first, see
:func:`wire.plain`); keys starting with ``__`` carry what the program knows and the engine does
not hand a provider (the URN, which group keys are secret, whether a completion waits).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

from . import engine_link, engine_log
from .client import DataGolClient
from .completion import await_runs, has_changes, unawaitable
from .config import KEYS, LEGACY_SECRET_NAMES_KEY, STACK_SCOPE_KEY, Settings
from .errors import ConfigurationError, RunFailedError, ValidationError
from .journal import InflightJournal
from .reconcile import NOT_SENT, reconcile_group
from .refresh import refresh_status
from .runs import carry_over, has_pending, new_resource_id, trigger_run, validated
from .secrecy import (
    MASKED_VALUES,
    SECRET_INPUTS_KEY,
    lacks_fragments,
    protect,
    reprotects,
    secret_inputs,
)
from .validation import changed_properties, check_group, check_run, present, run_secret
from .wire import is_unknown, plain

#: The run's URN, computed by the program (the SDK hands create no URN): it names the run in
#: the in-flight journal, so that two runs with identical inputs never share an entry.
URN_KEY = "__urn"
#: The group's run keys whose inputs hold a secret (``["*"]``: all): the program knows, the
#: provider does not (the engine hands it plain values), and their results are kept secret.
SECRET_KEYS_KEY = "__secret_keys"
#: The properties the program's ``replace_on_changes`` names: the SDK's server never tells the
#: engine which properties changed, so diff lists them as replacements itself.
REPLACE_ON_CHANGES_KEY = "__replace_on_changes"
#: Set by the program when an ExtractionRunCompletion waits for the run: its create and update
#: then return once DataGOL answered the POSTs, so that state holds the request ids at once.
AWAITED_BY_COMPLETION_KEY = "__awaited_by_completion"

#: Whether a completion's run keys come from a secret value: its progress then names none.
NAMES_SECRET_KEY = "__names_secret"

_RUN_KEYS = (REPLACE_ON_CHANGES_KEY, URN_KEY, AWAITED_BY_COMPLETION_KEY, SECRET_INPUTS_KEY)
_GROUP_KEYS = (URN_KEY, SECRET_KEYS_KEY, AWAITED_BY_COMPLETION_KEY)


class Context:
    """One provider configuration: its settings, the client (built on first request) and the
    in-flight journal of its stack. Built in ``configure``; never pickled."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        """Read every setting: ``datagol:*`` values, then ``DATAGOL_*`` variables. A bad value
        fails here, so `pulumi preview` reports it before any request."""
        config = config or {}
        inputs = {k.config_key: v for k in KEYS if (v := config.get(k.config_key)) is not None}
        self.settings = Settings.load(inputs.get)
        stack = config.get(STACK_SCOPE_KEY)
        # Its folder and checkout are read here once, not on every trigger.
        self.journal = InflightJournal(str(stack)) if stack else None
        # 0.1.0 kept credentials out of its provider's inputs and named them here instead.
        self._legacy_secret_names = str(config.get(LEGACY_SECRET_NAMES_KEY) or "")
        self._client: DataGolClient | None = None
        self._lock = threading.Lock()

    def client(self) -> DataGolClient:
        """The client, built when the first request is about to be sent."""
        with self._lock:
            if self._client is None:
                if self._legacy_secret_names and not self.settings.secrets():
                    # A state written by 0.1.0 holds no credential; the next `up` updates its
                    # provider. Until then say so, instead of sending a request that gets a 401.
                    raise ConfigurationError(
                        "This stack's DataGOL provider was deployed by datagol-pulumi 0.1.0, "
                        "which kept its credentials out of the state. Run `pulumi up` once (it "
                        "updates the provider and sends nothing), or set DATAGOL_TOKEN for this "
                        "command"
                    )
                self._client = DataGolClient(self.settings)
            return self._client

    def lazy_client(self) -> DataGolClient:
        """The client, built only if a request is actually made (a refresh of runs that track
        nothing makes none, and so needs neither credentials nor a session)."""
        return _ClientOnFirstUse(self)  # type: ignore[return-value]


class _ClientOnFirstUse:
    def __init__(self, context: Context) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context.client(), name)


@dataclass
class Diff:
    """What a change of inputs does: whether anything happens, and per property how."""

    changes: bool
    replaces: list[str] = field(default_factory=list)
    #: Properties whose change re-triggers the run, or only changes a setting.
    triggers: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)


def _internal(props: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: props[k] for k in keys if k in props}


def _public(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


# -- ExtractionRun -------------------------------------------------------------------------------


def check_run_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Normalised inputs (with the program's ``__`` keys kept) and (property, reason) failures."""
    inputs, failures = check_run(_public(news), secret_inputs(news))
    inputs.update(_internal(news, _RUN_KEYS))
    return inputs, failures


def diff_run(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    replace, trigger, setting = changed_properties(olds, news)
    wanted = news.get(REPLACE_ON_CHANGES_KEY) or []
    changed = replace + trigger + setting
    replace = replace + [p for p in changed if p not in replace and (p in wanted or "*" in wanted)]
    return Diff(
        # Batches that never reached DataGOL make an update that sends them; an input secret
        # now whose derived outputs the state holds in clear, or a state without the fragments
        # to mask, an update that records them (sending nothing).
        changes=bool(changed)
        or has_pending(plain(olds))
        or reprotects(secret_inputs(olds), secret_inputs(news))
        or lacks_fragments(olds, secret_inputs(news)),
        replaces=replace,
        triggers=[p for p in trigger if p not in replace],
        settings=[p for p in setting if p not in replace],
    )


# Outputs go to the engine through `_secured`: no null, so a no-op preview shows no change, and
# what is computed from a secret input wrapped as a secret, at any depth of that input.


def _secured(outs: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    secret = secret_inputs(props)
    secured = protect(present(outs), secret)
    # Recorded, so that diff tells a state protected for these inputs from one that is not.
    # None secret: left out (absent reads as none), ~50 bytes less of every checkpoint per run,
    # unless ``props`` has it (a refresh of a state that recorded [] shows no change).
    if secret or SECRET_INPUTS_KEY in props:
        secured[SECRET_INPUTS_KEY] = sorted(secret)
    return secured


def create_run(context: Context, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    outs = trigger_run(
        context.client(),
        validated(props),
        run_count=1,
        journal=context.journal,
        run=props.get(URN_KEY),
        wait=not props.get(AWAITED_BY_COMPLETION_KEY),
        secret=secret_inputs(props),
    )
    return new_resource_id(outs), _secured(outs, props)


def update_run(
    context: Context, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    inputs = validated(news)
    olds = plain(olds)
    _, trigger, _ = changed_properties(olds, inputs)
    if trigger:
        run_count, previous = int(olds.get("run_count") or 0) + 1, None
    elif has_pending(olds):
        run_count, previous = int(olds.get("run_count") or 1), olds  # the same run, continued
    else:
        return _secured(carry_over(inputs, olds, secret_inputs(news)), news)
    outs = trigger_run(
        context.client(),
        inputs,
        run_count=run_count,
        journal=context.journal,
        run=news.get(URN_KEY),
        previous=previous,
        wait=not news.get(AWAITED_BY_COMPLETION_KEY),
        secret=secret_inputs(news),
    )
    return _secured(outs, news)


def read_run(context: Context, props: Mapping[str, Any]) -> dict[str, Any]:
    return _secured(refresh_status(context.lazy_client(), _public(plain(props))), props)


# -- ExtractionRunGroup --------------------------------------------------------------------------


def check_group_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    inputs, failures = check_group(_public(news), secret_inputs(news), _secret_keys(news))
    inputs.update(_internal(news, _GROUP_KEYS))
    return inputs, failures


def diff_group(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    olds, news = plain(olds), plain(news)
    runs, previous = news.get("runs"), olds.get("results") or {}
    secret, secret_keys = secret_inputs(news), _secret_keys(news)
    if is_unknown(runs) or not isinstance(runs, dict):
        return Diff(changes=True)
    changed = set(runs) ^ set(previous)
    for key in set(runs) & set(previous):
        if any(changed_properties(previous[key], runs[key])):
            changed.add(key)
        elif previous[key].get("status") == NOT_SENT or has_pending(previous[key]):
            changed.add(key)
        elif lacks_fragments(previous[key], run_secret(key, secret, secret_keys)):
            changed.add(key)
    if news.get("max_concurrency") != olds.get("max_concurrency"):
        changed.add("max_concurrency")
    if _secret_keys(news) != _secret_keys(olds):  # an update that only re-protects results
        changed.add(SECRET_KEYS_KEY)
    return Diff(changes=bool(changed))


def create_group(context: Context, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"group-{uuid.uuid4().hex}", _reconcile(context, props, {})


def update_group(
    context: Context, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    return _reconcile(context, news, plain(olds).get("results") or {})


def _reconcile(
    context: Context, props: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, Any]:
    secret, secret_keys = secret_inputs(props), _secret_keys(props)
    inputs, failures = check_group(_public(props), secret, secret_keys)
    if failures:
        raise ValidationError(failures)
    results = reconcile_group(
        context.client(),
        inputs["runs"],
        previous,
        max_concurrency=inputs["max_concurrency"],
        journal=context.journal,
        group=props.get(URN_KEY),
        wait=not props.get(AWAITED_BY_COMPLETION_KEY),
        secret={key: run_secret(key, secret, secret_keys) for key in inputs["runs"]},
    )
    return {
        "results": _protect(results, _secret_keys(props)),
        "max_concurrency": inputs["max_concurrency"],
        "triggered_keys": sorted(
            k
            for k, r in results.items()
            if r.get("operation_id") != (previous.get(k) or {}).get("operation_id")
            and not r.get("refused")
            and r.get("status") != NOT_SENT
        ),
        SECRET_KEYS_KEY: sorted(_secret_keys(props)),
    }


def read_group(context: Context, props: Mapping[str, Any]) -> dict[str, Any]:
    outs = _public(plain(props))
    client = context.lazy_client()
    results = {k: refresh_status(client, r) for k, r in (outs.get("results") or {}).items()}
    secret = _secret_keys(props)
    outs["results"] = _protect(results, secret)
    outs[SECRET_KEYS_KEY] = sorted(secret)
    return outs


def _secret_keys(props: Mapping[str, Any]) -> set[str]:
    keys = plain(props.get(SECRET_KEYS_KEY))
    return {str(k) for k in keys} if isinstance(keys, list) else set()


def _protect(results: dict[str, Any], secret: set[str]) -> dict[str, Any]:
    """Results with the keys whose inputs hold a secret wrapped as secrets.

    The engine keeps an output secret only when an input of the same name is, and ``results``
    has no such input: without this, a secret where clause would land in state in clear.
    """
    if not secret:
        return results
    return {
        k: rpc.wrap_rpc_secret(r) if "*" in secret or k in secret else r for k, r in results.items()
    }


# -- ExtractionRunCompletion ---------------------------------------------------------------------


def diff_completion(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Diff:
    runs = plain(news.get("runs"))
    return Diff(changes=is_unknown(runs) or has_changes(runs or {}, plain(olds.get("runs")) or {}))


def completion_refusal(
    olds: Mapping[str, Any] | None, news: Mapping[str, Any]
) -> RunFailedError | None:
    """What a completion's create (``olds`` None) or update would fail on before reading
    anything, known at preview: check and diff raise it, so that the preview fails as `up`."""
    runs = plain(news.get("runs"))
    if not isinstance(runs, Mapping):
        return None  # unknown at preview: the runs are (re)sent in this update
    previous = plain((olds or {}).get("runs"))
    return unawaitable(runs, previous if isinstance(previous, Mapping) else {})


def create_completion(context: Context, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return f"completion-{uuid.uuid4().hex}", _await(context, props, {})


def update_completion(
    context: Context, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> dict[str, Any]:
    return _await(context, news, plain(olds.get("runs")) or {})


def _await(
    context: Context, props: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, Any]:
    props = plain(props)
    max_concurrency = int(props.get("max_concurrency") or 16)
    runs = props.get("runs") or {}
    masked = props.get(MASKED_VALUES)
    if isinstance(masked, dict):  # given beside the runs (the Python face's ExtractionRun)
        runs = {k: {**run, MASKED_VALUES: masked.get(k) or []} for k, run in runs.items()}
    runs = await_runs(
        context.lazy_client(),
        runs,
        previous,
        max_concurrency=max_concurrency,
        report=_progress_report(props.get(URN_KEY)),
        names_secret=props.get(NAMES_SECRET_KEY) is not False,
    )
    return {"runs": runs, "max_concurrency": max_concurrency}


def _progress_report(urn: Any) -> Callable[[str], object] | None:
    """Where a wait's progress goes: a status message of the completion, shown by the CLI."""
    address = engine_link.address()
    if not address or not isinstance(urn, str) or not urn:
        return None
    return lambda text: engine_log.status(address, urn, text)
