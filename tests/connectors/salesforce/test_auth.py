"""The four OAuth flows against the emulator, and their failures as one-line AuthErrors."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sf_connector_testkit import (
    SECRETS,
    CountingTransport,
    MakeClient,
    RecordingSleep,
    assert_no_secret,
    password_credentials,
    rsa_key_pair,
)

from crmsync.connectors.salesforce.auth import Credentials, MemoryTokenStore, Token, obtain_token
from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
)
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import AuthError, ConfigError


def register_jwt_key(emulator: Emulator, public_pem: str) -> None:
    response = httpx.post(
        f"{emulator.base_url}/__emulator__/auth/jwt-keys",
        json={"client_id": DEFAULT_CLIENT_ID, "public_key_pem": public_pem},
    )
    assert response.status_code == 200, response.text


def jwt_credentials(emulator: Emulator, key_file: Path, **changes: Any) -> Credentials:
    values: dict[str, Any] = {
        "flow": "jwt",
        "login_url": emulator.base_url,
        "client_id": DEFAULT_CLIENT_ID,
        "username": DEFAULT_USERNAME,
        "private_key_file": key_file,
    }
    values.update(changes)
    return Credentials(**values)


def a_refresh_token(emulator: Emulator) -> str:
    # Salesforce's password flow issues none; the emulated connected app is set to for this.
    emulator.state.auth.config.issue_refresh_tokens = True
    with httpx.Client() as http:
        token = obtain_token(http, password_credentials(emulator.base_url))
    assert token.refresh_token
    return token.refresh_token


def assert_one_line_without_secrets(exc: Exception, *extra_secrets: str) -> None:
    text = str(exc)
    assert "\n" not in text
    assert_no_secret(text, repr(exc))
    for secret in extra_secrets:
        assert secret not in text
        assert secret not in repr(exc)


# -- the flows ---------------------------------------------------------------------------


@pytest.mark.parametrize("security_token", [None, DEFAULT_SECURITY_TOKEN], ids=["plain", "with-token"])
def test_password_flow_logs_in_and_calls_the_api(
    emulator: Emulator, make_client: MakeClient, transport: CountingTransport, security_token: str | None
) -> None:
    client = make_client(password_credentials(emulator.base_url, security_token=security_token))

    limits = client.request("GET", "limits", what="read limits")

    assert "DailyApiRequests" in limits
    assert transport.logins == 1
    token = client.token()
    assert token.instance_url == emulator.base_url
    assert_no_secret(repr(token), repr(client.credentials))


def test_client_credentials_flow_sends_the_app_secret_as_basic_auth(
    emulator: Emulator, make_client: MakeClient
) -> None:
    creds = Credentials(
        flow="client_credentials",
        login_url=emulator.base_url,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    client = make_client(creds)

    assert client.request("GET", "limits", what="read limits")["DailyApiRequests"]["Max"] > 0
    assert client.token().refresh_token is None


def test_refresh_token_flow_keeps_the_refresh_token_salesforce_does_not_rotate(
    emulator: Emulator, make_client: MakeClient, transport: CountingTransport
) -> None:
    refresh = a_refresh_token(emulator)
    creds = Credentials(
        flow="refresh_token",
        login_url=emulator.base_url,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        refresh_token=refresh,
    )
    client = make_client(creds)

    client.request("GET", "limits", what="read limits")

    assert client.token().refresh_token == refresh
    assert refresh not in repr(client.token())
    assert refresh not in repr(creds)
    emulator.state.auth.expire_all()
    client.request("GET", "limits", what="read limits")
    assert transport.logins == 2


def test_jwt_flow_signs_an_assertion_with_a_key_made_here(
    emulator: Emulator, make_client: MakeClient, tmp_path: Path, transport: CountingTransport
) -> None:
    key_file, public_pem = rsa_key_pair(tmp_path)
    register_jwt_key(emulator, public_pem)
    client = make_client(jwt_credentials(emulator, key_file))

    assert client.request("GET", "limits", what="read limits")
    assert transport.logins == 1
    # The assertion carries what Salesforce checks: issuer, subject, audience, a short expiry.
    with httpx.Client() as http:
        captured: list[httpx.Request] = []
        http.event_hooks["request"].append(captured.append)
        obtain_token(http, jwt_credentials(emulator, key_file))
    form = dict(httpx.QueryParams(captured[0].content.decode()))
    claims = jwt.decode(form["assertion"], public_pem, algorithms=["RS256"], audience=emulator.base_url)
    assert claims["iss"] == DEFAULT_CLIENT_ID
    assert claims["sub"] == DEFAULT_USERNAME
    assert claims["aud"] == emulator.base_url
    assert 0 < claims["exp"] - time.time() <= 300


# -- refused logins ----------------------------------------------------------------------

REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "wrong-password": ({"password": "not-the-password"}, "check username, password and security_token"),
    "wrong-security-token": (
        {"security_token": "WRONGTOKEN123"},
        "check username, password and security_token",
    ),
    "unknown-user": ({"username": "nobody@example.org"}, "check username, password and security_token"),
    "wrong-client-secret": ({"client_secret": "not-the-app-secret"}, "check client_secret"),
    "unknown-client-id": ({"client_id": "someone-else"}, "check client_id"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_password_login_says_what_to_fix_and_hides_the_secrets(
    emulator: Emulator,
    make_client: MakeClient,
    sleeps: RecordingSleep,
    transport: CountingTransport,
    case: str,
) -> None:
    changes, advice = REFUSED[case]
    creds = password_credentials(emulator.base_url, **({"security_token": DEFAULT_SECURITY_TOKEN} | changes))
    client = make_client(creds)

    with pytest.raises(AuthError) as raised:
        client.request("GET", "limits", what="read limits")

    message = str(raised.value)
    assert advice in message
    assert "password login" in message
    wrong_secrets = [v for k, v in changes.items() if k in ("password", "security_token", "client_secret")]
    assert_one_line_without_secrets(raised.value, *wrong_secrets)
    assert_no_secret(repr(creds))
    # A refusal is final: no retries, no second login, no API call.
    assert sleeps.delays == []
    assert transport.logins == 1
    assert client.calls == 0


def test_a_refused_client_credentials_login_names_the_app_secret(
    emulator: Emulator, make_client: MakeClient
) -> None:
    creds = Credentials(
        flow="client_credentials",
        login_url=emulator.base_url,
        client_id=DEFAULT_CLIENT_ID,
        client_secret="not-the-app-secret",
    )
    with pytest.raises(AuthError) as raised:
        make_client(creds).request("GET", "limits", what="read limits")

    assert "client_credentials login for crmsync-emulator" in str(raised.value)
    assert "check client_secret" in str(raised.value)
    assert_one_line_without_secrets(raised.value, "not-the-app-secret")


def test_a_revoked_refresh_token_asks_to_authorize_again(emulator: Emulator, make_client: MakeClient) -> None:
    revoked = "5Aep" + "x" * 83
    creds = Credentials(
        flow="refresh_token",
        login_url=emulator.base_url,
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        refresh_token=revoked,
    )
    with pytest.raises(AuthError) as raised:
        make_client(creds).request("GET", "limits", what="read limits")

    assert "authorize crmsync again" in str(raised.value)
    assert_one_line_without_secrets(raised.value, revoked)
    assert revoked not in repr(creds)


def test_a_dead_refresh_token_falls_back_to_the_password_flow(
    emulator: Emulator, make_client: MakeClient, transport: CountingTransport
) -> None:
    # An expired session whose refresh token Salesforce no longer honours: the password
    # flow can still log in, so the call must not fail.
    store = MemoryTokenStore()
    store.replace(None, lambda: Token("00Dexpired", emulator.base_url, "5Aep" + "y" * 83))
    client = make_client(token_store=store)

    assert client.request("GET", "limits", what="read limits")
    assert transport.logins == 2  # the refused refresh, then the password login


def test_a_jwt_signed_with_an_unregistered_key_is_refused(
    emulator: Emulator, make_client: MakeClient, tmp_path: Path
) -> None:
    _, registered = rsa_key_pair(tmp_path, "registered")
    other_file, _ = rsa_key_pair(tmp_path, "other")
    register_jwt_key(emulator, registered)

    with pytest.raises(AuthError) as raised:
        make_client(jwt_credentials(emulator, other_file)).request("GET", "limits", what="read limits")

    assert "private_key_file matches the certificate" in str(raised.value)
    assert_one_line_without_secrets(raised.value, other_file.read_text())


def test_a_jwt_for_a_user_who_has_not_approved_the_app_is_refused(
    emulator: Emulator, make_client: MakeClient, tmp_path: Path
) -> None:
    key_file, public_pem = rsa_key_pair(tmp_path)
    register_jwt_key(emulator, public_pem)

    with pytest.raises(AuthError) as raised:
        make_client(jwt_credentials(emulator, key_file, username="someone@else.org")).request(
            "GET", "limits", what="read limits"
        )

    assert "jwt login for someone@else.org" in str(raised.value)
    assert "\n" not in str(raised.value)


def _write_public_key(path: Path) -> Path:
    _, public_pem = rsa_key_pair(path.parent, "for-public")
    path.write_text(public_pem)
    return path


def _write_ec_key(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def _write_encrypted_key(path: Path) -> Path:
    plain, _ = rsa_key_pair(path.parent, "to-encrypt")
    key = serialization.load_pem_private_key(plain.read_bytes(), password=None)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    return path


BAD_KEY_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (lambda p: p, "cannot read private_key_file"),
    "public-key": (_write_public_key, "is not an unencrypted RSA private key in PEM"),
    "garbage": (lambda p: (p.write_text("not a key at all"), p)[1], "is not an unencrypted RSA private key"),
    "binary": (lambda p: (p.write_bytes(b"\xff\xfe\x00junk"), p)[1], "is not an unencrypted RSA private key"),
    "encrypted": (_write_encrypted_key, "is not an unencrypted RSA private key"),
    "ec-key": (_write_ec_key, "holds a non-RSA key"),
}


@pytest.mark.parametrize("case", list(BAD_KEY_FILES))
def test_an_unusable_jwt_key_file_is_a_config_error_before_any_request(
    emulator: Emulator, make_client: MakeClient, tmp_path: Path, transport: CountingTransport, case: str
) -> None:
    write, expected = BAD_KEY_FILES[case]
    key_file = write(tmp_path / "key.pem")

    with pytest.raises(ConfigError) as raised:
        make_client(jwt_credentials(emulator, key_file)).request("GET", "limits", what="read limits")

    assert expected in str(raised.value)
    assert str(key_file) in str(raised.value)
    assert "\n" not in str(raised.value)
    assert transport.logins == 0


@pytest.mark.parametrize(
    ("flow", "missing"), [("jwt", "private_key_file"), ("refresh_token", "refresh_token")]
)
def test_a_flow_without_its_setting_is_a_config_error(
    emulator: Emulator, make_client: MakeClient, flow: Any, missing: str
) -> None:
    creds = Credentials(flow=flow, login_url=emulator.base_url, client_id=DEFAULT_CLIENT_ID)
    with pytest.raises(ConfigError, match=missing):
        make_client(creds).request("GET", "limits", what="read limits")


@pytest.mark.parametrize("login_url", ["login.salesforce.com", "", "ftp://login.salesforce.com"])
def test_a_login_url_that_is_not_a_url_is_a_config_error_not_retried(
    make_client: MakeClient, sleeps: RecordingSleep, login_url: str
) -> None:
    with pytest.raises(ConfigError, match="login_url"):
        make_client(password_credentials(login_url)).request("GET", "limits", what="read limits")
    assert sleeps.delays == []


def test_repr_of_credentials_and_token_shows_no_secret() -> None:
    creds = Credentials(
        flow="password",
        login_url="https://login.salesforce.com",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        username=DEFAULT_USERNAME,
        password=SECRETS[0],
        security_token=DEFAULT_SECURITY_TOKEN,
        refresh_token="5Aep-refresh-secret",
    )
    token = Token("00D!AQ-access-secret", "https://x.my.salesforce.com", "5Aep-refresh-secret")
    for text in (repr(creds), str(creds), repr(token), str(token), repr([creds, token])):
        assert_no_secret(text)
        assert "access-secret" not in text
        assert "refresh-secret" not in text
    assert DEFAULT_USERNAME in repr(creds)
