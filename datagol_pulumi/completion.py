"""Waiting for runs to finish, as a step of its own: it only reads Poll Status, by request id.

The engine records a resource in the stack's state when its step returns, and the state is the
only record every runner shares. So a run that waits is two steps: the run's create or update
sends the POSTs and returns as soon as DataGOL answered (the request ids are then in state),
and an ``ExtractionRunCompletion`` waits for those request ids. Killing ``pulumi up`` during the
wait, on any runner, costs nothing: the next ``up`` finds the run in state, and the completion,
which never recorded a result, waits for the same request ids again.

Rules, stated once:

* a key (one run; one run key of a group) is awaited when it waits for completion and its
  trigger (``operation_id``, ``request_ids``) is not the one already seen finished;
* every request id it has is polled until DataGOL reports a final status, within
  ``timeout_seconds``;
* a run with a request DataGOL never answered (it may or may not have started a job, and has no
  request id) cannot be awaited: the step fails, reading nothing, keeps the run's status
  (UNKNOWN) and says what to check in DataGOL and how to send it again on purpose;
* every message is masked with the fragments of secret inputs the run recorded;
* a run that finished with a failure status, did not finish in time, or whose status could not
  be read fails the step (:class:`~datagol_pulumi.errors.RunFailedError`). Nothing is recorded,
  so the next ``pulumi up`` waits again, by request id, and never sends a trigger. Change the
  run's ``triggers`` to run it again, or stop waiting for it;
* a wait stops within seconds when the engine cancels (Ctrl-C) or the provider is closed
  (:mod:`datagol_pulumi.waiting`), and fails the step the same way: nothing recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .client import DataGolClient, RunStatus, utc_now
from .client.masking import masking, recorded_fragments
from .errors import ApiError, RunFailedError, TransportError
from .ledger import AMBIGUOUS, Ledger
from .progress import Progress
from .secrecy import MASKED_VALUES
from .validation import DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS
from .waiting import Stop, stoppable
from .wire import scan

#: What a completion records of each run it waits for (all outputs of the run): what identifies
#: the trigger, how to wait, and what the run itself recorded (a run that waited inside its own
#: step, as 0.2.0 did, or one read by `pulumi refresh`, already knows its final status).
RECORDED_KEYS = (
    "operation_id",
    "request_ids",
    "wait_for_completion",
    "poll_interval_seconds",
    "timeout_seconds",
    "batches",
    "status",
    "message",
    "triggered_at",
    "finished_at",
)
#: What a completion takes of each run: the above, and the fragments of the run's secret inputs
#: that none of its messages may show (a secret, never recorded by the completion).
TARGET_KEYS = (*RECORDED_KEYS, MASKED_VALUES)


def target(run_outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a run's outputs a completion takes as its input for that run."""
    return {k: run_outputs.get(k) for k in TARGET_KEYS}


def _record(run: Mapping[str, Any]) -> dict[str, Any]:
    return {k: run.get(k) for k in RECORDED_KEYS}


def awaited_by_completion(
    run_outputs: Mapping[str, Any],
    *,
    poll_interval_seconds: float | None = None,
    timeout_seconds: float | None = None,
) -> dict[str, Any]:
    """The target of a run that a completion declared for it awaits (the plugin's face): waited
    for whatever the run's own ``wait_for_completion`` says (false, when the run leaves the wait
    to the completion), with the completion's poll interval and timeout where it sets them."""
    out = target(run_outputs)
    out["wait_for_completion"] = True
    if poll_interval_seconds is not None:
        out["poll_interval_seconds"] = poll_interval_seconds
    if timeout_seconds is not None:
        out["timeout_seconds"] = timeout_seconds
    return out


def summary(results: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One final status for the runs a completion awaited: one run's own; for several, their
    status when all ended alike (else each distinct one, comma-separated), the latest finish,
    the longest wait, every request id, and each run's error named by its key."""
    runs = [results[key] for key in sorted(results)]
    if len(runs) == 1:
        [only] = runs
        return {
            "status": only.get("status") or "",
            "message": only.get("message") or "",
            "error": only.get("error") or "",
            "finished_at": only.get("finished_at") or "",
            "duration_seconds": only.get("duration_seconds") or 0.0,
            "request_ids": [r for r in only.get("request_ids") or [] if r],
        }
    statuses = sorted({str(r.get("status")) for r in runs if r.get("status")})
    return {
        "status": ",".join(statuses),
        "message": "",
        "error": "; ".join(
            f"{key}: {error}" for key in sorted(results) if (error := results[key].get("error"))
        ),
        "finished_at": max((str(r.get("finished_at") or "") for r in runs), default=""),
        "duration_seconds": max((float(r.get("duration_seconds") or 0) for r in runs), default=0.0),
        "request_ids": [i for r in runs for i in r.get("request_ids") or [] if i],
    }


def _trigger(value: Mapping[str, Any] | None) -> tuple[Any, tuple[Any, ...]]:
    value = value or {}
    return value.get("operation_id"), tuple(value.get("request_ids") or ())


#: Why a run that DataGOL accepted cannot be awaited (its answer carried no request id).
NO_REQUEST_ID = (
    "DataGOL's answer carried no request id, so completion cannot be awaited; the run was "
    "triggered. Set wait_for_completion to false for this service."
)


def failure_text(request_id: str | None, status: str | None, message: str | None) -> str:
    detail = f": {message}" if message else ""
    return f"Run {request_id} finished with status {status}{detail}."


def await_request(
    client: DataGolClient,
    request_id: str,
    *,
    poll_interval: float,
    timeout: float,
    deadline: float,
    then: str,
    stop: Stop | None = None,
    seen: Callable[[RunStatus], object] | None = None,
    stopped_then: str = "",
) -> tuple[RunStatus | None, str | None]:
    """Poll one request id until DataGOL reports a final status, ``deadline`` passes or
    ``stop`` is set: (its last status, None) on success, else (last status if any, why not).
    ``then`` says what happens to a run that did not finish in time, ``stopped_then`` to one
    whose wait was stopped (default: nothing recorded). The one wait both lifecycles use."""
    stop = stop or Stop()
    try:
        last, timed_out = client.wait_for_run(
            request_id,
            poll_interval=poll_interval,
            timeout=max(0.0, deadline - time.monotonic()),
            stop=stop.stopped,
            sleep=stop.sleep,
            seen=seen,
        )
    except (ApiError, TransportError) as exc:
        return None, f"Run {request_id} was triggered, but its status could not be read: {exc}"
    if timed_out and stop.reason:
        return last, (
            f"Stopped waiting for run {request_id}: {stop.reason} (last status "
            f"{last.status or 'unknown'}). It may still be running; "
            f"{stopped_then or STOPPED_THEN}"
        )
    if timed_out:
        return last, (
            f"Run {request_id} did not finish within {timeout:g} s (last status "
            f"{last.status or 'unknown'}). It may still be running; {then}"
        )
    if last.outcome == "failed":
        return last, failure_text(request_id, last.status, last.message)
    return last, None


RERUN_HINT = (
    "Change the run's `triggers` to run it again, or set wait_for_completion to false to stop "
    "waiting for it."
)
#: How a program stops waiting for a run (the plugin's face names its own way).
STOP_WAITING = "set wait_for_completion to false to stop waiting for it"
#: What to do about a run whose trigger DataGOL never answered ({when}: when it was sent).
UNANSWERED_HINT = (
    "Check in DataGOL whether an extraction of this run's element started at {when}: if none "
    f"did, change the run's `triggers` to send it again on purpose; if one did, {STOP_WAITING}."
)
NOTHING_SENT_AGAIN = "The next `pulumi up` reads it again; nothing is sent."
#: What follows a wait that was stopped (Ctrl-C, the provider closed): nothing was recorded.
STOPPED_THEN = "nothing is recorded, and the next `pulumi up` waits for it again by request id."


def needs_await(run: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """Whether ``run`` is to be awaited: it waits, and its trigger is not one seen finished."""
    if not run.get("wait_for_completion"):
        return False
    return old is None or not old.get("awaited") or _trigger(run) != _trigger(old)


def has_changes(runs: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:
    """Whether a completion has anything to do: a run to await, or one added, removed, or
    no longer waited for."""
    if set(runs) != set(previous):
        return True
    return any(
        needs_await(run, previous.get(key))
        or bool(run.get("wait_for_completion")) != bool(previous[key].get("awaited"))
        for key, run in runs.items()
    )


def unawaitable(runs: Mapping[str, Any], previous: Mapping[str, Any]) -> RunFailedError | None:
    """The failure the wait would end in before reading anything (:func:`_unanswered`: a run
    to await whose trigger DataGOL never answered), for a preview to say as the step will;
    None when nothing is known to fail. A run with a value still unknown is skipped."""
    failures: dict[str, str] = {}
    for key, run in runs.items():
        if not isinstance(run, Mapping) or scan(dict(run))[0]:
            continue
        old = previous.get(key)
        if needs_await(run, old if isinstance(old, Mapping) else None):
            why = _unanswered(run)
            if why:
                failures[key] = why
    return RunFailedError(_failure_text(failures)) if failures else None


def await_runs(
    client: DataGolClient,
    runs: Mapping[str, Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
    *,
    max_concurrency: int = 16,
    report: Callable[[str], object] | None = None,
    names_secret: bool = True,
) -> dict[str, dict[str, Any]]:
    """Per key, the final status of its run; raises RunFailedError when one did not succeed
    or the wait was stopped (see :mod:`datagol_pulumi.waiting`). ``report`` is told, now and
    then, which runs are still pending (see :class:`~datagol_pulumi.progress.Progress`), by
    key unless ``names_secret``."""
    results: dict[str, dict[str, Any]] = {}
    todo = []
    for key, run in runs.items():
        old = previous.get(key)
        if needs_await(run, old):
            todo.append(key)
        elif run.get("wait_for_completion"):
            results[key] = {**dict(old or {}), **_record(run)}  # seen finished: nothing to read
        else:
            results[key] = {**_record(run), "awaited": False}
    failures: dict[str, str] = {}
    if todo:
        workers = max(1, min(max_concurrency, len(todo)))
        with (
            stoppable() as stop,
            Progress(todo, report, names_secret=names_secret) as progress,
            ThreadPoolExecutor(max_workers=workers) as pool,
        ):

            def one(key: str) -> tuple[dict[str, Any], str]:
                try:
                    return _await_one(client, runs[key], stop, progress.seen(key))
                finally:
                    progress.done(key)

            for key, (outcome, failure) in zip(todo, pool.map(one, todo), strict=True):
                results[key] = outcome
                if failure:
                    failures[key] = failure
    if failures:
        raise RunFailedError(_failure_text(failures))
    return {key: results[key] for key in runs}


def _await_one(
    client: DataGolClient,
    run: Mapping[str, Any],
    stop: Stop,
    seen: Callable[[RunStatus], object],
) -> tuple[dict[str, Any], str]:
    """(outputs, failure) for one run: every request id it has, polled to a final status, or
    taken from the run's own record where that already says how each batch ended. Its messages
    are masked with the fragments the run recorded: the process that sent it may be gone."""
    with masking(recorded_fragments(run)):
        return _await_recorded(client, run, stop, seen)


def _await_recorded(
    client: DataGolClient,
    run: Mapping[str, Any],
    stop: Stop,
    seen: Callable[[RunStatus], object],
) -> tuple[dict[str, Any], str]:
    unanswered = _unanswered(run)
    if unanswered is not None:  # nothing to poll, and no finish to claim: nothing is read
        return {**_record(run), "awaited": True}, unanswered
    recorded = _recorded_outcome(run)
    if recorded is not None:
        return recorded
    poll_interval = run.get("poll_interval_seconds") or DEFAULT_POLL_INTERVAL_SECONDS
    timeout = run.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS
    started = time.monotonic()
    deadline = started + timeout
    outs: dict[str, Any] = {**_record(run), "awaited": True, "error": ""}
    statuses: list[str] = []
    request_ids = [r for r in run.get("request_ids") or [] if r]
    if not request_ids:
        outs.update(status="", error=NO_REQUEST_ID)
        return outs, ""
    message = ""
    for request_id in request_ids:
        last, problem = await_request(
            client,
            request_id,
            poll_interval=poll_interval,
            timeout=timeout,
            deadline=deadline,
            then="the next `pulumi up` waits for it again (nothing is sent), or raise "
            "timeout_seconds.",
            stop=stop,
            seen=seen,
        )
        if problem:
            if last is None:  # the status could not be read
                return outs, f"{problem} {NOTHING_SENT_AGAIN}"
            # A timeout or a stop already says what the next `up` does.
            return outs, f"{problem} {RERUN_HINT}" if last.outcome == "failed" else problem
        assert last is not None
        message = last.message or message
        statuses.append(last.status or "")
    outs.update(
        status=statuses[-1],
        message=message,
        finished_at=utc_now(),
        duration_seconds=round(time.monotonic() - started, 3),
    )
    return outs, ""


def _unanswered(run: Mapping[str, Any]) -> str | None:
    """Why the run cannot be awaited when DataGOL never answered one of its requests (it may or
    may not have started a job, and gave no request id); None when every one was answered.
    The run's own status (UNKNOWN, or PARTIAL) and record stand: nothing here claims a trigger
    or a finish."""
    unanswered = [b for b in Ledger.from_outputs(run).batches if b.state == AMBIGUOUS]
    if not unanswered:
        return None
    why = unanswered[0].error or "DataGOL never answered this run's trigger; it may have started."
    return (
        f"{why.rstrip('.')}. Its status stays {run.get('status') or 'UNKNOWN'}: DataGOL gave no "
        "request id to wait for, and the run is not sent again on its own. "
        + UNANSWERED_HINT.format(when=run.get("triggered_at") or "its last trigger")
    )


def _recorded_outcome(run: Mapping[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The run's own record of how it ended, when every accepted batch has a final outcome."""
    outs: dict[str, Any] = {**_record(run), "awaited": True, "error": ""}
    outs.update(status=run.get("status") or "", message=run.get("message") or "")
    if not isinstance(run.get("batches"), list):
        # Written before runs kept batches (0.1.0): only a run seen finished has finished_at.
        return (outs, "") if run.get("finished_at") else None
    accepted = [
        b for b in run["batches"] if isinstance(b, Mapping) and b.get("state") == "accepted"
    ]
    if not accepted or any(not b.get("outcome") for b in accepted):
        return None
    for batch in accepted:
        if batch["outcome"] == "failed":
            text = batch.get("error") or (
                f"Run {batch.get('request_id')} finished with status {batch.get('status')}."
            )
            return outs, f"{text} {RERUN_HINT}"
    outs["finished_at"] = run.get("finished_at") or utc_now()
    return outs, ""


def _failure_text(failures: Mapping[str, str]) -> str:
    if list(failures) == [""]:
        return failures[""]
    lines = "\n".join(f"  {key}: {text}" for key, text in sorted(failures.items()))
    return f"{len(failures)} run(s) did not complete:\n{lines}"
