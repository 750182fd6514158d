"""No message quotes a value that was secret (issue 16, item 3), and ids the URL path cannot
carry are refused before any request (item 4, ids), through the SDK's real gRPC servicer.

``__secret_inputs`` is what the program sends beside the inputs (datagol_pulumi.secrecy): the
top-level inputs that hold a secret, "*" for all, unknown at preview.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import rpc

from datagol_pulumi import ExtractionRunGroupProvider
from datagol_pulumi.completion import target
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.errors import BadRequestError, RunFailedError, ValidationError
from datagol_pulumi.provider import ExtractionRunCompletionProvider
from datagol_pulumi.secrecy import SECRET_INPUTS_KEY
from datagol_pulumi.wire import plain
from tests.conftest import BASE_RUN

CLAUSE = "ssn = '123-45-6789' AND region = 'NORTH-SECRET-7'"


def run(**spec: Any) -> dict[str, Any]:
    return {**BASE_RUN, **spec}


def reasons(result: Any) -> str:
    return "\n".join(f"{f.property}: {f.reason}" for f in result.failures)


# -- check: which property and why, never the value ---------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value", "why"),
    [
        ("workspace_id", "ws-SECRET-4411", "workspace_id must be a UUID"),
        ("element_type", "TABLE-SECRET-4412", "element_type must be one of"),
        ("mode", "MODE-SECRET-4413", "mode must be one of"),
        ("element_id", "top/../SECRET-4414", "element_id (a secret value, not shown) has a dot"),
        ("element_id", ["LIST-SECRET-4415"], "element_id must be a string"),
        ("timeout_seconds", -44160.5, "timeout_seconds must be a number greater than 0"),
    ],
)
def test_a_secret_that_fails_check_is_named_not_quoted(
    emulator: Emulator, make_provider, prop: str, value: Any, why: str
) -> None:
    provider = make_provider()
    news = {**run(mode="full"), prop: value, SECRET_INPUTS_KEY: [prop]}
    text = reasons(provider.check({}, news))
    assert why in text and "not shown" in text
    shown = (
        "44160.5"
        if prop == "timeout_seconds"
        else str(value[0] if isinstance(value, list) else value)
    )
    assert shown.split("/")[-1] not in text
    # The same value, not secret, is quoted: the marker is what hides it.
    plain_text = reasons(provider.check({}, {**run(mode="full"), prop: value}))
    assert shown.split("/")[-1] in plain_text
    assert emulator.requests() == []


def test_a_secret_mode_is_not_named_by_the_messages_about_other_inputs(make_provider) -> None:
    news = run(mode="full", where_clause=CLAUSE, batch_size=5, **{SECRET_INPUTS_KEY: ["mode"]})
    text = reasons(make_provider().check({}, news))
    assert "where_clause is not used with the secret mode" in text
    assert "batch_size only applies to mode 'selected', not the secret mode" in text
    assert "'full'" not in text


def test_at_preview_an_unknown_secret_marker_hides_every_value(make_provider) -> None:
    news = run(mode="MODE-PREVIEW-881", **{SECRET_INPUTS_KEY: rpc.UNKNOWN})
    text = reasons(make_provider().check({}, news))
    assert "mode must be one of" in text and "MODE-PREVIEW-881" not in text


def test_a_group_run_marked_secret_is_named_not_quoted(make_provider) -> None:
    provider = make_provider(ExtractionRunGroupProvider)
    runs = {"a": run(mode="MODE-GROUP-SECRET-9"), "b": run(mode="MODE-GROUP-PLAIN-9")}
    text = reasons(provider.check({}, {"runs": runs, "__secret_keys": ["a"]}))
    assert "run 'a': mode must be one of" in text and "MODE-GROUP-SECRET-9" not in text
    assert "MODE-GROUP-PLAIN-9" in text  # only the secret run is hidden


# -- a server message that echoes a secret input ------------------------------------------------


def test_a_400_echoing_a_secret_where_clause_is_masked(emulator: Emulator, make_provider) -> None:
    emulator.add_fault(
        status=400,
        path_contains="/run",
        body={"message": f"invalid whereClause: {CLAUSE} (near '123-45-6789')"},
    )
    news = run(mode="filter", where_clause=CLAUSE, **{SECRET_INPUTS_KEY: ["where_clause"]})
    with pytest.raises(BadRequestError) as info:
        make_provider().create(news)
    text = f"{info.value}\n{info.value.server_message}"
    assert "123-45-6789" not in text and "NORTH-SECRET-7" not in text
    assert "invalid whereClause: [secret] (near '[secret]')" in text
    assert [r["status"] for r in emulator.requests()] == [400]


def test_a_400_echoing_a_where_clause_that_is_not_secret_is_shown(
    emulator: Emulator, make_provider
) -> None:
    emulator.add_fault(status=400, path_contains="/run", body={"message": f"bad: {CLAUSE}"})
    with pytest.raises(BadRequestError) as info:
        make_provider().create(run(mode="filter", where_clause=CLAUSE))
    assert CLAUSE in str(info.value)


def test_an_answer_echoing_secret_rows_is_masked_in_the_recorded_message(
    emulator: Emulator, make_provider
) -> None:
    rows = [{"id": "ROW-SECRET-501", "amount": 987654}]
    emulator.add_fault(
        status=200,
        path_contains="/run",
        body={"requestId": "req-1", "message": "queued ROW-SECRET-501 with amount 987654"},
    )
    news = run(mode="selected", rows=rows, **{SECRET_INPUTS_KEY: ["rows"]})
    created = make_provider().create(news)
    assert created.outs["message"] == "queued [secret] with amount [secret]"


def test_a_group_run_whose_400_echoes_its_secret_is_recorded_masked(
    emulator: Emulator, make_provider
) -> None:
    emulator.add_fault(status=400, path_contains="/el-a/", body={"message": f"bad {CLAUSE}"})
    runs = {
        "a": run(element_id="el-a", mode="filter", where_clause=CLAUSE),
        "b": run(element_id="el-b"),
    }
    created = make_provider(ExtractionRunGroupProvider).create(
        {"runs": runs, "__secret_keys": ["a"]}
    )
    results = plain(created.outs["results"])  # the key's results are secret as a whole
    assert "HTTP 400: bad [secret]" in results["a"]["error"]
    assert "123-45-6789" not in results["a"]["error"]
    assert results["b"]["request_id"]


# -- ids the path cannot carry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("element_id", ".."),
        ("element_id", "."),
        ("element_id", "finance/../payroll"),
        ("extraction_id", ".."),
        ("element_id", "col-9\n"),
    ],
)
def test_an_id_the_path_cannot_carry_is_refused_before_any_request(
    emulator: Emulator, make_provider, prop: str, value: str
) -> None:
    provider = make_provider()
    checked = provider.check({}, run(**{prop: value}))
    assert [f.property for f in checked.failures] == [prop]
    assert f"Set {prop} to the id exactly as DataGOL shows it" in checked.failures[0].reason
    with pytest.raises(ValidationError):
        provider.create(run(**{prop: value}))
    assert emulator.requests() == []


def test_a_folder_path_id_is_still_sent_in_one_segment(emulator: Emulator, make_provider) -> None:
    make_provider().create(run(element_id="finance/invoices 2026 #1 ?%"))
    [post] = emulator.requests()
    assert post["path"].endswith("/COLUMN/finance%2Finvoices%202026%20%231%20%3F%25/run")


def test_a_poll_status_echoing_a_secret_is_masked_in_the_completion_step(
    emulator: Emulator, make_provider
) -> None:
    # The completion polls in a step of its own; the run was triggered by this process.
    outs = recorded_run(emulator, make_provider)
    with pytest.raises(RunFailedError) as info:
        make_provider(ExtractionRunCompletionProvider).create({"runs": {"": target(plain(outs))}})
    assert "Extraction failed: filter [secret] failed" in str(info.value)
    assert "123-45-6789" not in str(info.value)


def recorded_run(emulator: Emulator, make_provider) -> dict[str, Any]:
    """A run filtered by the secret CLAUSE, awaited by a completion, whose job fails with a
    message quoting it; its outputs as the state holds them (the fragments a secret)."""
    emulator.configure(
        failing_extractions=["ext-1"], failure_reason=f"filter {CLAUSE} failed", job_seconds=0
    )
    wait = {"wait_for_completion": True, "poll_interval_seconds": 0.05, "timeout_seconds": 5.0}
    news = run(
        mode="filter",
        where_clause=CLAUSE,
        **wait,
        **{SECRET_INPUTS_KEY: ["where_clause"], "__awaited_by_completion": True},
    )
    outs = make_provider().create(news).outs
    assert rpc.is_rpc_secret(outs["masked_values"])
    assert {CLAUSE, "123-45-6789", "NORTH-SECRET-7"} <= set(plain(outs)["masked_values"])
    return outs


def test_a_completion_masks_with_the_fragments_the_run_recorded_not_with_memory(
    emulator: Emulator, make_provider
) -> None:
    outs = plain(recorded_run(emulator, make_provider))
    # What the Python face's completion takes: the run's target without its fragments, and the
    # fragments beside it, an input of their own (so that the target, and the status it
    # reports, are not secret).
    awaited = {k: v for k, v in target(outs).items() if k != "masked_values"}
    completions = make_provider(ExtractionRunCompletionProvider)
    with pytest.raises(RunFailedError) as unmasked:
        completions.create({"runs": {"": awaited}})
    # Nothing is kept in the process's memory: without the recorded fragments, nothing masks.
    assert "123-45-6789" in str(unmasked.value)
    with pytest.raises(RunFailedError) as masked:
        completions.create({"runs": {"": awaited}, "masked_values": {"": outs["masked_values"]}})
    assert "Extraction failed: filter [secret] failed" in str(masked.value)
    assert "123-45-6789" not in str(masked.value)


def test_a_refresh_in_another_process_masks_with_the_fragments_the_run_recorded(
    emulator: Emulator, make_provider
) -> None:
    outs = recorded_run(emulator, make_provider)
    emulator.clear_requests()
    read = make_provider().read("r", outs).outs  # a provider process of its own
    assert [r["method"] for r in emulator.requests()] == ["GET"]
    error = plain(read)["error"]
    assert "finished with status FAILED: Extraction failed: filter [secret] failed" in error
    assert "123-45-6789" not in error
    assert rpc.is_rpc_secret(read["masked_values"])  # still a secret in state
