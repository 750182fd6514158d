"""Credentials and extraction ids checked at check/diff (the preview), on both faces.

The dynamic face through the SDK's servicer (EngineProvider), the plugin as its executable over
gRPC; each against the emulator, counting what it received: Get Extractions reads only, one
per element per provider process, and never a POST.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime import proto, rpc

from datagol_pulumi import ExtractionRunGroupProvider
from datagol_pulumi.client.listing import configurations
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.errors import ConfigurationError
from tests.conftest import BASE_RUN, WORKSPACE_ID, reads, sent, struct
from tests.contract.test_plugin import RUN, URN, configure, plugin  # noqa: F401 - fixture

LISTED = {"COLUMN/col-9": [{"id": 7, "title": "Seven"}, {"id": "ext-1", "title": "One"}]}


def test_a_listed_id_passes_with_one_read_per_element(emulator: Emulator, make_provider) -> None:
    emulator.configure(element_extractions=LISTED)
    provider = make_provider(skipPreviewReads=None)
    assert provider.check({}, dict(BASE_RUN)).failures == []
    assert provider.check({}, {**BASE_RUN, "extraction_id": "7"}).failures == []
    [read] = emulator.requests()
    assert read["method"] == "GET"
    assert read["path"] == f"/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction/COLUMN/col-9"
    assert read["auth"]["valid"] is True


def test_an_unlisted_id_fails_check_naming_property_id_and_the_listed_ones(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(element_extractions=LISTED)
    [failure] = (
        make_provider(skipPreviewReads=None)
        .check({}, {**BASE_RUN, "extraction_id": "ext-11"})
        .failures
    )
    assert failure.property == "extraction_id"
    assert failure.reason.startswith(
        f"DataGOL lists no extraction configuration ext-11 for COLUMN col-9 in workspace "
        f"{WORKSPACE_ID}; it lists: 7 (Seven), ext-1 (One). Fix the id; nothing was sent"
    )
    assert "datagol:skipPreviewReads" in failure.reason
    assert sent(emulator) == []


def test_a_secret_id_is_not_quoted(emulator: Emulator, make_provider) -> None:
    emulator.configure(element_extractions=LISTED)
    news = {**BASE_RUN, "extraction_id": "ext-hidden", "__secret_inputs": ["extraction_id"]}
    [failure] = make_provider(skipPreviewReads=None).check({}, news).failures
    assert "ext-hidden" not in failure.reason
    assert "configuration [secret] for COLUMN col-9" in failure.reason


def test_group_keys_are_named_and_unknown_ids_skipped(emulator: Emulator, make_provider) -> None:
    emulator.configure(element_extractions=LISTED)
    runs = {
        "good": dict(BASE_RUN),
        "typo": {**BASE_RUN, "extraction_id": "ext-l"},
        "later": {**BASE_RUN, "element_id": rpc.UNKNOWN},
    }
    provider = make_provider(ExtractionRunGroupProvider, skipPreviewReads=None)
    [failure] = provider.check({}, {"runs": runs}).failures
    assert failure.property == "runs.typo.extraction_id"
    assert len(reads(emulator)) == 1 and sent(emulator) == []


def test_an_update_that_re_triggers_is_checked_one_that_does_not_reads_nothing(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(element_extractions=LISTED)
    provider = make_provider(skipPreviewReads=None)
    created = provider.create(dict(BASE_RUN))
    emulator.clear_requests()
    news = {k: v for k, v in provider.check({}, dict(BASE_RUN)).inputs.items() if k[:2] != "__"}
    olds = {**news, **created.outs}
    assert provider.diff(created.id, olds, news).changes is False
    assert emulator.requests() == []

    emulator.configure(element_extractions={"COLUMN/col-9": [{"id": "other"}]})
    other = make_provider(skipPreviewReads=None)  # another process: reads again
    with pytest.raises(Exception, match="extraction_id: DataGOL lists no extraction") as e:
        other.diff(created.id, olds, {**news, "triggers": {"release": "2"}})
    assert "it lists: other" in str(e.value)
    assert sent(emulator) == []

    emulator.clear_requests()  # skipPreviewReads: the same re-trigger reads nothing, fails nothing
    skipping = make_provider(skipPreviewReads="true")
    assert skipping.diff(created.id, olds, {**news, "triggers": {"release": "2"}}).changes
    assert emulator.requests() == []


def test_no_credentials_fail_check_of_a_run_that_triggers(
    emulator: Emulator, make_provider
) -> None:
    provider = make_provider(token=None, skipPreviewReads=None)
    with pytest.raises(ConfigurationError) as refused:
        provider.check({}, dict(BASE_RUN))
    text = str(refused.value)
    assert "no credentials are configured, and this update triggers 1 run" in text
    assert "DATAGOL_TOKEN" in text and "datagol:oauthClientId" in text
    assert emulator.requests() == []

    skipping = make_provider(token=None, skipPreviewReads="true")
    assert skipping.check({}, dict(BASE_RUN)).failures == []
    assert emulator.requests() == []


def test_a_refused_token_fails_check_a_server_error_does_not(
    emulator: Emulator, make_provider
) -> None:
    emulator.configure(tokens=["another"])
    with pytest.raises(ConfigurationError) as refused:
        make_provider(skipPreviewReads=None).check({}, dict(BASE_RUN))
    assert "Checked at preview with Get Extractions" in str(refused.value)
    assert "DataGOL refused the credentials" in str(refused.value)
    assert {(r["method"], r["status"]) for r in emulator.requests()} == {("GET", 401)}

    emulator.configure(tokens=["test-token"])
    emulator.clear_requests()
    emulator.add_fault(status=500, count=10)
    assert (
        make_provider(maxRetries="0", skipPreviewReads=None).check({}, dict(BASE_RUN)).failures
        == []
    )
    assert sent(emulator) == []


@pytest.mark.parametrize(
    ("payload", "ids"),
    [
        ([{"id": 12, "title": "T"}], ["12"]),
        ({"data": [{"id": "a"}]}, ["a"]),
        ({"content": []}, []),
        ({"id": "a"}, None),
        ([{"title": "no id"}], None),
        ("text", None),
    ],
)
def test_answers_are_read_tolerantly(payload: Any, ids: list[str] | None) -> None:
    found = configurations(payload)
    assert (None if found is None else [c.id for c in found]) == ids


def test_plugin_refuses_an_unlisted_id_in_camel_case(
    plugin: Any,  # noqa: F811 - the fixture
    emulator: Emulator,
) -> None:
    emulator.configure(element_extractions={"FILE/f-1": [{"id": "ext-2", "title": "Two"}]})
    configure(plugin, emulator)
    checked = plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN)))
    [failure] = checked.failures
    assert failure.property == "extractionId"
    assert "DataGOL lists no extraction configuration ext-1 for FILE f-1" in failure.reason
    assert "it lists: ext-2 (Two)" in failure.reason
    assert sent(emulator) == [] and len(reads(emulator)) == 1


def test_plugin_check_config_names_the_closest_key(plugin: Any) -> None:  # noqa: F811
    reply = plugin.CheckConfig(
        proto.CheckRequest(urn="urn:x", olds=struct({}), news=struct({"baseURL": "http://h"}))
    )
    [failure] = reply.failures
    assert failure.property == "baseURL"
    assert failure.reason.startswith(
        "unknown setting datagol:baseURL; did you mean datagol:baseUrl?"
    )


def test_plugin_without_credentials_refuses_check(plugin: Any, emulator: Emulator) -> None:  # noqa: F811
    plugin.Configure(
        proto.ConfigureRequest(args=struct({"baseUrl": emulator.url}), acceptSecrets=True)
    )
    with pytest.raises(grpc.RpcError) as refused:
        plugin.Check(proto.CheckRequest(urn=URN, olds=struct({}), news=struct(RUN)))
    assert "no credentials are configured" in refused.value.details()
    assert emulator.requests() == []


def test_the_emulator_serves_get_extractions(emulator: Emulator) -> None:
    import requests

    base = f"{emulator.url}/noCo/api/v2/workspaces/{WORKSPACE_ID}/extraction"
    auth = {"Authorization": "Bearer test-token"}
    assert requests.get(f"{base}/FILE/f-1", headers=auth, timeout=5).json() == []
    emulator.configure(extractions=["a"])
    [listed] = requests.get(f"{base}/FILE/f-1", headers=auth, timeout=5).json()
    assert listed == {
        "id": "a",
        "title": "Extraction a",
        "workspaceId": WORKSPACE_ID,
        "elementType": "FILE",
        "elementId": "f-1",
        "extractionMode": "STANDARD",
    }
    emulator.configure(element_extractions={"FOLDER/x/y": [{"id": 5}]})
    [listed] = requests.get(f"{base}/FOLDER/x%2Fy", headers=auth, timeout=5).json()
    assert listed["id"] == 5 and listed["elementId"] == "x/y"
    assert requests.get(f"{base}/DISK/f-1", headers=auth, timeout=5).status_code == 400
    assert requests.get(f"{base}/FILE/f-1", timeout=5).status_code == 401
    bad = f"{emulator.url}/noCo/api/v2/workspaces/not-a-uuid/extraction/FILE/f-1"
    assert requests.get(bad, headers=auth, timeout=5).status_code == 400


def test_a_group_reads_its_elements_a_few_at_a_time(emulator: Emulator, make_provider) -> None:
    import time

    from datagol_pulumi.preview_checks import READS_AT_ONCE

    emulator.configure(extractions=["ext-1"], latency=0.5)
    runs = {f"k{i}": {**BASE_RUN, "element_id": f"el-{i}"} for i in range(2 * READS_AT_ONCE)}
    provider = make_provider(ExtractionRunGroupProvider, skipPreviewReads=None)
    started = time.monotonic()
    assert provider.check({}, {"runs": runs}).failures == []
    elapsed = time.monotonic() - started
    # Two waves of READS_AT_ONCE reads of 0.5 s: about 1 s, not 4 s one by one, nor 0.5 s.
    assert 0.95 < elapsed < 3.0, elapsed
    paths = [r["path"] for r in reads(emulator)]
    assert len(paths) == len(set(paths)) == 2 * READS_AT_ONCE and sent(emulator) == []
