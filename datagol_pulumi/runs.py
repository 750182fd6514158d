"""One extraction run's lifecycle, shared by ExtractionRun and ExtractionRunGroup providers.

Lifecycle rules, stated once:

* create triggers the run; an update re-triggers it only when ``mode``, ``where_clause``,
  ``rows``, ``extract_only_new`` or ``triggers`` changed; a change of workspace, extraction or
  element replaces it; delete and refresh never trigger.
* Every batch is recorded in the run's ledger (:mod:`datagol_pulumi.ledger`). A request that
  may have started a job is never sent again on its own. Once any request of an operation may
  have reached the service, every outcome, whatever the exception, is *recorded* (in the
  outputs, so in state) with an ``error`` instead of being raised: the resource then reports
  the error and fails the ``pulumi up``, while the next ``up`` does not resend it.
* Batches that never reached the service (refused, or not sent after an earlier failure) are
  sent by the next ``pulumi up``, and only those. Changing ``triggers`` resends everything.
* An error before anything of an operation could have started is raised: state is untouched
  and the next ``pulumi up`` simply tries again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from . import engine_link, properties
from .client import DataGolClient, utc_now
from .client.masking import mask, masked_fragments, masking
from .completion import NO_REQUEST_ID, await_request
from .errors import DataGolError, ValidationError
from .journal import InflightJournal
from .ledger import ACCEPTED, AMBIGUOUS, REFUSED, UNSENT, Ledger
from .payload import RequestDigest, digest, rows_digest
from .properties import names
from .secrecy import MASKED_VALUES, secret_inputs
from .validation import (
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    REPLACE_PROPERTIES,
    RUN_PROPERTIES,
    TRIGGER_PROPERTIES,
    check_run,
)
from .waiting import stoppable

#: Outputs a run adds to the echo of its inputs (``rows`` excepted).
RUN_OUTPUTS = names(properties.RUN_OUTPUTS)


def failure_of_operation(new: Mapping[str, Any], old: Mapping[str, Any]) -> str | None:
    """The error of a run, when the operation that produced ``new`` sent it or found it.

    Each operation that sends marks its outputs with a fresh ``operation_id``; an update that
    sends nothing keeps the previous one, so an error an earlier ``up`` reported is not
    reported again. No clock is compared. (Both faces fail a deployment on it: the dynamic one
    from a resource hook, the plugin with ErrorResourceInitFailed.)
    """
    operation_id = new.get("operation_id")
    if not operation_id or operation_id == old.get("operation_id"):
        return None
    return new.get("refused") or new.get("error") or None


def validated(inputs: Mapping[str, Any], subject: str = "") -> dict[str, Any]:
    """Normalised run inputs, or :class:`ValidationError` naming each bad property (never
    quoting the value of one the program marked secret)."""
    clean = {k: v for k, v in inputs.items() if not k.startswith("__")}
    normalised, failures = check_run(clean, secret_inputs(inputs))
    if failures:
        raise ValidationError(failures, subject)
    return normalised


def echo_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    outs = {prop: inputs.get(prop) for prop in RUN_PROPERTIES if prop != "rows"}
    rows = inputs.get("rows")
    outs["rows_digest"] = rows_digest(rows)
    outs["row_count"] = len(rows) if isinstance(rows, list) else None
    return outs


def carry_over(
    inputs: Mapping[str, Any], old_outputs: Mapping[str, Any], secret: Collection[str] = ()
) -> dict[str, Any]:
    """Outputs for an update that sends nothing: new inputs, previous run results, and the
    fragments to mask of the inputs secret now (one marked secret since is masked too)."""
    outs = {k: old_outputs.get(k) for k in RUN_OUTPUTS}
    outs.update(echo_inputs(inputs))
    outs[MASKED_VALUES] = masked_fragments(inputs, secret)
    return outs


def has_pending(outputs: Mapping[str, Any]) -> bool:
    """Whether a recorded run has batches that never reached DataGOL (the next up sends them)."""
    return bool(Ledger.from_outputs(outputs).pending())


def run_identity(inputs: Mapping[str, Any]) -> str:
    """What a run sends, for the journal: two attempts at the same run send the same.

    Settings (waiting, batch size) are left out: changing them after an interrupted attempt
    does not make it another run.
    """
    sent = {k: inputs.get(k) for k in REPLACE_PROPERTIES + TRIGGER_PROPERTIES if k != "rows"}
    return digest({**sent, "rows": rows_digest(inputs.get("rows"))})


def trigger_run(
    client: DataGolClient,
    inputs: Mapping[str, Any],
    *,
    run_count: int,
    journal: InflightJournal | None = None,
    run: str | None = None,
    previous: Mapping[str, Any] | None = None,
    held: list[Path] | None = None,
    wait: bool = True,
    secret: Collection[str] = (),
) -> dict[str, Any]:
    """Send a run's batches, wait if asked, and return its outputs.

    ``secret``: the inputs that hold a secret (:func:`secrecy.secret_inputs`); no error or
    message of this run, the server's included, contains one of their values.

    With ``wait`` False the run is returned once DataGOL answered, whatever
    ``wait_for_completion`` says: an ExtractionRunCompletion waits for it in a step of its own
    (:mod:`datagol_pulumi.completion`), after the engine recorded the request ids.

    Without ``previous`` every batch of a new run is sent; with it, only the batches the
    previous outputs record as never having reached DataGOL. Raises only when nothing of this
    operation can have started; see the module docstring. With a ``journal`` and the ``run``'s
    URN, a run whose last attempt was cut off mid-trigger is recorded, not sent again. With
    ``held``, the run's journal entry is added to it instead of being removed on answering: a
    group's state is recorded only once all its runs have answered.
    """
    fragments = masked_fragments(inputs, secret)
    with masking(fragments):
        outs = _trigger_run(client, inputs, run_count, journal, run, previous, held, wait)
    # Recorded (a secret), so that a completion or refresh in any later process masks them too.
    outs[MASKED_VALUES] = fragments
    return outs


def _trigger_run(
    client: DataGolClient,
    inputs: Mapping[str, Any],
    run_count: int,
    journal: InflightJournal | None,
    run: str | None,
    previous: Mapping[str, Any] | None,
    held: list[Path] | None,
    wait: bool,
) -> dict[str, Any]:
    ledger = Ledger.plan(inputs) if previous is None else Ledger.from_outputs(previous)
    if previous is not None:
        ledger.resplit(inputs.get("batch_size"))
    waits = wait and bool(inputs.get("wait_for_completion"))
    operation = Operation(client, inputs, ledger, run_count, previous, waits=waits)
    if journal is None or not run:
        return operation.send()
    entry = journal.path(run)
    recorded = {previous.get("operation_id")} if previous else set()
    with engine_link.operation():
        earlier = journal.begin(entry, run, run_identity(inputs), operation.id, recorded)
        try:
            if earlier is not None:
                return operation.reattach(earlier)
            operation.note = lambda batches: journal.note(entry, batches)
            return operation.send()
        finally:
            # Not reached when the process is killed, which is the point; the state records
            # the run from the answer on.
            journal.close(entry)
            if held is None:
                journal.end(entry)
            else:
                held.append(entry)


class Operation:
    """One create or update that sends batches of a run: the single guard around sending."""

    def __init__(
        self,
        client: DataGolClient,
        inputs: Mapping[str, Any],
        ledger: Ledger,
        run_count: int,
        previous: Mapping[str, Any] | None,
        *,
        waits: bool,
    ) -> None:
        self.client, self.inputs, self.ledger = client, inputs, ledger
        self.run_count = run_count
        self.previous = previous or {}
        #: Marks the outputs this operation wrote, so that the resource reports the errors of
        #: this operation only, without comparing clocks.
        self.id = uuid.uuid4().hex
        self.digest = RequestDigest()
        self.message: str | None = self.previous.get("message")
        self.started = time.monotonic()
        self.triggered_at = utc_now()
        self.finished_at: str | None = None
        self.duration: float | None = None
        self.sent = False  # whether a request of this operation may have left
        self.current: int | None = None
        #: Records the ledger in the in-flight journal each time a batch is accepted: an
        #: attempt cut off before the engine recorded the answer is then re-attached to the
        #: accepted request ids instead of being written off.
        self.note: Callable[[list[dict[str, Any]]], bool] | None = None
        #: Whether this operation waits for the run to finish (else a completion step does).
        self.waits = waits

    def send(self) -> dict[str, Any]:
        try:
            accepted = self._send_batches()
            if accepted is not None and self.waits:
                self._wait(accepted)
        except Exception as exc:  # noqa: BLE001 - every exception, once a POST may have left
            if not self.sent:
                raise
            self._record_unexpected(exc)
        return self.outputs()

    def _send_batches(self) -> list[int] | None:
        """Send the pending batches in order; the accepted ones, or None after a failure."""
        inputs = self.inputs
        target = (
            f"workspace {inputs['workspace_id']}, extraction {inputs['extraction_id']}, "
            f"element {inputs['element_type']} {inputs['element_id']}"
        )
        accepted: list[int] = []
        pending = self.ledger.pending()
        for position, index in enumerate(pending):
            if engine_link.gone():
                # The CLI was killed: nothing sent now would be recorded. The journal entry
                # stays, so the next `up` records the run instead of sending anything.
                return None
            batch = self.ledger.batches[index]
            request = self.ledger.request(index, inputs)
            self.current = index  # from here on, this batch may leave
            try:
                self.sent = True
                result = self.client.trigger(request, target=target)
            except DataGolError as exc:
                if not exc.may_have_started:
                    if not accepted:
                        self.sent = False  # nothing of this operation started: raise it
                        raise
                    batch.state, batch.error = REFUSED, f"refused, so nothing started: {exc}"
                    return None
                self.digest.add(request)
                batch.state, batch.error = AMBIGUOUS, str(exc)
                return None
            self.digest.add(request)
            batch.state, batch.error = ACCEPTED, None
            batch.request_id, batch.status = result.request_id, result.status or "TRIGGERED"
            self.message = result.message
            accepted.append(index)
            following = pending[position + 1 :]
            if self.note is not None:
                if not self.note(self.ledger.to_output()) and following:
                    # Without the record, a later attempt could not tell which batches left:
                    # send no more now; the next `pulumi up` sends the rest.
                    self.ledger.batches[
                        following[0]
                    ].error = "not sent: the in-flight record could not be updated"
                    return None
        return accepted

    def _wait(self, accepted: list[int]) -> None:
        """Wait for every batch this operation sent; a problem is recorded on its batch."""
        inputs = self.inputs
        poll_interval = inputs.get("poll_interval_seconds") or DEFAULT_POLL_INTERVAL_SECONDS
        timeout = inputs.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS
        deadline = time.monotonic() + timeout
        # Ctrl-C (the engine's Cancel) stops this wait too: the run is recorded as answered.
        with stoppable() as stop:
            for index in accepted:
                self.current = index
                batch = self.ledger.batches[index]
                if batch.request_id is None:
                    batch.error = NO_REQUEST_ID
                    return
                last, batch.error = await_request(
                    self.client,
                    batch.request_id,
                    poll_interval=poll_interval,
                    timeout=timeout,
                    deadline=deadline,
                    then="raise timeout_seconds to wait longer, or `pulumi refresh` later to "
                    "read its status.",
                    # An engine that is gone records nothing: the wait stops polling then (the
                    # journal keeps the request ids, and the next `up` re-attaches to them).
                    stop=stop,
                    stopped_then="the run is recorded with its request id; `pulumi refresh` "
                    "later reads its status.",
                )
                if last is not None:
                    batch.status = last.status or batch.status
                    self.message = last.message or self.message
                    if last.final:
                        batch.outcome = last.outcome
                if batch.error:
                    return
        self.finished_at = utc_now()
        self.duration = round(time.monotonic() - self.started, 3)

    def _record_unexpected(self, exc: Exception) -> None:
        index = self.current if self.current is not None else len(self.ledger.batches) - 1
        batch = self.ledger.batches[index]
        text = mask(
            f"unexpected error once the request may have been sent ({type(exc).__name__}: {exc})"
        )
        if batch.state in (UNSENT, REFUSED):  # it was in flight: it may have started a job
            batch.state = AMBIGUOUS
        batch.error = text

    def reattach(self, earlier: Mapping[str, Any]) -> dict[str, Any]:
        """Outputs for a run whose earlier attempt was cut off; nothing is sent now.

        The batches that attempt recorded as accepted are adopted (and awaited, if the run
        waits); the first one after them may have been in flight, so it is ambiguous; any
        after that was never sent, and the next ``pulumi up`` sends it.
        """
        since = earlier.get("started_at") or "an unknown time"
        recorded = earlier.get("batches")
        if isinstance(recorded, list) and recorded:
            self.ledger = Ledger.from_outputs({"batches": recorded})
            in_flight = self.ledger.pending()[:1]  # sent one at a time, each answer recorded
        else:
            in_flight = self.ledger.pending()  # no answer recorded: any may have left
        for index in in_flight:
            self.ledger.batches[index].state = AMBIGUOUS
        if in_flight:
            self.ledger.batches[in_flight[0]].error = (
                f"An earlier `pulumi up` was stopped at {since} while it was triggering this "
                "run; DataGOL may have started it, so it was not sent again."
            )
        pending = self.ledger.pending()
        accepted = [i for i, b in enumerate(self.ledger.batches) if b.state == ACCEPTED]
        self.sent = True  # what was adopted is recorded, whatever happens while waiting
        self.triggered_at = since
        if accepted and not in_flight and not pending and self.waits:
            try:
                self._wait(accepted)
            except Exception as exc:  # noqa: BLE001 - adopted batches are recorded regardless
                self._record_unexpected(exc)
        return self.outputs()

    def outputs(self) -> dict[str, Any]:
        ledger = self.ledger
        request_ids = ledger.request_ids()
        outs = echo_inputs(self.inputs)
        outs.update(
            request_id=request_ids[0] if request_ids else None,
            request_ids=request_ids,
            status=ledger.status(),
            message=self.message,
            error=ledger.error(),
            triggered_at=self.triggered_at,
            finished_at=self.finished_at,
            duration_seconds=self.duration,
            run_count=self.run_count,
            request_digest=self.digest.hexdigest(),
            batches=ledger.to_output(),
            operation_id=self.id,
        )
        return outs


def new_resource_id(outputs: Mapping[str, Any]) -> str:
    """The run's request id, or a generated one when the service returned none."""
    return str(outputs.get("request_id") or f"run-{uuid.uuid4().hex}")
