"""The dynamic provider of :class:`~datagol_pulumi.ExtractionRun`: thin, it delegates to runs.

An instance is pickled into the stack state by the Pulumi SDK (by reference to this module, so
state holds no code). It holds nothing until ``configure`` runs in the provider process, and
pickles as empty even afterwards: no session, no token, no lock ever reaches the state.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.runtime import rpc

from . import engine_link
from .client import DataGolClient
from .completion import await_runs, has_changes
from .config import KEYS, LEGACY_SECRET_NAMES_KEY, STACK_SCOPE_KEY, Settings
from .errors import ConfigurationError, DataGolError, ValidationError
from .journal import InflightJournal
from .reconcile import NOT_SENT, reconcile_group
from .runs import (
    carry_over,
    has_pending,
    new_resource_id,
    refresh_status,
    trigger_run,
    validated,
)
from .validation import changed_properties, check_group, check_run, present
from .wire import is_unknown, plain

#: The run's URN, computed by the program (the SDK hands create no URN): it names the run in
#: the in-flight journal, so that two runs with identical inputs never share an entry.
URN_KEY = "__urn"
#: The group's run keys whose inputs hold a secret (``["*"]``: all): the program knows, the
#: provider does not (the engine hands it plain values), and their results are kept secret.
SECRET_KEYS_KEY = "__secret_keys"

#: Set by the program when an ExtractionRunCompletion waits for the run: its create and update
#: then return once DataGOL answered the POSTs, so that state holds the request ids at once.
AWAITED_BY_COMPLETION_KEY = "__awaited_by_completion"

#: The properties the program's ``replace_on_changes`` names: the SDK's server never tells the
#: engine which properties changed, so diff lists them as replacements itself.
REPLACE_ON_CHANGES_KEY = "__replace_on_changes"

# Module level, so that it is shared by all providers of a process and never pickled.
_CLIENT_LOCK = threading.Lock()


def _without_our_frames(method: Callable[..., Any]) -> Callable[..., Any]:
    # The SDK's dynamic-provider server shows the user the whole traceback of an exception;
    # ours carry a complete message, so the frames inside this package are only noise.
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DataGolError as exc:
            raise exc.with_traceback(None) from None

    return wrapper


class ClientProvider(ResourceProvider):
    """Settings from ``configure`` and a lazily built client; nothing of it is pickled."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("configure", "check", "diff", "create", "update", "read", "delete"):
            if name in cls.__dict__:
                setattr(cls, name, _without_our_frames(cls.__dict__[name]))

    # Nothing secret is captured (see __getstate__), so the pickled provider may stay readable.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def configure(self, req: ConfigureRequest) -> None:
        """Read every setting: the provider resource's inputs, then ``DATAGOL_*`` variables.

        A bad value fails here, so `pulumi preview` reports it before any request. Nothing is
        sent and no credential is required yet: a refresh of runs that track nothing needs none.
        """
        inputs = {k.config_key: v for k in KEYS if (v := req.config.get(k.config_key)) is not None}
        self._settings = Settings.load(inputs.get)
        stack = req.config.get(STACK_SCOPE_KEY)
        # In `python -m pulumi.dynamic <engine address>`: a provider whose engine is gone sends
        # nothing more and exits (see engine_link); elsewhere (tests, tools) nothing is watched.
        engine_link.watch(engine_link.address_from_argv())
        # Its folder and checkout are read here once, not on every trigger.
        self._journal = InflightJournal(str(stack)) if stack else None
        # 0.1.0 kept credentials out of its provider's inputs and named them here instead.
        self._legacy_secret_names = str(req.config.get(LEGACY_SECRET_NAMES_KEY) or "")
        self._client = None

    def client(self) -> DataGolClient:
        """The process's client, built when the first request is about to be sent."""
        with _CLIENT_LOCK:
            client: DataGolClient | None = getattr(self, "_client", None)
            if client is None:
                settings: Settings = getattr(self, "_settings", None) or Settings.load({}.get)
                self._refuse_legacy_without_credentials(settings)
                client = self._client = DataGolClient(settings)
            return client

    def _refuse_legacy_without_credentials(self, settings: Settings) -> None:
        # A state written by 0.1.0 holds no credential; its provider is updated by the next
        # `pulumi up`. Until then say so, instead of sending a request that will get a 401.
        if getattr(self, "_legacy_secret_names", "") and not settings.secrets():
            raise ConfigurationError(
                "This stack's DataGOL provider was deployed by datagol-pulumi 0.1.0, which kept "
                "its credentials out of the state. Run `pulumi up` once (it updates the provider "
                "and sends nothing), or set DATAGOL_TOKEN for this command"
            )

    def journal(self) -> InflightJournal | None:
        """Triggers in flight for this stack; None outside a stack (tests, direct use)."""
        return getattr(self, "_journal", None)


class _ClientOnFirstUse:
    """The provider's client, built only if a request is actually made (refresh of runs that
    track nothing makes none, and so needs neither credentials nor a session)."""

    def __init__(self, provider: ClientProvider) -> None:
        self._provider = provider

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider.client(), name)


class ExtractionRunProvider(ClientProvider):
    """check/diff/create/update/read/delete for one extraction run."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = check_run({k: v for k, v in news.items() if not k.startswith("__")})
        for key in (REPLACE_ON_CHANGES_KEY, URN_KEY, AWAITED_BY_COMPLETION_KEY):
            if key in news:
                inputs[key] = news[key]
        return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replace, trigger, setting = changed_properties(olds, news)
        changed = replace + trigger + setting
        wanted = news.get(REPLACE_ON_CHANGES_KEY) or []
        replace = replace + [
            p for p in changed if p not in replace and (p in wanted or "*" in wanted)
        ]
        return DiffResult(
            # Batches that never reached DataGOL make an update that sends them.
            changes=bool(changed) or has_pending(plain(olds)),
            replaces=replace,
            stables=[],
            delete_before_replace=False,
        )

    # Outputs go to the engine through `present`: no null, so a no-op preview shows no change.

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = trigger_run(
            self.client(),
            validated(props),
            run_count=1,
            journal=self.journal(),
            run=props.get(URN_KEY),
            wait=not props.get(AWAITED_BY_COMPLETION_KEY),
        )
        return CreateResult(new_resource_id(outs), present(outs))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = validated(news)
        olds = plain(olds)
        _, trigger, _ = changed_properties(olds, inputs)
        if trigger:
            run_count, previous = int(olds.get("run_count") or 0) + 1, None
        elif has_pending(olds):
            run_count, previous = int(olds.get("run_count") or 1), olds  # the same run, continued
        else:
            return UpdateResult(present(carry_over(inputs, olds)))
        outs = trigger_run(
            self.client(),
            inputs,
            run_count=run_count,
            journal=self.journal(),
            run=news.get(URN_KEY),
            previous=previous,
            wait=not news.get(AWAITED_BY_COMPLETION_KEY),
        )
        return UpdateResult(present(outs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = {k: v for k, v in plain(props).items() if not k.startswith("__")}
        return ReadResult(id_, present(refresh_status(_ClientOnFirstUse(self), outs)))  # type: ignore[arg-type]

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # A finished extraction cannot be undone; the run only leaves the stack.
        return None


class ExtractionRunGroupProvider(ClientProvider):
    """Many runs in one resource, triggered and awaited concurrently inside one operation.

    The engine runs every dynamic resource through one provider process with four gRPC worker
    threads, so thirty-two waiting ExtractionRuns queue behind each other; a group does not.
    """

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = check_group({k: v for k, v in news.items() if not k.startswith("__")})
        kept = (URN_KEY, SECRET_KEYS_KEY, AWAITED_BY_COMPLETION_KEY)
        inputs.update({k: news[k] for k in kept if k in news})
        return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        olds, news = plain(olds), plain(news)
        runs, previous = news.get("runs"), olds.get("results") or {}
        if is_unknown(runs) or not isinstance(runs, dict):
            return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
        changed = set(runs) ^ set(previous)
        for key in set(runs) & set(previous):
            if any(changed_properties(previous[key], runs[key])):
                changed.add(key)
            elif previous[key].get("status") == NOT_SENT or has_pending(previous[key]):
                changed.add(key)
        if news.get("max_concurrency") != olds.get("max_concurrency"):
            changed.add("max_concurrency")
        if _secret_keys(news) != _secret_keys(olds):  # an update that only re-protects results
            changed.add(SECRET_KEYS_KEY)
        return DiffResult(
            changes=bool(changed), replaces=[], stables=[], delete_before_replace=False
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._reconcile(props, {})
        return CreateResult(f"group-{uuid.uuid4().hex}", outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._reconcile(news, plain(olds).get("results") or {}))

    def _reconcile(self, props: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
        inputs, failures = check_group({k: v for k, v in props.items() if not k.startswith("__")})
        if failures:
            raise ValidationError(failures)
        results = reconcile_group(
            self.client(),
            inputs["runs"],
            previous,
            max_concurrency=inputs["max_concurrency"],
            journal=self.journal(),
            group=props.get(URN_KEY),
            wait=not props.get(AWAITED_BY_COMPLETION_KEY),
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

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        outs = {k: v for k, v in plain(props).items() if not k.startswith("__")}
        client = _ClientOnFirstUse(self)
        results = {k: refresh_status(client, r) for k, r in (outs.get("results") or {}).items()}
        secret = _secret_keys(props)
        outs["results"] = _protect(results, secret)
        outs[SECRET_KEYS_KEY] = sorted(secret)
        return ReadResult(id_, outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


def _secret_keys(props: dict[str, Any]) -> set[str]:
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


class ExtractionRunCompletionProvider(ClientProvider):
    """Waits for runs that were triggered by earlier steps: reads Poll Status, sends nothing.

    Its inputs are the runs' outputs (request ids, operation id, wait settings), so it is
    created or updated exactly when a run it waits for was triggered again.
    """

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: v for k, v in news.items() if not k.startswith("__")}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        runs = plain(news.get("runs"))
        changes = is_unknown(runs) or has_changes(runs or {}, plain(olds.get("runs")) or {})
        return DiffResult(changes=changes, replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"completion-{uuid.uuid4().hex}", self._await(props, {}))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._await(news, plain(olds.get("runs")) or {}))

    def _await(self, props: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
        props = plain(props)
        max_concurrency = int(props.get("max_concurrency") or 16)
        runs = await_runs(
            _ClientOnFirstUse(self),  # type: ignore[arg-type]
            props.get("runs") or {},
            previous,
            max_concurrency=max_concurrency,
        )
        return {"runs": runs, "max_concurrency": max_concurrency}

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None
