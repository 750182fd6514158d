"""``datagol:index:ExtractionRunCompletion``: the plugin's wait, as a step of its own.

A run's create returns once DataGOL answered its POSTs, so the engine records its request ids in
the stack's state at once; this resource then waits for them (the rules: :mod:`datagol_pulumi.
completion`, the operations: :func:`operations.create_completion` and its siblings, the very
ones the Python face's completion calls). It only reads Poll Status, and it records nothing
until every run finished successfully: a `pulumi up` killed during the wait, on any runner, is
redone by the next one, by request id, and sends nothing.

A YAML program declares it beside the run, which does not wait itself (``waitForCompletion``
unset or false), and the wait's settings are the completion's::

    contractsFinished:
      type: datagol:index:ExtractionRunCompletion
      properties:
        run: ${contracts.completionTarget}     # or, for a group: runs: ${seed.results}
        timeoutSeconds: 3600

Unlike the Python face, where ``depends_on=[run]`` means "finished" by itself, a YAML, TS or
Go program depends on the completion (``dependsOn: [${contractsFinished}]``) and reads the final
status from it: a packaged provider cannot add a resource beside the one a program declares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    CreateRequest,
    CreateResponse,
    DiffRequest,
    DiffResponse,
    PropertyDiff,
    PropertyDiffKind,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.runtime import rpc

from .. import operations
from ..completion import (
    NO_REQUEST_ID,
    RERUN_HINT,
    STOP_WAITING,
    TARGET_KEYS,
    awaited_by_completion,
    summary,
)
from ..errors import ConfigurationError, RunFailedError
from ..operations import NAMES_SECRET_KEY, URN_KEY, Context
from ..properties import RUN_INPUTS, RUN_OUTPUTS, Prop, camel, snake
from ..secrecy import MASKED_VALUES
from ..wire import is_unknown, plain
from . import translate

#: The output of an ExtractionRun that a completion takes as its ``run`` (one expression).
COMPLETION_TARGET = Prop(
    "completion_target",
    "target",
    "What an ExtractionRunCompletion needs of this run (its trigger, request ids and how it "
    "ended, if known): `run: ${<this run>.completionTarget}`.",
)
#: The properties of that output, as the run's own outputs define them.
TARGET_PROPS: tuple[Prop, ...] = tuple(
    p for name in TARGET_KEYS for p in (*RUN_INPUTS, *RUN_OUTPUTS) if p.name == name
)

COMPLETION_INPUTS: tuple[Prop, ...] = (
    Prop(
        "run",
        "target",
        "One ExtractionRun to wait for: its completionTarget (`${contracts.completionTarget}`). "
        "Set this or runs.",
        "completion",
    ),
    Prop(
        "runs",
        "result_map",
        "Runs to wait for, by key: an ExtractionRunGroup's results (`${seed.results}`), or a "
        "map of some of them. Set this or run.",
        "completion",
    ),
    Prop(
        "poll_interval_seconds",
        "number",
        "Seconds between status polls (default: each run's pollIntervalSeconds, 5).",
        "completion",
    ),
    Prop(
        "timeout_seconds",
        "number",
        "The longest wait, in seconds (default: each run's timeoutSeconds, 3600). A run not "
        "finished by then fails the update; the next `pulumi up` waits for it again.",
        "completion",
    ),
    Prop(
        "max_concurrency", "integer", "How many runs are polled at once (default 16).", "completion"
    ),
)

#: What the completion records of each run it awaited (and, for one run, at the top level).
RECORD: tuple[Prop, ...] = (
    Prop(
        "status",
        "string",
        "The final status (several runs: their status when all ended alike, else each distinct "
        "one, comma-separated). Recorded only once every run finished successfully: a failed "
        "or timed-out run fails the update and records nothing.",
    ),
    Prop("message", "string", "DataGOL's last message about the run (one run only)."),
    Prop("error", "string", "Why a run could not be awaited (DataGOL returned no request id)."),
    Prop("finished_at", "string", "When the run was seen finished (UTC, ISO 8601; the latest)."),
    Prop("duration_seconds", "number", "How long the wait took, in seconds (the longest)."),
    Prop("request_ids", "strings", "The request ids awaited."),
    Prop("operation_id", "string", "The run's operation that was awaited (one run only)."),
)
COMPLETION_OUTPUTS: tuple[Prop, ...] = (
    *RECORD,
    Prop("results", "completion_result_map", "Per key of `runs`, what was awaited ({} for run)."),
)

_FIELDS = tuple(p.name for p in RECORD)
#: What a run's target carries that the completion does not record.
_UNRECORDED = frozenset(("batches", camel(MASKED_VALUES)))
_ABSENT: dict[str, Any] = {"duration_seconds": 0.0, "request_ids": []}
#: The core's hints name the Python face's way to stop waiting; here it is the completion's.
_HINTS = {
    RERUN_HINT: "Change the run's `triggers` to run it again, or stop awaiting it with this "
    "ExtractionRunCompletion.",
    NO_REQUEST_ID: NO_REQUEST_ID.replace(
        "Set wait_for_completion to false for this service.",
        "Do not await this service's runs with an ExtractionRunCompletion.",
    ),
    STOP_WAITING: "stop awaiting it with this ExtractionRunCompletion",
}


def completion_target(values: Mapping[str, Any], secret: set[str]) -> dict[str, Any]:
    """A run's outputs with its ``completion_target`` (an echo of a secret input kept secret
    inside it too; what is derived from one, the batches, already is)."""
    target = {
        camel(key): rpc.wrap_rpc_secret(value) if camel(key) in secret else value
        for key, value in ((k, values.get(k)) for k in TARGET_KEYS)
    }
    fragments = values.get(MASKED_VALUES)
    if rpc.is_rpc_secret(fragments) and rpc.unwrap_rpc_secret(fragments):
        # Secret as a whole: a secret nested in an object reaches a completion as {} through
        # the YAML host, and every SDK marks the whole object secret anyway.
        return {**values, COMPLETION_TARGET.name: rpc.wrap_rpc_secret(plain(target))}
    return {**values, COMPLETION_TARGET.name: target}


def _plugin_text(text: str) -> str:
    for core, ours in _HINTS.items():
        text = text.replace(core, ours)
    return translate.camel_text(text)


def _snake_keys(value: Any) -> Any:
    return {snake(k): v for k, v in value.items()} if isinstance(value, dict) else value


def _values(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """The engine's inputs (or state), snake_case down to each run's outputs."""
    values = translate.run_in(props)
    values["run"] = _snake_keys(values.get("run"))
    for key in ("runs", "results"):
        if isinstance(values.get(key), dict):
            values[key] = {k: _snake_keys(v) for k, v in values[key].items()}
    return values


def _core(values: Mapping[str, Any]) -> dict[str, Any]:
    """The core completion's inputs: per key, the run's target as this completion awaits it."""
    runs = {"": values["run"]} if values.get("run") is not None else values.get("runs")
    settings = {
        "poll_interval_seconds": values.get("poll_interval_seconds"),
        "timeout_seconds": values.get("timeout_seconds"),
    }
    if not isinstance(runs, dict) or any(not isinstance(r, dict) for r in runs.values()):
        return {"runs": Unknown(), "max_concurrency": values.get("max_concurrency")}
    return {
        "runs": {key: awaited_by_completion(run, **settings) for key, run in runs.items()},
        "max_concurrency": values.get("max_concurrency"),
    }


def _previous(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the core recorded, read back from this resource's outputs."""
    results = state.get("results")
    if isinstance(results, dict) and results:
        return {key: {**record, "awaited": True} for key, record in results.items()}
    if state.get("operation_id") is None:
        return {}
    return {"": {**{k: state.get(k) for k in _FIELDS}, "awaited": True}}


def _record(result: Mapping[str, Any]) -> dict[str, Any]:
    record = {k: result.get(k) for k in _FIELDS}
    record = {k: _ABSENT.get(k, "") if v is None else v for k, v in record.items()}
    record["error"] = _plugin_text(str(record["error"])) if record["error"] else ""
    return record


def _secret_keys(props: Mapping[str, PropertyValue]) -> set[str]:
    """The keys whose run carries a secret (``*``: all): their records are kept secret. A run's
    ``batches``, secret when its rows are, and its ``maskedValues``, secret when any input is,
    are not recorded, so they do not count."""

    def holds(value: PropertyValue) -> bool:
        if value.is_secret:
            return True
        inner = value.value
        if isinstance(inner, Mapping):
            return any(v.contains_secret() for k, v in inner.items() if k not in _UNRECORDED)
        return value.contains_secret()

    run, runs = props.get("run"), props.get("runs")
    if run is not None and run.value is not None:
        return {""} if holds(run) else set()
    if runs is None or runs.is_secret:
        return {"*"} if runs is not None else set()
    if isinstance(runs.value, Mapping):
        return {key for key, value in runs.value.items() if holds(value)}
    return set()


def _out(core_outs: Mapping[str, Any], secret: set[str]) -> dict[str, PropertyValue]:
    results = {key: _record(result) for key, result in (core_outs.get("runs") or {}).items()}
    single = list(results) == [""]
    values: dict[str, Any] = summary(results)
    values["operation_id"] = results[""]["operation_id"] if single else ""
    values["results"] = {
        key: rpc.wrap_rpc_secret(record) if "*" in secret or key in secret else record
        for key, record in results.items()
        if not single
    }
    top = {camel(k) for k in values if k != "results"} if secret else set()
    return translate.group_out(values, top)


def _failures(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    run, runs = values.get("run"), values.get("runs")
    failures: list[tuple[str, str]] = []
    if run is not None and runs is not None:
        failures.append(
            ("runs", "set run (one ExtractionRun) or runs (a group's results), not both")
        )
    elif run is None and runs is None:
        failures.append(
            (
                "run",
                "set run: ${<run>.completionTarget} (or runs: ${<group>.results}). A run deployed "
                "by datagol-pulumi 0.2 or earlier has no completionTarget until its next update: "
                "set waitForCompletion false on it, as the completion does the waiting",
            )
        )
    targets = {"run": run} if run is not None else runs if isinstance(runs, dict) else {}
    for key, target in targets.items():
        where = "run" if run is not None else f"runs.{key}"
        if is_unknown(target):
            continue
        if not isinstance(target, dict) or "operation_id" not in target:
            failures.append(
                (
                    where,
                    "must be an ExtractionRun's completionTarget or an ExtractionRunGroup's "
                    "result (with its operationId and requestIds)",
                )
            )
    if runs is not None and not is_unknown(runs) and not isinstance(runs, dict):
        failures.append(("runs", "runs must be a map of a group's results, by key"))
    for name in ("poll_interval_seconds", "timeout_seconds", "max_concurrency"):
        value = values.get(name)
        if value is None or is_unknown(value):
            continue
        whole = name != "max_concurrency" or float(value).is_integer()
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value <= 0
            or not whole
        ):
            kind = "a positive whole number" if name == "max_concurrency" else "a positive number"
            failures.append((name, f"{name} must be {kind}, got {value!r}"))
    return failures


async def check(request: CheckRequest) -> CheckResponse:
    values = _values(request.new_inputs)
    failures = [
        CheckFailure(translate.camel_path(prop), translate.camel_text(reason))
        for prop, reason in _failures(values)
    ]
    if not failures and not request.old_inputs:  # new: is its create known to fail?
        _refuse_known_failure(None, _core(values))
    return CheckResponse(inputs=request.new_inputs, failures=failures)


def _refuse_known_failure(olds: dict[str, Any] | None, news: dict[str, Any]) -> None:
    """The preview fails where the wait would before reading anything (see
    :func:`operations.completion_refusal`), in the plugin's words."""
    refusal = operations.completion_refusal(olds, news)
    if refusal is not None:
        raise RunFailedError(_plugin_text(str(refusal)))


async def diff(request: DiffRequest) -> DiffResponse:
    news = _values(request.new_inputs)
    olds = {"runs": _previous(_values(request.old_state))}
    changes = operations.diff_completion(olds, _core(news)).changes
    if changes:
        _refuse_known_failure(olds, _core(news))
    name = "run" if news.get("run") is not None else "runs"
    detailed = {name: PropertyDiff(PropertyDiffKind.UPDATE, input_diff=True)} if changes else {}
    return DiffResponse(
        changes=changes,
        replaces=[],
        stables=[],
        delete_before_replace=False,
        diffs=list(detailed),
        detailed_diff=detailed,
    )


def _awaited(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except RunFailedError as exc:
        raise RunFailedError(_plugin_text(str(exc))) from None


def _shown(urn: str, props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    """Where the wait's progress is shown, and whether it may name the run keys."""
    return {URN_KEY: urn, NAMES_SECRET_KEY: "*" in _secret_keys(props)}


async def create(context: Context, request: CreateRequest) -> CreateResponse:
    props = {**_core(_values(request.properties)), **_shown(request.urn, request.properties)}
    resource_id, outs = await asyncio.to_thread(
        _awaited, operations.create_completion, context, props
    )
    return CreateResponse(
        resource_id=resource_id, properties=_out(outs, _secret_keys(request.properties))
    )


async def update(context: Context, request: UpdateRequest) -> UpdateResponse:
    olds = {"runs": _previous(_values(request.olds))}
    news = {**_core(_values(request.news)), **_shown(request.urn, request.news)}
    outs = await asyncio.to_thread(_awaited, operations.update_completion, context, olds, news)
    return UpdateResponse(properties=_out(outs, _secret_keys(request.news)))


async def read(request: ReadRequest) -> ReadResponse:
    if not request.properties:
        raise ConfigurationError(
            f"{request.urn.rsplit('::', 1)[-1]}: importing an ExtractionRunCompletion is not "
            "supported; declare it beside the runs it waits for"
        )
    # A refresh reads nothing: what was recorded is what DataGOL reported as final.
    return ReadResponse(
        resource_id=request.resource_id, properties=request.properties, inputs=request.inputs
    )
