"""``ExtractionRunGroup``: many extraction runs in one resource, triggered and awaited together.

Use it when a stack declares many runs that wait for completion: the Pulumi engine serves
every dynamic resource of a stack from one provider process with four worker threads, so
separate waiting ``ExtractionRun``s queue four at a time. A group triggers and waits for up to
``max_concurrency`` runs at once. Per run it behaves like ``ExtractionRun``: only runs whose
run inputs changed are re-triggered, and each run's outputs are under its key in ``results``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi.dynamic

from .completion import target
from .exact import checked_when_resolved, exact_run
from .provider import (
    AWAITED_BY_COMPLETION_KEY,
    SECRET_KEYS_KEY,
    URN_KEY,
    ExtractionRunGroupProvider,
)
from .resource import (
    ExtractionRunArgs,
    outputs_in,
    pickler_kept,
    resource_args,
    run_options,
    run_urn,
    secret_names,
    timeout_from_options,
)
from .run_completion import (
    FINISHED_OUTPUTS,
    ExtractionRunCompletion,
    after,
    completion_options,
    finish_with,
    finished,
    may_wait,
)

GROUP_TYPE = "pulumi-python:dynamic/datagol:ExtractionRunGroup"


@dataclass
class ExtractionRunGroupArgs:
    """The inputs of an :class:`ExtractionRunGroup`; every field is a ``pulumi.Input``."""

    runs: pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, Any] | ExtractionRunArgs]]]
    max_concurrency: pulumi.Input[int] | None = None
    wait_for_completion: pulumi.Input[bool] | None = None
    poll_interval_seconds: pulumi.Input[float] | None = None
    timeout_seconds: pulumi.Input[float] | None = None


def _spec(resource_name: str, key: str, run: Any) -> Any:
    if isinstance(run, ExtractionRunArgs):
        run = {f.name: getattr(run, f.name) for f in fields(run)}
    if isinstance(run, Mapping):
        return exact_run(resource_name, run, f"runs.{key}")
    if isinstance(run, pulumi.Output):
        # Checked as it resolves, as a map would be; anything else, check reports.
        return checked_when_resolved(run, lambda resolved: _spec(resource_name, key, resolved))
    return run


def exact_runs(resource_name: str, runs: Any) -> Any:
    """``runs`` with every run's inputs checked by :func:`~datagol_pulumi.exact.exact_input`
    (paths ``runs.<key>.<input>``), Outputs at any level as they resolve."""
    if isinstance(runs, Mapping):
        return {key: _spec(resource_name, key, run) for key, run in runs.items()}
    if isinstance(runs, pulumi.Output):
        return checked_when_resolved(runs, lambda resolved: exact_runs(resource_name, resolved))
    return runs  # not a map: check says so


class ExtractionRunGroup(pulumi.dynamic.Resource, module="datagol", name="ExtractionRunGroup"):
    """Runs keyed by name; each key behaves like one :class:`ExtractionRun`."""

    results: pulumi.Output[dict[str, dict[str, Any]]]
    """Per run key, the same outputs an ExtractionRun has (rows never echoed)."""
    max_concurrency: pulumi.Output[int]
    triggered_keys: pulumi.Output[list[str]]
    """The run keys the last create or update sent."""

    def __init__(
        self,
        resource_name: str,
        args: ExtractionRunGroupArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """``ExtractionRunGroup(name, ExtractionRunGroupArgs(runs=...), opts)`` or
        ``ExtractionRunGroup(name, runs=..., opts=opts)``."""
        group_args, opts = resource_args(ExtractionRunGroupArgs, resource_name, args, opts, kwargs)
        runs = exact_runs(resource_name, group_args.runs)
        timeout = group_args.timeout_seconds
        props: dict[str, Any] = {
            "runs": runs,
            "max_concurrency": group_args.max_concurrency,
            "wait_for_completion": group_args.wait_for_completion,
            "poll_interval_seconds": group_args.poll_interval_seconds,
            "timeout_seconds": timeout if timeout is not None else timeout_from_options(opts),
            "results": None,
            "triggered_keys": None,
            URN_KEY: run_urn(resource_name, GROUP_TYPE, opts),
            SECRET_KEYS_KEY: secret_keys(runs),
        }
        waits = group_may_wait(group_args)
        if waits:
            props[AWAITED_BY_COMPLETION_KEY] = True
        with pickler_kept():
            super().__init__(ExtractionRunGroupProvider(), resource_name, props, run_options(opts))
            if waits:
                self._await_completion(resource_name, opts)

    def _await_completion(self, resource_name: str, opts: pulumi.ResourceOptions | None) -> None:
        completion = ExtractionRunCompletion(
            resource_name,
            runs=after(
                self,
                self.results.apply(lambda results: {k: target(r) for k, r in results.items()}),
            ),
            max_concurrency=after(self, self.max_concurrency),
            opts=completion_options(self, opts),
        )
        self.results = pulumi.Output.all(self.results, completion.runs).apply(
            lambda values: {
                key: {
                    **run,
                    **{n: finished(run.get(n), values[1].get(key), n) for n in FINISHED_OUTPUTS},
                }
                for key, run in values[0].items()
            }
        )
        finish_with(self, completion)


def group_may_wait(group_args: ExtractionRunGroupArgs) -> bool:
    """Whether any run of the group may wait for completion (Outputs may)."""
    runs = group_args.runs
    if may_wait(group_args.wait_for_completion) or not isinstance(runs, Mapping):
        return True
    for run in runs.values():
        if isinstance(run, ExtractionRunArgs):
            run = {"wait_for_completion": run.wait_for_completion}
        if not isinstance(run, Mapping) or may_wait(run.get("wait_for_completion")):
            return True
    return False


def secret_keys(runs: Any) -> pulumi.Output[list[str]]:
    """The run keys whose inputs hold a secret (``["*"]`` when ``runs`` is one Output).

    The provider wraps those keys' results as secrets: the engine hands it plain values, and
    ``results`` has no same-named input for the engine to take secrecy from. Whether an Output
    is secret is only known once it resolves, hence an Output (known in preview too). The same
    walk as a run's secret-input marker: plain rows are not turned into Outputs.
    """
    if isinstance(runs, Mapping):
        return secret_names({key: outputs_in(spec) for key, spec in runs.items()})
    return secret_names({"*": outputs_in(runs)})
