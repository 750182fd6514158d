"""``ExtractionRun``: one DataGOL extraction run declared as a Pulumi resource.

Lifecycle (details in :mod:`datagol_pulumi.runs`): created = triggered; a change of ``mode``,
``where_clause``, ``rows``, ``extract_only_new`` or ``triggers`` re-triggers it; a change of
workspace, extraction or element replaces it (a new run); other changes send nothing; delete
and refresh never trigger (a finished extraction cannot be undone).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic

from .errors import ConfigurationError, RunFailedError, ValidationError
from .provider import ExtractionRunProvider
from .provider_resource import chooses_provider, current_program, implicit_provider
from .runs import RUN_OUTPUTS
from .validation import REPLACE_PROPERTIES
from .wire import unsafe_integers

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
#: Inputs whose numbers DataGOL must receive exactly (ids, rows, triggers).
_EXACT_PROPERTIES = frozenset((*REPLACE_PROPERTIES, "rows", "triggers"))


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


def refuse_unsafe_integers(resource_name: str, prop: str, value: Any) -> Any:
    """``value``, refused if it holds an int the engine would round (it carries floats).

    Checked in the program, before the resource is registered; an ``Output`` is checked once
    it resolves, still before registration.
    """
    if prop not in _EXACT_PROPERTIES or value is None:
        return value

    def refuse(resolved: Any) -> Any:
        paths = unsafe_integers(resolved, prop)
        if paths:
            raise ValidationError(
                [
                    (
                        paths[0],
                        f"{paths[0]} is a whole number beyond 2**53 "
                        f"({len(paths)} such value(s)); Pulumi carries numbers as 64-bit floats "
                        "and would change it: pass it as a string",
                    )
                ],
                resource_name,
            )
        return resolved

    if isinstance(value, pulumi.Output):
        return value.apply(refuse)
    return refuse(value)


def datagol_provider() -> pulumi.ProviderResource:
    """The program's implicit :class:`~datagol_pulumi.Provider`, built from ``datagol:*`` config."""
    return implicit_provider()


def with_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """``opts`` with :func:`datagol_provider` unless the caller (or a parent) chose a provider."""
    current_program()  # notes when the program started, whatever provider the runs use
    if chooses_provider(opts):
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=datagol_provider()))


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


def failed_in_this_deployment(outputs: Mapping[str, Any]) -> bool:
    """True when a run's outputs carry an error from a trigger sent by this deployment.

    Runs triggered after the program started failed in this very deployment; older errors
    were reported by an earlier `up` and are only kept in state.
    """
    triggered_at = outputs.get("triggered_at")
    started = current_program().started
    return bool(outputs.get("error")) and bool(triggered_at) and str(triggered_at) >= started


def report_failure(resource_name: str, error: pulumi.Output, triggered_at: pulumi.Output) -> None:
    """Fail the deployment when a run it triggered failed; state already records the run."""

    def check(args: list[Any]) -> None:
        outputs = {"error": args[0], "triggered_at": args[1]}
        if failed_in_this_deployment(outputs):
            raise RunFailedError(f"ExtractionRun {resource_name!r}: {args[0]}")

    pulumi.Output.all(error, triggered_at).apply(check)


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
            f.name: refuse_unsafe_integers(resource_name, f.name, getattr(run_args, f.name))
            for f in fields(run_args)
        }
        # Declared outputs must be present (as None) to become attributes of the resource.
        props.update(dict.fromkeys(RUN_OUTPUTS))
        if opts is not None and opts.replace_on_changes:
            props["__replace_on_changes"] = sorted(opts.replace_on_changes)
        super().__init__(ExtractionRunProvider(), resource_name, props, with_provider(opts))
        report_failure(resource_name, self.error, self.triggered_at)
