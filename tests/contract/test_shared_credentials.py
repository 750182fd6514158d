"""One credential source per OAuth credential per process (issue 16, item 6): an ExtractionRun
and an ExtractionRunGroup (two provider objects, as in one provider process) exchange a
rotating refresh token once between them."""

from __future__ import annotations

import hashlib

from datagol_pulumi import ExtractionRunGroupProvider, ExtractionRunProvider
from datagol_pulumi.client.credentials import TokenSource
from datagol_pulumi.config import Settings
from datagol_pulumi.emulator import Emulator
from tests.conftest import BASE_RUN

CLIENT_ID, CLIENT_SECRET, REFRESH = "client-shared", "client-SECRET-shared", "refresh-SECRET-9"


def oauth(emulator: Emulator) -> dict[str, str | None]:
    emulator.configure(
        tokens=[],
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_refresh_token=REFRESH,
        oauth_rotate_refresh_tokens=True,
    )
    return {
        "token": None,
        "oauthTokenUrl": f"{emulator.url}/oauth/token",
        "oauthClientId": CLIENT_ID,
        "oauthClientSecret": CLIENT_SECRET,
        "oauthRefreshToken": REFRESH,
    }


def test_both_resource_kinds_share_one_exchange(emulator: Emulator, make_provider) -> None:
    settings = oauth(emulator)
    run = make_provider(ExtractionRunProvider, **settings)
    group = make_provider(ExtractionRunGroupProvider, **settings)
    run.create(dict(BASE_RUN))
    group.create({"runs": {"a": {**BASE_RUN, "element_id": "el-a"}}})
    tokens = emulator.requests(path_contains="/oauth/token")
    assert len(tokens) == 1
    assert tokens[0]["body"]["refresh_token_sha256"] == hashlib.sha256(REFRESH.encode()).hexdigest()
    runs = emulator.requests(method="POST", path_contains="/run")
    assert [(r["status"], r["auth"]["valid"]) for r in runs] == [(200, True), (200, True)]


def test_a_renewal_by_one_kind_serves_the_other(emulator: Emulator, make_provider) -> None:
    settings = oauth(emulator)
    run = make_provider(ExtractionRunProvider, **settings)
    group = make_provider(ExtractionRunGroupProvider, **settings)
    run.create(dict(BASE_RUN))
    emulator.revoke_access_tokens()
    run.create(dict(BASE_RUN))  # 401, renewed with the rotated refresh token
    group.create({"runs": {"a": dict(BASE_RUN)}})  # the renewed access token, no exchange
    paths = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in emulator.requests()]
    assert paths == [
        ("token", 200),
        ("run", 200),
        ("run", 401),
        ("token", 200),
        ("run", 200),
        ("run", 200),
    ]


def test_a_late_refusal_of_a_replaced_token_keeps_the_new_one() -> None:
    # Two clients got a 401 for the same token; the first renewed it. The second's renewal
    # must not throw the new token away (that would be a second exchange).
    source = TokenSource(Settings())
    source._access_token = "new"  # noqa: SLF001 - the state a first renewal leaves
    source.renew("old")
    assert source._access_token == "new"  # noqa: SLF001
    source.renew("new")
    assert source._access_token is None  # noqa: SLF001
