"""The dynamic providers of the resources: thin, each method translates and calls operations.

An instance is pickled into the stack state by the Pulumi SDK (by reference to this module, so
state holds no code). It holds nothing until ``configure`` runs in the provider process, and
pickles as empty even afterwards: no session, no token, no lock ever reaches the state.
"""

from __future__ import annotations

import functools
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

from . import bill, dynamic_cancel, engine_link, operations, preview_checks, sdk_errors
from .client import DataGolClient
from .errors import DataGolError, ValidationError
from .journal import InflightJournal
from .operations import (  # noqa: F401 - the program's keys, named here for the resources
    AWAITED_BY_COMPLETION_KEY,
    NAMES_SECRET_KEY,
    REPLACE_ON_CHANGES_KEY,
    SECRET_KEYS_KEY,
    URN_KEY,
    Context,
    Diff,
)


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


def _diff_result(diff: Diff) -> DiffResult:
    return DiffResult(
        changes=diff.changes, replaces=diff.replaces, stables=[], delete_before_replace=False
    )


def _check_result(checked: tuple[dict[str, Any], list[tuple[str, str]]]) -> CheckResult:
    inputs, failures = checked
    return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in failures])


class ClientProvider(ResourceProvider):
    """Settings from ``configure`` (an :class:`operations.Context`); nothing of it is pickled."""

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
        """Read every setting; nothing is sent and no credential is required yet."""
        # Our failures (a bad setting here included) reach the user as their message, without
        # the SDK server's traceback.
        sdk_errors.quiet_server_tracebacks()
        self._context = Context(req.config)
        # In `python -m pulumi.dynamic <engine address>`: a provider whose engine is gone sends
        # nothing more and exits (see engine_link); elsewhere (tests, tools) nothing is watched.
        address = engine_link.address_from_argv()
        engine_link.watch(address)
        if address is not None:
            # Ctrl-C stops a completion's wait (see dynamic_cancel); the Cancel that ends every
            # deployment says the bill, while the engine still takes messages (at exit it may
            # not: the CLI then showed no bill).
            dynamic_cancel.install(then=bill.say_summary)

    def context(self) -> Context:
        context: Context | None = getattr(self, "_context", None)
        if context is None:  # used without configure (tests, direct use): the environment only
            context = self._context = Context()
        return context

    def client(self) -> DataGolClient:
        """The process's client, built when the first request is about to be sent."""
        return self.context().client()

    def journal(self) -> InflightJournal | None:
        """Triggers in flight for this stack; None outside a stack (tests, direct use)."""
        return self.context().journal

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # A finished extraction cannot be undone; the run only leaves the stack.
        return None

    # What a create or update will trigger is counted where the engine asks before sending it
    # (check of a new resource, diff of an existing one), in preview and up alike: see bill.

    def _billed(
        self, olds: dict[str, Any], checked: tuple[dict[str, Any], list[Any]], *, group: bool
    ) -> CheckResult:
        inputs, failures = checked
        if not failures:
            settings = self.context().settings
            urn = inputs.get(URN_KEY) or ""
            bill.on_check(self.context(), settings, urn, olds, inputs, group=group)
            failures = preview_checks.on_check(self.context(), urn, olds, inputs, group=group)
        return _check_result((inputs, failures))

    def _billed_diff(
        self, olds: dict[str, Any], news: dict[str, Any], diff: Diff, *, group: bool
    ) -> DiffResult:
        if diff.changes:
            settings = self.context().settings
            urn = news.get(URN_KEY) or ""
            bill.on_diff(self.context(), settings, urn, olds, news, diff.replaces, group=group)
            failures = preview_checks.on_diff(
                self.context(), urn, olds, news, diff.replaces, group=group
            )
            if failures:
                raise ValidationError(failures, urn.rsplit("::", 1)[-1])
        return _diff_result(diff)


class ExtractionRunProvider(ClientProvider):
    """check/diff/create/update/read/delete for one extraction run."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return self._billed(olds, operations.check_run_inputs(news), group=False)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return self._billed_diff(olds, news, operations.diff_run(olds, news), group=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(*operations.create_run(self.context(), props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(operations.update_run(self.context(), olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, operations.read_run(self.context(), props))


class ExtractionRunGroupProvider(ClientProvider):
    """Many runs in one resource, triggered and awaited concurrently inside one operation.

    The engine runs every dynamic resource through one provider process with four gRPC worker
    threads (one more per wait in progress: see dynamic_cancel), so thirty-two ExtractionRuns
    send their POSTs a few at a time; a group sends up to ``max_concurrency`` at once.
    """

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return self._billed(olds, operations.check_group_inputs(news), group=True)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return self._billed_diff(olds, news, operations.diff_group(olds, news), group=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(*operations.create_group(self.context(), props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(operations.update_group(self.context(), olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, operations.read_group(self.context(), props))


class ExtractionRunCompletionProvider(ClientProvider):
    """Waits for runs that were triggered by earlier steps: reads Poll Status, sends nothing.

    Its inputs are the runs' outputs (request ids, operation id, wait settings), so it is
    created or updated exactly when a run it waits for was triggered again.
    """

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if not any(not k.startswith("__") for k in olds):  # new: its create is known to fail?
            refusal = operations.completion_refusal(None, news)
            if refusal is not None:
                raise refusal
        kept = (URN_KEY, NAMES_SECRET_KEY)  # where the wait's progress goes, and how named
        return CheckResult(
            {k: v for k, v in news.items() if not k.startswith("__") or k in kept}, []
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        diff = operations.diff_completion(olds, news)
        refusal = operations.completion_refusal(olds, news) if diff.changes else None
        if refusal is not None:  # the update is known to fail: the preview says so
            raise refusal
        return _diff_result(diff)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(*operations.create_completion(self.context(), props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(operations.update_completion(self.context(), olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {k: v for k, v in props.items() if not k.startswith("__")})
