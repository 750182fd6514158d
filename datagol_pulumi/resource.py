"""``ExtractionRun``: one DataGOL extraction run declared as a Pulumi resource.

Lifecycle (details in :mod:`datagol_pulumi.runs`): created = triggered; a change of ``mode``,
``where_clause``, ``rows``, ``extract_only_new`` or ``triggers`` re-triggers it; a change of
workspace, extraction or element replaces it (a new run); other changes send nothing; delete
and refresh never trigger (a finished extraction cannot be undone).
"""

import asyncio
import difflib
import functools
import pickle
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic

from .errors import ConfigurationError, RunFailedError
from .exact import exact_input
from .outputs import joined, run_urn, untrack_own_outputs
from .provider import (
    AWAITED_BY_COMPLETION_KEY,
    REPLACE_ON_CHANGES_KEY,
    URN_KEY,
    ExtractionRunProvider,
)
from .provider_resource import chooses_provider, current_program, implicit_provider
from .run_completion import (
    FINISHED_OUTPUTS,
    ExtractionRunCompletion,
    completion_options,
    finish_with,
    finished,
    masked_values_of,
    may_wait,
    target_of,
)
from .runs import RUN_OUTPUTS, failure_of_operation
from .secrecy import SECRET_INPUTS_KEY
from .wire import plain

RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"

# Go's time.ParseDuration units, as the engine reads customTimeouts. The two-letter units come
# first: with "m" before "ms", "500ms" would never match.
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|h|m|s)")
_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ns": 1e-9,
}
_HOOK_LOCK = threading.Lock()


@dataclass
class ExtractionRunArgs:
    """The inputs of an :class:`ExtractionRun`; every field is a ``pulumi.Input``."""

    workspace_id: pulumi.Input[str]
    #: A string or DataGOL's integer id (an Extraction's ``extraction_id``).
    extraction_id: pulumi.Input[str | int]
    element_type: pulumi.Input[str]
    element_id: pulumi.Input[str]
    mode: pulumi.Input[str] = "full"
    where_clause: pulumi.Input[str] | None = None
    rows: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None
    extract_only_new: pulumi.Input[bool] | None = None
    triggers: pulumi.Input[Mapping[str, Any]] | None = None
    wait_for_completion: pulumi.Input[bool] | None = None
    poll_interval_seconds: pulumi.Input[float] | None = None
    timeout_seconds: pulumi.Input[float] | None = None
    batch_size: pulumi.Input[int] | None = None


A = TypeVar("A")


def resource_args(
    args_type: type[A],
    resource_name: str,
    args: Any,
    opts: Any,
    kwargs: Mapping[str, Any],
) -> tuple[A, pulumi.ResourceOptions | None]:
    """The resource's args (a new object: the caller's is never changed) and options.

    Accepts Pulumi's usual shapes: ``(name, args, opts)``, ``(name, opts)``, ``(name, **kwargs,
    opts=opts)``; a misspelt keyword is refused with the valid ones, before anything is
    registered.
    """
    kind = args_type.__name__
    if isinstance(args, pulumi.ResourceOptions) and opts is None:
        args, opts = None, args
    if args is not None and not isinstance(args, args_type):
        raise TypeError(
            f"{resource_name}: the second argument must be a {kind} or pulumi.ResourceOptions, "
            f"got {type(args).__name__}; pass the inputs as keywords or as {kind}(...)"
        )
    if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
        raise TypeError(
            f"{resource_name}: opts must be pulumi.ResourceOptions, got {type(opts).__name__}"
        )
    names = [f.name for f in fields(args_type)]  # type: ignore[arg-type]
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        hint = difflib.get_close_matches(unknown[0], names, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise TypeError(
            f"{resource_name}: unknown argument {unknown[0]!r}{suggestion}; "
            f"valid arguments: {', '.join(names)}"
        )
    if args is None:
        # A missing required input becomes None: check then names it, with the resource's name.
        required = [f.name for f in fields(args_type) if f.default is MISSING]  # type: ignore[arg-type]
        return args_type(**{**dict.fromkeys(required), **kwargs}), opts
    return (replace(args, **kwargs) if kwargs else args), opts


def datagol_provider() -> pulumi.ProviderResource:
    """The program's implicit :class:`~datagol_pulumi.Provider`, built from ``datagol:*`` config."""
    return implicit_provider()


def parse_duration(text: str | None) -> float | None:
    """Seconds in a Pulumi ``customTimeouts`` string such as "90s", "10m" or "1h30m"."""
    if not text:
        return None
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ConfigurationError(
            f"customTimeouts value {text!r} is not a duration such as '10m' or '1h30m'"
        )
    return sum(float(n) * _UNITS[u] for n, u in parts)


def timeout_from_options(opts: pulumi.ResourceOptions | None) -> float | None:
    """The create (else update) custom timeout of ``opts``, in seconds."""
    timeouts = opts.custom_timeouts if opts else None
    if timeouts is None:
        return None
    return parse_duration(timeouts.create) or parse_duration(timeouts.update)


#: The outputs the failure rule reads (runs.failure_of_operation), and a group's results.
_REPORTED = ("operation_id", "refused", "error", "results")


async def _resolved(values: Mapping[str, Any] | None) -> dict[str, Any]:
    # Only what the rule reads: the engine waits for this hook before it checkpoints the step,
    # so its cost is on the path of every create. Secret outputs reach a hook as Outputs: a
    # secret output itself, or a group's result per run key (the provider wraps each).
    async def value(item: Any) -> Any:
        return await item.future() if isinstance(item, pulumi.Output) else item

    picked = {k: await value(v) for k, v in (values or {}).items() if k in _REPORTED}
    if isinstance(picked.get("results"), Mapping):
        picked["results"] = {k: await value(r) for k, r in picked["results"].items()}
    return plain(picked)


async def report_failure(args: pulumi.ResourceHookArgs) -> None:
    """After-create/update hook: fail the deployment when the step just taken recorded a
    failed run. The engine calls it only for steps it took, before it checkpoints them (a
    failure here fails the deployment; the step's state is written all the same)."""
    new, old = await _resolved(args.new_outputs), await _resolved(args.old_outputs)
    if args.type == RUN_TYPE:
        text = failure_of_operation(new, old)
        if text:
            raise RunFailedError(f"ExtractionRun {args.name!r}: {text}")
        return
    previous = old.get("results") or {}
    failed = {
        key: text
        for key, result in (new.get("results") or {}).items()
        if (text := failure_of_operation(result, previous.get(key) or {}))
    }
    if failed:
        lines = "\n".join(f"  {k}: {text}" for k, text in sorted(failed.items()))
        raise RunFailedError(f"{args.name}: {len(failed)} run(s) failed:\n{lines}")


def run_options(
    opts: pulumi.ResourceOptions | None, secret_outputs: Sequence[str] = ()
) -> pulumi.ResourceOptions:
    """``opts`` with the program's implicit provider (unless the caller or a parent chose one),
    the failure report hook, and ``secret_outputs`` added to the outputs kept secret."""
    program = current_program()
    with _HOOK_LOCK:
        if program.failure_hook is None:
            program.failure_hook = pulumi.ResourceHook("datagol-run-failed", report_failure)
        hook = program.failure_hook
    ours = pulumi.ResourceOptions(
        hooks=pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook]),
        additional_secret_outputs=list(secret_outputs) or None,
    )
    if not chooses_provider(opts):
        ours.provider = datagol_provider()
    return pulumi.ResourceOptions.merge(opts, ours)


@contextmanager
def pickler_kept() -> Iterator[None]:
    """Undo what the SDK's ``serialize_provider`` leaves behind (pulumi 3.272).

    It wraps ``pickle._Pickler._batch_setitems`` once more for every dynamic resource and never
    unwraps it: each resource is slower to declare than the last, and a program with about 960
    of them fails with RecursionError.
    """
    saved = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pickle._Pickler._batch_setitems = saved  # type: ignore[attr-defined]


def outputs_in(value: Any) -> list[pulumi.Output]:
    # The Outputs in a plain value, not descending into them: 100,000 plain rows are walked
    # once, instead of becoming 100,000 Outputs in Output.from_input.
    found: list[pulumi.Output] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, pulumi.Output):
            found.append(item)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def secret_inputs_marker(values: Mapping[str, Any]) -> list[str] | pulumi.Output[list[str]]:
    """The names in ``values`` whose value holds a secret at any depth (an Output inside rows
    too), as an Output known in preview and not itself secret; ``[]`` at once when no value
    holds an Output (only an Output can be secret): one Output less per run to resolve.

    The engine hands a dynamic provider plain values; this tells it which inputs were secret
    (:data:`secrecy.SECRET_INPUTS_KEY`).
    """
    found = {name: outputs_in(value) for name, value in values.items()}
    return secret_names(found) if any(found.values()) else []


def secret_names(found: Mapping[str, list[pulumi.Output]]) -> pulumi.Output[list[str]]:
    async def names() -> list[str]:
        secret = []
        for name, outputs in found.items():
            for output in outputs:
                # from_input: an Output may resolve to values holding secret Outputs.
                if await pulumi.Output.from_input(output).is_secret():
                    secret.append(name)
                    break
        return sorted(secret)

    return pulumi.Output(set(), names(), _constant(True), _constant(False))


def _constant(value: bool) -> asyncio.Future[bool]:
    # A done future, not a coroutine: one never awaited (when names() fails) warns at exit.
    future: asyncio.Future[bool] = asyncio.Future()  # on the program's loop, as the SDK's
    future.set_result(value)
    return future


class ExtractionRun(pulumi.dynamic.Resource, module="datagol", name="ExtractionRun"):
    """Triggers a DataGOL extraction run when created, and again when its run inputs change."""

    # Outputs are never null (validation.ABSENT): an absent value is "", 0, {} or the default.
    workspace_id: pulumi.Output[str]
    extraction_id: pulumi.Output[str]
    element_type: pulumi.Output[str]
    element_id: pulumi.Output[str]
    mode: pulumi.Output[str]
    where_clause: pulumi.Output[str]
    extract_only_new: pulumi.Output[bool]
    triggers: pulumi.Output[Mapping[str, Any]]
    wait_for_completion: pulumi.Output[bool]
    poll_interval_seconds: pulumi.Output[float]
    timeout_seconds: pulumi.Output[float]
    batch_size: pulumi.Output[int]
    """0 when the rows go in one request."""
    rows_digest: pulumi.Output[str]
    """sha256 of the rows sent; the rows themselves are never echoed in outputs."""
    row_count: pulumi.Output[int]
    request_id: pulumi.Output[str]
    """The request id DataGOL returned (the first one, with batches); "" if it returned none."""
    request_ids: pulumi.Output[list[str | None]]
    status: pulumi.Output[str]
    message: pulumi.Output[str]
    error: pulumi.Output[str]
    """Why the last trigger did not succeed although it may have started a job; else ""."""
    triggered_at: pulumi.Output[str]
    finished_at: pulumi.Output[str]
    """"" until the run was seen finished (only runs that wait for completion)."""
    duration_seconds: pulumi.Output[float]
    run_count: pulumi.Output[int]
    """1 on create, +1 on every re-trigger."""
    request_digest: pulumi.Output[str]
    batches: pulumi.Output[list[dict[str, Any]]]
    """What each request of the run became: accepted (with its request id), ambiguous (may have
    started; never resent on its own), refused or unsent (sent by the next ``pulumi up``)."""
    operation_id: pulumi.Output[str]
    """Changes whenever an operation sends: how the failure hook tells new errors from old."""
    masked_values: pulumi.Output[list[str]]
    """What of the secret inputs no message shows (a secret): later processes mask it too."""

    def __init__(
        self,
        resource_name: str,
        args: ExtractionRunArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """``ExtractionRun(name, ExtractionRunArgs(...), opts)`` or ``ExtractionRun(name,
        workspace_id=..., ..., opts=opts)``; keyword arguments override fields of ``args``."""
        run_args, opts = resource_args(ExtractionRunArgs, resource_name, args, opts, kwargs)
        if run_args.timeout_seconds is None:
            run_args = replace(run_args, timeout_seconds=timeout_from_options(opts))
        # Not dataclasses.asdict: it deep-copies, and Outputs and large rows must pass as they are.
        props: dict[str, Any] = {
            f.name: exact_input(resource_name, f.name, getattr(run_args, f.name))
            for f in fields(run_args)
        }
        # Declared outputs must be present (as None) to become attributes of the resource.
        props.update(dict.fromkeys(RUN_OUTPUTS))
        if opts is not None and opts.replace_on_changes:
            props[REPLACE_ON_CHANGES_KEY] = sorted(opts.replace_on_changes)
        props[URN_KEY] = run_urn(resource_name, RUN_TYPE, opts)
        waits = may_wait(run_args.wait_for_completion)
        if waits:
            # The wait is a step of its own, so that state holds the request ids meanwhile.
            props[AWAITED_BY_COMPLETION_KEY] = True
        # The provider keeps what is computed from these secret (secrecy.DERIVED). None secret:
        # no key (absent reads as none), so that a plain run's state is smaller.
        marker = secret_inputs_marker({f.name: props[f.name] for f in fields(run_args)})
        if not isinstance(marker, list) or marker:
            props[SECRET_INPUTS_KEY] = marker
        with pickler_kept():
            super().__init__(ExtractionRunProvider(), resource_name, props, run_options(opts))
            # ~30 attribute outputs per run: the SDK need not wait for each (see outputs).
            untrack_own_outputs(self)
            if waits:
                self._await_completion(resource_name, opts)

    def _await_completion(self, resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
        completion = ExtractionRunCompletion(
            resource_name,
            runs={"": target_of(self)},
            masked_values=masked_values_of(self),
            opts=completion_options(self, opts),
        )
        result = completion.runs.apply(lambda runs: runs.get("") or {})
        for name in FINISHED_OUTPUTS:
            both = joined({"run": getattr(self, name), "result": result})
            setattr(self, name, both.apply(functools.partial(_finished, name)))
        finish_with(self, completion)


def _finished(name: str, values: Mapping[str, Any]) -> Any:
    return finished(values["run"], values["result"], name)
