"""One extraction run's lifecycle, shared by ExtractionRun and ExtractionRunGroup providers.

Lifecycle rules, stated once:

* create triggers the run; an update re-triggers it only when ``mode``, ``where_clause``,
  ``rows``, ``extract_only_new`` or ``triggers`` changed (other updates send nothing);
  a change of workspace, extraction or element replaces it; delete and refresh never trigger.
* A request that may have started a job is never sent again on its own. Once any request of a
  run may have reached the service, the outcome is *recorded* (in the outputs, so in state) with
  an ``error`` instead of being raised: the resource then reports the error and fails the
  ``pulumi up``, while the next ``up`` does not resend. Changing ``triggers`` resends on purpose.
* An error before anything could have started is raised: state is untouched and the next
  ``pulumi up`` simply tries again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from .client import DataGolClient, RunStatus, utc_now
from .errors import ApiError, DataGolError, TransportError, ValidationError
from .journal import InflightJournal
from .payload import RequestDigest, rows_digest, trigger_requests
from .validation import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RUN_PROPERTIES,
    changed_properties,
    check_run,
)

#: Outputs a run adds to the echo of its inputs (``rows`` excepted).
RUN_OUTPUTS = (
    "rows_digest",
    "row_count",
    "request_id",
    "request_ids",
    "status",
    "message",
    "error",
    "triggered_at",
    "finished_at",
    "duration_seconds",
    "run_count",
    "request_digest",
)

_RESEND_HINT = (
    " The run is recorded in the stack, so the next `pulumi up` does not send it again; "
    "change this run's `triggers` to send it again on purpose."
)


def validated(inputs: Mapping[str, Any], subject: str = "") -> dict[str, Any]:
    """Normalised run inputs, or :class:`ValidationError` naming each bad property."""
    clean = {k: v for k, v in inputs.items() if not k.startswith("__")}
    normalised, failures = check_run(clean)
    if failures:
        raise ValidationError(failures, subject)
    return normalised


def _echo(inputs: Mapping[str, Any]) -> dict[str, Any]:
    outs = {prop: inputs.get(prop) for prop in RUN_PROPERTIES if prop != "rows"}
    rows = inputs.get("rows")
    outs["rows_digest"] = rows_digest(rows)
    outs["row_count"] = len(rows) if isinstance(rows, list) else None
    return outs


def carry_over(inputs: Mapping[str, Any], old_outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs for an update that sends nothing: new inputs, previous run results."""
    outs = {k: old_outputs.get(k) for k in RUN_OUTPUTS}
    outs.update(_echo(inputs))
    return outs


def trigger_run(
    client: DataGolClient,
    inputs: Mapping[str, Any],
    *,
    run_count: int,
    journal: InflightJournal | None = None,
) -> dict[str, Any]:
    """Send one run (all its batches), wait if asked, and return its outputs.

    Raises only when nothing can have started; see the module docstring. With a ``journal``, a
    run whose last attempt was cut off mid-trigger is recorded, not sent again.
    """
    if journal is None:
        return _send_and_wait(client, inputs, run_count)
    entry = journal.path(inputs)
    since = journal.interrupted(entry)
    if since is not None:
        journal.end(entry)  # the state records it from now on
        return _outputs(
            inputs,
            status="UNKNOWN",
            error=(
                f"An earlier `pulumi up` was stopped at {since} while it was triggering this run; "
                "DataGOL may have started it, so it was not sent again." + _RESEND_HINT
            ),
            run_count=run_count,
        )
    journal.begin(entry, utc_now())
    try:
        return _send_and_wait(client, inputs, run_count)
    finally:
        journal.end(entry)  # not reached when the process is killed, which is the point


def _outputs(inputs: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """A run's outputs: the echo of its inputs, the given values, None for the rest.

    (The engine does not store None outputs, so they cost no state.)
    """
    outs = _echo(inputs)
    outs.update({k: None for k in RUN_OUTPUTS if k not in outs})
    outs.update(request_ids=[], triggered_at=utc_now())
    outs.update(values)
    return outs


def _send_and_wait(
    client: DataGolClient,
    inputs: Mapping[str, Any],
    run_count: int,
) -> dict[str, Any]:
    target = (
        f"workspace {inputs['workspace_id']}, extraction {inputs['extraction_id']}, "
        f"element {inputs['element_type']} {inputs['element_id']}"
    )
    digest = RequestDigest()
    request_ids: list[str | None] = []
    status: str | None = None
    message: str | None = None
    error: str | None = None
    started = time.monotonic()
    triggered_at = utc_now()
    rows = inputs.get("rows") or []
    batches = -(-len(rows) // inputs["batch_size"]) if inputs.get("batch_size") else 0
    for index, request in enumerate(trigger_requests(inputs)):
        try:
            result = client.trigger(request, target=target)
        except DataGolError as exc:
            if not request_ids and not exc.may_have_started:
                raise
            digest.add(request)
            error = str(exc)
            if batches:
                error = (
                    f"batch {index + 1} of {batches} failed after {index} accepted "
                    f"batch(es) ({', '.join(map(str, request_ids)) or 'no request ids'}); the "
                    f"remaining batches were not sent: {exc}"
                )
            status = "PARTIAL" if request_ids else "UNKNOWN"
            if exc.may_have_started:
                request_ids.append(None)
            error += _RESEND_HINT
            break
        digest.add(request)
        request_ids.append(result.request_id)
        status = result.status or "TRIGGERED"
        message = result.message

    finished_at: str | None = None
    duration: float | None = None
    if error is None and inputs.get("wait_for_completion"):
        final, error = _wait(client, inputs, request_ids)
        if final is not None:
            status, message = final.status or status, final.message or message
            if final.final:
                finished_at = utc_now()
                duration = round(time.monotonic() - started, 3)
        if error is not None:
            error += _RESEND_HINT

    return _outputs(
        inputs,
        request_id=request_ids[0] if request_ids else None,
        request_ids=request_ids,
        status=status,
        message=message,
        error=error,
        triggered_at=triggered_at,
        finished_at=finished_at,
        duration_seconds=duration,
        run_count=run_count,
        request_digest=digest.hexdigest(),
    )


def _wait(
    client: DataGolClient,
    inputs: Mapping[str, Any],
    request_ids: list[str | None],
) -> tuple[RunStatus | None, str | None]:
    """Wait for every request of the run; returns (last status, error text or None)."""
    if not request_ids or any(rid is None for rid in request_ids):
        return None, (
            "DataGOL's answer carried no request id, so completion cannot be awaited; the run was "
            "triggered. Set wait_for_completion to false for this service."
        )
    poll_interval = inputs.get("poll_interval_seconds") or DEFAULT_POLL_INTERVAL_SECONDS
    timeout = inputs.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    last: RunStatus | None = None
    for request_id in request_ids:
        assert request_id is not None
        try:
            last, timed_out = client.wait_for_run(
                request_id,
                poll_interval=poll_interval,
                timeout=max(0.0, deadline - time.monotonic()),
            )
        except (ApiError, TransportError) as exc:
            return last, f"Run {request_id} was triggered, but its status could not be read: {exc}"
        if timed_out:
            return last, (
                f"Run {request_id} did not finish within {timeout:g} s (last status "
                f"{last.status or 'unknown'}). It may still be running; raise timeout_seconds "
                "to wait longer, or `pulumi refresh` later to read its status."
            )
        if last.outcome == "failed":
            detail = f": {last.message}" if last.message else ""
            return last, f"Run {request_id} finished with status {last.status}{detail}."
    return last, None


def refresh_status(client: DataGolClient, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs with the status read from Poll Status (never triggers, never waits).

    Only runs that wait for completion track their status; a fire-and-forget run's refresh
    sends nothing at all.
    """
    outs = dict(outputs)
    request_id = outs.get("request_id")
    if not request_id or not outs.get("wait_for_completion"):
        return outs
    try:
        status = client.poll_status(str(request_id))
    except ApiError as exc:
        if exc.status == 404:  # request logs expire; what state says is all there is
            return outs
        raise
    if status.status:
        outs["status"] = status.status
        outs["message"] = status.message or outs.get("message")
    if status.outcome == "succeeded":
        outs["error"] = None  # e.g. a run that timed out while waiting has since finished
    return outs


def new_resource_id(outputs: Mapping[str, Any]) -> str:
    """The run's request id, or a generated one when the service returned none."""
    return str(outputs.get("request_id") or f"run-{uuid.uuid4().hex}")


#: Status of a group member whose trigger was refused before anything could start; the next
#: ``pulumi up`` tries it again.
NOT_SENT = "NOT_SENT"


def reconcile_group(
    client: DataGolClient,
    runs: Mapping[str, Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
    *,
    max_concurrency: int,
    journal: InflightJournal | None = None,
) -> dict[str, dict[str, Any]]:
    """Outputs per run key: trigger new and changed runs concurrently, carry over the rest.

    One run's failure never hides another's success: a refused trigger is recorded as
    ``NOT_SENT`` (retried by the next ``up``) instead of failing the whole group, so runs that
    did start stay in state and are never resent.
    """
    from concurrent.futures import ThreadPoolExecutor

    results: dict[str, dict[str, Any]] = {}
    to_trigger: dict[str, int] = {}
    for key, inputs in runs.items():
        old = previous.get(key)
        if old is None:
            to_trigger[key] = 1
            continue
        replace, trigger, _ = changed_properties(old, inputs)
        if replace or trigger or old.get("status") == NOT_SENT:
            to_trigger[key] = int(old.get("run_count") or 0) + 1
        else:
            results[key] = carry_over(inputs, old)

    def run_one(key: str) -> dict[str, Any]:
        try:
            return trigger_run(client, runs[key], run_count=to_trigger[key], journal=journal)
        except DataGolError as exc:
            return _outputs(
                runs[key],
                status=NOT_SENT,
                error=f"{exc} Nothing was started; the next `pulumi up` tries this run again.",
                run_count=to_trigger[key] - 1,
            )

    if to_trigger:
        with ThreadPoolExecutor(max_workers=max(1, min(max_concurrency, len(to_trigger)))) as pool:
            for key, outs in zip(to_trigger, pool.map(run_one, to_trigger), strict=True):
                results[key] = outs
    return {key: results[key] for key in runs}
