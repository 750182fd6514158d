"""Credentials against real servers: both OAuth grants, TLS verification and the CA bundle's
precedence over the environment, no leaks."""

from __future__ import annotations

import datetime
import hashlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from datagol_pulumi import AuthenticationError, ConfigurationError, TransportError
from datagol_pulumi.client.credentials import forget_token_sources
from datagol_pulumi.emulator import Emulator
from datagol_pulumi.runs import validated
from tests.conftest import WORKSPACE_ID

RUN = validated(
    {"workspace_id": WORKSPACE_ID, "extraction_id": "e", "element_type": "FILE", "element_id": "f"}
)
CLIENT_ID, CLIENT_SECRET, REFRESH = "client-abc", "client-SECRET-123", "refresh-SECRET-456"


@pytest.fixture
def oauth_provider(emulator: Emulator, make_provider):
    emulator.configure(
        tokens=[],
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_refresh_token=REFRESH,
    )

    def make(**overrides: str):
        values = {
            "token": None,
            "oauthTokenUrl": f"{emulator.url}/oauth/token",
            "oauthClientId": CLIENT_ID,
            "oauthClientSecret": CLIENT_SECRET,
            "oauthRefreshToken": REFRESH,
            **overrides,
        }
        return make_provider(**values)

    return make


def paths(emulator: Emulator) -> list[tuple[str, int]]:
    return [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in emulator.requests()]


def test_refresh_token_is_exchanged_once_and_cached(emulator, oauth_provider) -> None:
    provider = oauth_provider()
    provider.create(RUN)
    provider.create(RUN)
    assert paths(emulator) == [("token", 200), ("run", 200), ("run", 200)]
    token_request, first_run, _ = emulator.requests()
    assert token_request["body"]["grant_type"] == "refresh_token"
    assert first_run["auth"]["scheme"] == "bearer" and first_run["auth"]["valid"] is True


def test_expired_access_token_is_refreshed_once_on_401(emulator, oauth_provider) -> None:
    provider = oauth_provider()
    provider.create(RUN)
    emulator.clear_requests()
    emulator.revoke_access_tokens()
    result = provider.create(RUN)
    # The 401 started no job, so the trigger is sent again with the new token: one job.
    assert paths(emulator) == [("run", 401), ("token", 200), ("run", 200)]
    assert result.outs["request_id"] == emulator.requests()[-1]["request_id"]


def test_bad_refresh_token_fails_naming_the_settings_and_no_secret(
    emulator, oauth_provider
) -> None:
    with pytest.raises(AuthenticationError) as info:
        oauth_provider(oauthRefreshToken="refresh-WRONG-789").create(RUN)
    text = str(info.value)
    assert "invalid_grant" in text and "datagol:oauthRefreshToken" in text
    for secret in (CLIENT_SECRET, REFRESH, "refresh-WRONG-789"):
        assert secret not in text
    assert [p for p, _ in paths(emulator)] == ["token"]  # no trigger without a token


def test_bad_client_secret(emulator, oauth_provider) -> None:
    with pytest.raises(AuthenticationError) as info:
        oauth_provider(oauthClientSecret="client-WRONG").create(RUN)
    assert "invalid_client" in str(info.value)
    assert "client-WRONG" not in str(info.value)


def test_plain_http_to_a_remote_token_endpoint_is_refused(oauth_provider) -> None:
    with pytest.raises(ConfigurationError) as info:
        oauth_provider(oauthTokenUrl="http://idp.example/token").create(RUN)
    assert "datagol:oauthTokenUrl is plain http" in str(info.value)


# -- TLS ----------------------------------------------------------------------------------------


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "ca.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_url(tmp_path: Path, canned_server):
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    port, received = canned_server(b'{"requestId": "tls-1"}', tls=context)
    return f"https://localhost:{port}", cert, received


def test_tls_is_verified_and_a_ca_bundle_makes_it_pass(
    make_provider, https_url, monkeypatch
) -> None:
    url, cert, received = https_url
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TransportError) as info:
        make_provider(baseUrl=url).create(RUN)
    assert "TLS verification failed" in str(info.value) and "datagol:caBundle" in str(info.value)
    assert received == []  # refused at the handshake: the request never went out
    result = make_provider(baseUrl=url, caBundle=str(cert)).create(RUN)
    assert result.outs["request_id"] == "tls-1"
    assert len(received) == 1


def test_ca_bundle_beats_the_environment_for_the_api_and_the_token_endpoint(
    make_provider, canned_server, tmp_path: Path, monkeypatch
) -> None:
    cert, key = _certificate(tmp_path)
    (tmp_path / "other").mkdir()
    other_ca, _ = _certificate(tmp_path / "other")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # One server plays the token endpoint and DataGOL: every POST gets this answer.
    body = b'{"access_token": "tls-access", "token_type": "Bearer", "requestId": "tls-1"}'
    port, received = canned_server(body, tls=context)
    url = f"https://localhost:{port}"
    # requests would let these override a session-wide `verify`; both name the wrong CA.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other_ca))
    oauth = {
        "token": None,
        "oauthTokenUrl": f"{url}/token",
        "oauthClientId": CLIENT_ID,
        "oauthClientSecret": CLIENT_SECRET,
    }

    with pytest.raises(TransportError, match="TLS verification failed"):
        make_provider(baseUrl=url).create(RUN)  # the environment is in effect...
    with pytest.raises(TransportError, match="Cannot get an access token"):
        make_provider(baseUrl=url, **oauth).create(RUN)
    assert received == []

    result = make_provider(baseUrl=url, caBundle=str(cert), **oauth).create(RUN)  # ...and loses
    assert result.outs["request_id"] == "tls-1"
    assert [p.split("?")[0].rsplit("/", 1)[-1] for p in received] == ["token", "run"]


# -- OAuth client credentials (CI) and rotating refresh tokens -----------------------------------


@pytest.fixture
def ci_provider(emulator: Emulator, oauth_provider):
    emulator.configure(oauth_refresh_token=None)
    return lambda **overrides: oauth_provider(oauthRefreshToken=None, **overrides)


def test_client_credentials_grant_without_refresh_token(emulator, ci_provider) -> None:
    provider = ci_provider()
    provider.create(RUN)
    provider.create(RUN)
    assert paths(emulator) == [("token", 200), ("run", 200), ("run", 200)]
    token_request = emulator.requests()[0]
    assert token_request["body"] == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret_sha256": hashlib.sha256(CLIENT_SECRET.encode()).hexdigest(),
    }
    emulator.clear_requests()
    emulator.revoke_access_tokens()
    provider.create(RUN)  # an expired access token is fetched again, the trigger sent once
    assert paths(emulator) == [("run", 401), ("token", 200), ("run", 200)]
    assert len(emulator.jobs) == 3


def test_bad_client_credentials_name_the_settings_and_no_secret(emulator, ci_provider) -> None:
    with pytest.raises(AuthenticationError) as info:
        ci_provider(oauthClientSecret="client-WRONG-1").create(RUN)
    text = str(info.value)
    assert "refused the client credentials (invalid_client)" in text
    assert "datagol:oauthClientSecret" in text and "oauthRefreshToken" not in text
    assert "client-WRONG-1" not in text and CLIENT_SECRET not in text
    assert [p for p, _ in paths(emulator)] == ["token"]


def test_client_credentials_need_a_token_url() -> None:
    from datagol_pulumi.config import Settings

    with pytest.raises(ConfigurationError, match="oauthClientSecret are set but .*oauthTokenUrl"):
        Settings(oauth_client_id="c", oauth_client_secret="s").validate()
    assert Settings(oauth_client_id="c", oauth_client_secret="s").oauth_grant == (
        "client_credentials"
    )
    assert Settings(oauth_client_id="c").oauth_grant is None  # a public client: no grant


def test_rotated_refresh_token_lasts_for_the_provider_process(emulator, oauth_provider) -> None:
    emulator.configure(oauth_rotate_refresh_tokens=True)
    provider = oauth_provider()
    provider.create(RUN)
    emulator.revoke_access_tokens()
    provider.create(RUN)  # renewed with the rotated refresh token, kept in memory
    assert paths(emulator) == [
        ("token", 200),
        ("run", 200),
        ("run", 401),
        ("token", 200),
        ("run", 200),
    ]
    first, second = (r["body"] for r in emulator.requests(path_contains="/oauth/token"))
    assert first["refresh_token_sha256"] == hashlib.sha256(REFRESH.encode()).hexdigest()
    assert second["refresh_token_sha256"] != first["refresh_token_sha256"]
    # Another provider in this process (the other resource kind, the other face) shares the
    # rotated token: no exchange, the current access token.
    emulator.clear_requests()
    oauth_provider().create(RUN)
    assert paths(emulator) == [("run", 200)]
    # The next `pulumi up` (a new process) starts from the configured token, which is spent.
    forget_token_sources()
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        oauth_provider().create(RUN)


@pytest.mark.parametrize(
    ("key", "value"),
    [("oauthClientSecret", CLIENT_SECRET + "\n"), ("oauthRefreshToken", " " + REFRESH)],
)
def test_an_oauth_credential_with_whitespace_is_refused_before_any_request(
    emulator, oauth_provider, key, value
) -> None:
    with pytest.raises(ConfigurationError) as info:
        oauth_provider(**{key: value}).create(RUN)
    text = str(info.value)
    assert text.startswith(f"datagol:{key} has ")
    assert CLIENT_SECRET not in text and REFRESH not in text
    assert emulator.requests() == []  # not even the token request
    oauth_provider().create(RUN)
    assert paths(emulator) == [("token", 200), ("run", 200)]
