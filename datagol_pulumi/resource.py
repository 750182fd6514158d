"""``ExtractionRun``: one DataGOL extraction run declared as a Pulumi resource.

Lifecycle (details in :mod:`datagol_pulumi.runs`): created = triggered; a change of ``mode``,
``where_clause``, ``rows``, ``extract_only_new`` or ``triggers`` re-triggers it; a change of
workspace, extraction or element replaces it (a new run); other changes send nothing; delete
and refresh never trigger (a finished extraction cannot be undone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi.dynamic

from .config import NAMESPACE, PUBLIC_KEYS, SECRET_KEYS, STACK_KEY, STACK_SECRETS_KEY
from .errors import ConfigurationError, RunFailedError
from .provider import URN_KEY, ExtractionRunProvider
from .runs import RUN_OUTPUTS
from .validation import plain

#: Per program run (keyed by its resource monitor, as Automation API runs several programs in
#: one process): the provider resource, and the hook that reports failed runs.
_PROGRAM: tuple[Any, pulumi.ProviderResource, pulumi.ResourceHook] | None = None
RUN_TYPE = "pulumi-python:dynamic/datagol:ExtractionRun"
#: Outputs computed from ``rows`` or ``where_clause``: secret whenever those may be.
_DERIVED = {
    "rows": ("rows_digest", "row_count", "request_digest"),
    "where_clause": ("request_digest",),
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass
class ExtractionRunArgs:
    """The inputs of an :class:`ExtractionRun`; every field is a ``pulumi.Input``."""

    workspace_id: pulumi.Input[str]
    extraction_id: pulumi.Input[str]
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


def datagol_provider() -> pulumi.ProviderResource:
    """The program's one provider resource for DataGOL runs, created on first use.

    An explicit provider instead of Pulumi's default one: the engine stores a default dynamic
    provider's inputs, which are the *whole* stack config with its secrets, in the state. This
    one gets the public ``datagol:*`` settings as inputs, and only the *names* of the secret
    ones; the provider reads those from the stack config when it first sends a request.
    """
    return _program()[1]


def _program() -> tuple[Any, pulumi.ProviderResource, pulumi.ResourceHook]:
    global _PROGRAM
    monitor = pulumi.runtime.settings.get_monitor()
    if _PROGRAM is None or _PROGRAM[0] is not monitor:
        config = pulumi.Config(NAMESPACE)
        props: dict[str, Any] = {}
        secret: list[str] = []
        for key in PUBLIC_KEYS + SECRET_KEYS:
            full = f"{NAMESPACE}:{key}"
            if pulumi.runtime.config.get_config(full) is None:
                continue
            if key in SECRET_KEYS or pulumi.runtime.config.is_config_secret(full):
                secret.append(key)
            else:
                props[full] = config.get(key)
        props[STACK_KEY] = (
            f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
        )
        props[STACK_SECRETS_KEY] = ",".join(secret)
        provider = pulumi.ProviderResource("pulumi-python", "datagol", props)
        _PROGRAM = (monitor, provider, pulumi.ResourceHook("datagol-run-failed", report_failure))
    return _PROGRAM


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


def failure_of_operation(new: Mapping[str, Any], old: Mapping[str, Any]) -> str | None:
    """The error of a run, when the operation that produced ``new`` sent it or found it.

    Each operation that sends marks its outputs with a fresh ``operation_id``; an update that
    sends nothing keeps the previous one, so an error an earlier ``up`` reported is not
    reported again. No clock is compared.
    """
    operation_id = new.get("operation_id")
    if not operation_id or operation_id == old.get("operation_id"):
        return None
    return new.get("refused") or new.get("error") or None


async def _resolved(values: Mapping[str, Any] | None) -> dict[str, Any]:
    # Secret outputs reach a hook as Outputs (at any depth); their values are needed here.
    resolved = await pulumi.Output.from_input(dict(values or {})).future()
    return plain(resolved or {})


async def report_failure(args: pulumi.ResourceHookArgs) -> None:
    """After-create/update hook: fail the deployment when the step just taken recorded a
    failed run. The engine calls it only for steps it took, and state already holds the run."""
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
    """``opts`` with the program's provider (unless the caller chose one), the failure report
    hook, and ``secret_outputs`` added to the outputs kept secret."""
    _, provider, hook = _program()
    ours = pulumi.ResourceOptions(
        hooks=pulumi.ResourceHookBinding(after_create=[hook], after_update=[hook]),
        additional_secret_outputs=list(secret_outputs) or None,
    )
    if opts is None or opts.provider is None:
        ours.provider = provider
    return pulumi.ResourceOptions.merge(opts, ours)


def run_urn(resource_name: str, type_: str, opts: pulumi.ResourceOptions | None) -> Any:
    """The URN the engine gives the resource, as an input: the provider's create gets none."""
    return pulumi.create_urn(resource_name, type_, parent=opts.parent if opts else None)


class ExtractionRun(pulumi.dynamic.Resource, module="datagol", name="ExtractionRun"):
    """Triggers a DataGOL extraction run when created, and again when its run inputs change."""

    workspace_id: pulumi.Output[str]
    extraction_id: pulumi.Output[str]
    element_type: pulumi.Output[str]
    element_id: pulumi.Output[str]
    mode: pulumi.Output[str]
    where_clause: pulumi.Output[str | None]
    extract_only_new: pulumi.Output[bool | None]
    triggers: pulumi.Output[Mapping[str, Any] | None]
    wait_for_completion: pulumi.Output[bool | None]
    poll_interval_seconds: pulumi.Output[float | None]
    timeout_seconds: pulumi.Output[float | None]
    batch_size: pulumi.Output[int | None]
    rows_digest: pulumi.Output[str | None]
    """sha256 of the rows sent; the rows themselves are never echoed in outputs."""
    row_count: pulumi.Output[int | None]
    request_id: pulumi.Output[str | None]
    """The request id DataGOL returned (the first one, with batches); None if it returned none."""
    request_ids: pulumi.Output[list[str | None]]
    status: pulumi.Output[str | None]
    message: pulumi.Output[str | None]
    error: pulumi.Output[str | None]
    """Why the last trigger did not succeed although it may have started a job; else None."""
    triggered_at: pulumi.Output[str]
    finished_at: pulumi.Output[str | None]
    duration_seconds: pulumi.Output[float | None]
    run_count: pulumi.Output[int]
    """1 on create, +1 on every re-trigger."""
    request_digest: pulumi.Output[str]
    batches: pulumi.Output[list[dict[str, Any]]]
    """What each request of the run became: accepted (with its request id), ambiguous (may have
    started; never resent on its own), refused or unsent (sent by the next ``pulumi up``)."""
    operation_id: pulumi.Output[str | None]
    """Changes whenever an operation sends: how the failure hook tells new errors from old."""

    def __init__(
        self,
        resource_name: str,
        workspace_id: pulumi.Input[str] | ExtractionRunArgs | None = None,
        extraction_id: pulumi.Input[str] | None = None,
        element_type: pulumi.Input[str] | None = None,
        element_id: pulumi.Input[str] | None = None,
        mode: pulumi.Input[str] = "full",
        where_clause: pulumi.Input[str] | None = None,
        rows: pulumi.Input[Sequence[Mapping[str, Any]]] | None = None,
        extract_only_new: pulumi.Input[bool] | None = None,
        triggers: pulumi.Input[Mapping[str, Any]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        wait_for_completion: pulumi.Input[bool] | None = None,
        poll_interval_seconds: pulumi.Input[float] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        batch_size: pulumi.Input[int] | None = None,
    ) -> None:
        if isinstance(workspace_id, ExtractionRunArgs):
            args = workspace_id
        else:
            args = ExtractionRunArgs(
                workspace_id=workspace_id,
                extraction_id=extraction_id,
                element_type=element_type,
                element_id=element_id,
                mode=mode,
                where_clause=where_clause,
                rows=rows,
                extract_only_new=extract_only_new,
                triggers=triggers,
                wait_for_completion=wait_for_completion,
                poll_interval_seconds=poll_interval_seconds,
                timeout_seconds=timeout_seconds,
                batch_size=batch_size,
            )
        if args.timeout_seconds is None:
            args.timeout_seconds = timeout_from_options(opts)
        # Not dataclasses.asdict: it deep-copies, and Outputs and large rows must pass as they are.
        props: dict[str, Any] = {f.name: getattr(args, f.name) for f in fields(args)}
        # Declared outputs must be present (as None) to become attributes of the resource.
        props.update(dict.fromkeys(RUN_OUTPUTS))
        props[URN_KEY] = run_urn(resource_name, RUN_TYPE, opts)
        # Whether an Output is secret is only known later; one that may be makes what is
        # computed from it secret (same-named outputs the engine protects itself).
        derived = {
            out
            for prop, outs in _DERIVED.items()
            if isinstance(props[prop], pulumi.Output)
            for out in outs
        }
        super().__init__(
            ExtractionRunProvider(), resource_name, props, run_options(opts, sorted(derived))
        )
