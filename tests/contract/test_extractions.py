"""Extraction configurations against the emulator over real HTTP: the emulator's endpoints,
the client calls and the dynamic provider as the engine drives it, with exact request counts."""

from __future__ import annotations

import json
import urllib.request

import pytest
from pulumi.runtime import rpc

from datagol_pulumi import ExtractionProvider, ValidationError
from datagol_pulumi.client import DataGolClient
from datagol_pulumi.client.extractions import (
    create_extraction,
    delete_extraction,
    list_extractions,
    update_extraction,
)
from datagol_pulumi.config import Settings
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.extraction.lifecycle import lookup
from tests.conftest import TOKEN, WORKSPACE_ID

WS = WORKSPACE_ID
COLLECTION = f"/noCo/api/v2/workspaces/{WS}/extraction"
ELEMENT = f"{COLLECTION}/FILE/file-42"
#: A configuration as a user's setup code declares one (snake_case inputs).
DECLARED = {
    "workspace_id": WS,
    "title": "Invoices",
    "extraction_mode": "standard",
    "element_type": "file",
    "element_id": "file-42",
    "output_configuration": {"createNewWorkbook": True, "title": "Invoice lines"},
    "primary_key_column_id": ["number", "amount"],
    "column_configuration": [
        {"name": "number", "description": "Invoice number", "uiDataType": "SINGLE_LINE_TEXT"},
        {"name": "amount", "description": "Total", "uiDataType": "NUMBER"},
    ],
    "store_extracted_data": True,
    "schedule_type": "manual",
}
#: The same as Create Extraction's body (DataGOL's names, enums as DataGOL spells them); also
#: the body tests/e2e/programs/extraction.py must send (that program runs in the stack's copy,
#: where tests/ is not importable, so it declares its inputs itself).
DTO = {
    "workspaceId": WS,
    "title": "Invoices",
    "extractionMode": "STANDARD",
    "elementType": "FILE",
    "elementId": "file-42",
    "outputConfiguration": {"createNewWorkbook": True, "title": "Invoice lines"},
    "primaryKeyColumnId": ["number", "amount"],
    "columnConfiguration": DECLARED["column_configuration"],
    "storeExtractedData": True,
    "scheduleType": "MANUAL",
}


def calls(emulator: Emulator) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in emulator.requests()]


@pytest.fixture
def client(emulator: Emulator):
    made = DataGolClient(
        Settings.load({"datagol:baseUrl": emulator.url, "datagol:token": TOKEN}.get)
    )
    yield made
    made.close()


# -- the emulator, as DataGOL's OpenAPI description has it ---------------------------------------


def _send(emulator: Emulator, method: str, path: str, body=None) -> tuple[int, object]:
    request = urllib.request.Request(
        emulator.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            raw = reply.read()
            return reply.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_emulator_create_answers_an_integer_id_and_fills_in_what_datagol_fills(emulator):
    status, made = _send(emulator, "POST", COLLECTION, DTO)
    assert status == 200
    assert isinstance(made["id"], int)
    assert made["llmModel"] and made["outputConfiguration"]["tableId"] == f"tbl-{made['id']}"
    assert made["primaryKeyColumnId"] == ["amount", "number"]  # reordered
    assert made["columnConfiguration"][0]["uiMetadata"] == {"title": "number"}
    status, listed = _send(emulator, "GET", ELEMENT)
    assert status == 200 and [c["id"] for c in listed] == [made["id"]]
    assert _send(emulator, "GET", f"{COLLECTION}/FILE/other")[1] == []


def test_emulator_refuses_with_the_error_envelope(emulator):
    status, body = _send(emulator, "POST", COLLECTION, {**DTO, "extractionMode": "FAST"})
    assert status == 400
    assert body["success"] is False and body["error"]["statusCode"] == 400
    assert "extractionMode" in body["error"]["message"] and body["error"]["errorCodes"]
    status, body = _send(emulator, "PUT", f"{COLLECTION}/999", DTO)
    assert status == 404 and body["error"]["errorCodes"] == ["EXTRACTION_NOT_FOUND"]
    assert (
        _send(emulator, "POST", COLLECTION, {k: v for k, v in DTO.items() if k != "title"})[0]
        == 400
    )


def test_emulator_update_delete_and_out_of_band_changes(emulator):
    made = _send(emulator, "POST", COLLECTION, DTO)[1]
    status, changed = _send(emulator, "PUT", f"{COLLECTION}/{made['id']}", {**DTO, "title": "B"})
    assert status == 200 and changed["title"] == "B" and changed["modiDate"] > made["modiDate"]
    edited = emulator.edit_extraction(made["id"], title="In the UI")
    assert edited["title"] == "In the UI" and edited["modiDate"] > changed["modiDate"]
    assert emulator.delete_extraction(made["id"]) is True
    assert _send(emulator, "GET", ELEMENT)[1] == []
    assert _send(emulator, "DELETE", f"{COLLECTION}/{made['id']}")[0] == 404


def test_emulator_lost_answer_fault_takes_effect_and_drops_the_connection(emulator, client):
    emulator.add_fault(method="POST", path_contains="/extraction", close=True, after=True)
    with pytest.raises(Exception) as lost:
        create_extraction(client, WS, DTO)
    assert getattr(lost.value, "may_have_started", False)
    assert len(emulator.extraction_configs()) == 1  # made, though its answer never came


# -- the client calls ---------------------------------------------------------------------------


def test_client_calls_send_exact_paths_and_bodies(emulator, client):
    made = create_extraction(client, WS, DTO)
    ident = str(made["id"])
    assert [c["id"] for c in list_extractions(client, WS, "FILE", "file-42")] == [made["id"]]
    assert update_extraction(client, WS, ident, {**DTO, "title": "B"})["title"] == "B"
    assert delete_extraction(client, WS, ident) is True
    assert delete_extraction(client, WS, ident) is False  # already gone counts as deleted
    assert update_extraction(client, WS, ident, DTO) is None
    assert calls(emulator) == [
        ("POST", COLLECTION),
        ("GET", ELEMENT),
        ("PUT", f"{COLLECTION}/{ident}"),
        ("DELETE", f"{COLLECTION}/{ident}"),
        ("DELETE", f"{COLLECTION}/{ident}"),
        ("PUT", f"{COLLECTION}/{ident}"),
    ]
    assert emulator.requests(method="POST")[0]["body"] == DTO


def test_element_ids_with_a_slash_stay_one_segment(emulator, client):
    create_extraction(client, WS, {**DTO, "elementType": "FOLDER", "elementId": "fin/2026"})
    assert len(list_extractions(client, WS, "FOLDER", "fin/2026")) == 1
    assert emulator.requests(method="GET")[0]["path"] == f"{COLLECTION}/FOLDER/fin%2F2026"


def test_lookup_by_title(emulator, client):
    create_extraction(client, WS, DTO)
    create_extraction(client, WS, {**DTO, "title": "Other"})
    found = lookup(client, WS, "file", "file-42", "Other")
    assert [f["title"] for f in found] == ["Other"] and found[0]["extraction_id"].isdigit()
    assert len(lookup(client, WS, "FILE", "file-42")) == 2
    with pytest.raises(ValidationError, match="element_type"):
        lookup(client, WS, "TABLE", "file-42")


# -- the dynamic provider, as `pulumi up` drives it ----------------------------------------------


def test_check_refuses_what_datagol_refuses_before_any_request(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    bad = {
        **DECLARED,
        "extraction_mode": "FAST",
        "primary_key_column_id": ["a", "a"],
        "schedule": {"basicSchedule": {"timeUnit": "WEEK"}},
        "store_extracted_data": "yes",
    }
    del bad["title"]
    failures = {f.property for f in provider.check({}, bad).failures}
    assert failures == {
        "title",
        "extraction_mode",
        "primary_key_column_id",
        "schedule",
        "store_extracted_data",
    }
    assert emulator.requests() == []


def test_create_diff_update_read_delete(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    created = provider.create(DECLARED)
    ident = created.outs["extraction_id"]
    assert created.id == f"{WS}/FILE/file-42/{ident}"
    assert calls(emulator) == [("GET", ELEMENT), ("POST", COLLECTION)]
    assert emulator.requests(method="POST")[0]["body"] == DTO
    outs = created.outs
    assert outs["llm_model"] and outs["create_date"] and outs["modi_date"]
    # Filled in and reordered by DataGOL: no diff (numbers arrive as floats, too).
    assert provider.diff(created.id, outs, DECLARED).changes is False
    assert provider.read(created.id, outs).outs == outs
    emulator.clear_requests()

    renamed = {**DECLARED, "title": "Invoices 2026"}
    diff = provider.diff(created.id, outs, renamed)
    assert diff.changes and diff.replaces == []
    assert provider.diff(created.id, outs, {**DECLARED, "element_id": "x"}).replaces == [
        "element_id"
    ]
    updated = provider.update(created.id, outs, renamed).outs
    assert calls(emulator) == [("PUT", f"{COLLECTION}/{ident}")]
    assert emulator.requests()[0]["body"] == {**DTO, "title": "Invoices 2026", "id": int(ident)}
    assert updated["title"] == "Invoices 2026" and updated["modi_date"] > outs["modi_date"]

    emulator.edit_extraction(int(ident), title="Changed in the UI")
    drifted = provider.read(created.id, updated).outs
    assert drifted["title"] == "Changed in the UI"
    assert provider.diff(created.id, drifted, renamed).changes is True

    emulator.clear_requests()
    provider.delete(created.id, drifted)
    provider.delete(created.id, drifted)  # already gone: done
    assert calls(emulator) == [("DELETE", f"{COLLECTION}/{ident}")] * 2
    gone = provider.read(created.id, drifted)
    assert gone.id == "" and emulator.extraction_configs() == []


def test_create_whose_answer_was_lost_is_adopted_not_duplicated(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    emulator.add_fault(method="POST", path_contains="/extraction", close=True, after=True)
    created = provider.create(DECLARED)
    (held,) = emulator.extraction_configs()
    assert created.id.endswith(f"/{held['id']}")
    assert [m for m, _ in calls(emulator)] == ["GET", "POST", "GET"]
    # A runner killed after the POST: the next create finds it and sends no POST.
    emulator.clear_requests()
    again = provider.create(DECLARED)
    assert again.id == created.id and calls(emulator) == [("GET", ELEMENT)]


def test_same_title_with_other_values_is_refused_with_the_import_command(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    provider.create(DECLARED)
    (held,) = emulator.extraction_configs()
    with pytest.raises(Exception) as refused:
        provider.create({**DECLARED, "llm_model": "other-model"})
    text = str(refused.value)
    assert "llm_model" in text and "nothing was created" in text
    assert "pulumi import datagol:index:Extraction" in text
    assert f"{WS}/FILE/file-42/{held['id']}" in text
    assert len(emulator.requests(method="POST")) == 1


def test_preview_refuses_the_create_that_up_would_refuse(emulator, make_provider):
    """Check of a new Extraction reads the element once, as create does before its POST: the
    same title with other values fails the preview naming them; a no-op, an existing one, an
    unknown id and reads turned off ask nothing."""
    make_provider(ExtractionProvider).create(DECLARED)
    (held,) = emulator.extraction_configs()
    emulator.clear_requests()
    provider = make_provider(ExtractionProvider, skipPreviewReads=None)
    other = {**DECLARED, "llm_model": "other-model"}
    [failure] = provider.check({}, other).failures
    assert failure.property == "title"
    assert "whose llm_model differ from the declaration; nothing was created" in failure.reason
    assert f"pulumi import datagol:index:Extraction <name> '{WS}/FILE/file-42/{held['id']}'" in (
        failure.reason
    )
    assert calls(emulator) == [("GET", ELEMENT)]
    # The values DataGOL holds pass; the create after check (as the engine calls them) adopts
    # the configuration with check's answer, reading nothing more.
    emulator.clear_requests()
    adopted = provider.create(DECLARED)
    assert adopted.id == f"{WS}/FILE/file-42/{held['id']}"
    assert calls(emulator) == [("GET", ELEMENT)]
    emulator.clear_requests()
    assert provider.check(DECLARED, other).failures == []  # the stack has it: diff's business
    assert provider.check({}, {**other, "element_id": rpc.UNKNOWN}).failures == []
    off = make_provider(ExtractionProvider)  # the fixture's default: skipPreviewReads true
    assert off.check({}, other).failures == []
    assert emulator.requests() == []


def test_preview_refuses_the_update_of_a_configuration_deleted_outside_pulumi(
    emulator, make_provider
):
    created = make_provider(ExtractionProvider).create(DECLARED)
    ident = created.outs["extraction_id"]
    provider = make_provider(ExtractionProvider, skipPreviewReads=None)
    renamed = {**DECLARED, "title": "Invoices 2026"}
    emulator.clear_requests()
    assert provider.diff(created.id, created.outs, renamed).changes  # still there: a PUT
    assert provider.diff(created.id, created.outs, DECLARED).changes is False  # no read
    emulator.delete_extraction(int(ident))
    with pytest.raises(Exception) as refused:
        provider.diff(created.id, created.outs, renamed)
    assert f"extraction configuration {ident} was deleted outside Pulumi; run `pulumi " in str(
        refused.value
    )
    assert calls(emulator) == [("GET", ELEMENT)] * 2  # one read per diff of a change, no PUT


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_preview_refuses_a_create_without_credentials_datagol_accepts(
    emulator, make_provider, token
):
    provider = make_provider(ExtractionProvider, skipPreviewReads=None, token=token)
    with pytest.raises(Exception) as refused:
        provider.check({}, DECLARED)
    text = str(refused.value)
    if token is None:
        assert "no credentials are configured, and this update creates extraction" in text
        assert "pulumi config set --secret datagol:token" in text
        assert emulator.requests() == []
    else:
        assert "Checked at preview with Get Extractions" in text and token not in text
        assert calls(emulator) == [("GET", ELEMENT)]
    assert emulator.requests(method="POST") == []


def test_update_of_a_configuration_deleted_out_of_band_says_refresh(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    created = provider.create(DECLARED)
    emulator.delete_extraction(int(created.outs["extraction_id"]))
    with pytest.raises(Exception, match="pulumi refresh"):
        provider.update(created.id, created.outs, {**DECLARED, "title": "B"})
    assert len(emulator.requests(method="POST")) == 1


def test_update_answered_without_a_body_keeps_what_datagol_kept(emulator, make_provider):
    provider = make_provider(ExtractionProvider)
    created = provider.create(DECLARED)
    outs = created.outs
    emulator.add_fault(status=200, method="PUT", path_contains="/extraction", body="")
    emulator.clear_requests()
    updated = provider.update(created.id, outs, {**DECLARED, "title": "B"}).outs
    assert calls(emulator) == [("PUT", f"{COLLECTION}/{outs['extraction_id']}")]
    assert updated["title"] == "B" and updated["extraction_id"] == outs["extraction_id"]
    # What DataGOL filled in and its dates stay as the state held them.
    kept = ("llm_model", "create_date", "modi_date", "column_configuration")
    assert {k: updated[k] for k in kept} == {k: outs[k] for k in kept}
