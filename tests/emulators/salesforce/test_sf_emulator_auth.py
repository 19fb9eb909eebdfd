"""Logging in: the four OAuth grants and SOAP login, with simple-salesforce and plain HTTP."""

from __future__ import annotations

import base64
import time

import httpx
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sf_emulator_testkit import API_VERSION, Control, password_token
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
)
from crmsync.emulators.salesforce.server import Emulator


def token_call(emulator: Emulator, **fields: str) -> httpx.Response:
    return httpx.post(f"{emulator.base_url}/services/oauth2/token", data=fields)


def rsa_key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_password_grant_response_shape(emulator: Emulator) -> None:
    body = password_token(emulator.base_url)
    assert body["instance_url"] == emulator.base_url
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith(emulator.org.org_id[:15] + "!AQ")
    assert body["id"] == f"{emulator.base_url}/id/{emulator.org.org_id}/{emulator.org.user_id}"
    assert body["issued_at"].isdigit()
    assert abs(int(body["issued_at"]) / 1000 - time.time()) < 60
    assert body["signature"]
    # Salesforce's username-password flow issues no refresh token.
    assert "refresh_token" not in body


def test_password_grant_issues_a_refresh_token_when_the_app_is_set_to(
    emulator: Emulator, control: Control
) -> None:
    assert control.post("/auth", {"issue_refresh_tokens": True})["issue_refresh_tokens"] is True
    assert password_token(emulator.base_url)["refresh_token"].startswith("5Aep")
    control.post("/auth", {"issue_refresh_tokens": False})
    assert "refresh_token" not in password_token(emulator.base_url)


def test_password_with_security_token_appended(emulator: Emulator) -> None:
    response = token_call(
        emulator,
        grant_type="password",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD + DEFAULT_SECURITY_TOKEN,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("fields", "error", "description"),
    [
        ({"grant_type": "magic"}, "unsupported_grant_type", "grant type not supported"),
        ({"grant_type": "password", "client_id": "nope"}, "invalid_client_id", "client identifier invalid"),
        (
            {"grant_type": "password", "client_id": DEFAULT_CLIENT_ID, "client_secret": "wrong"},
            "invalid_client",
            "invalid client credentials",
        ),
        (
            {
                "grant_type": "password",
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "username": DEFAULT_USERNAME,
                "password": "wrong",
            },
            "invalid_grant",
            "authentication failure",
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "stale"},
            "invalid_grant",
            "expired access/refresh token",
        ),
    ],
)
def test_token_errors(emulator: Emulator, fields: dict[str, str], error: str, description: str) -> None:
    response = token_call(emulator, **fields)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_refresh_token_survives_expired_sessions(emulator: Emulator, control: Control) -> None:
    control.post("/auth", {"issue_refresh_tokens": True})
    first = password_token(emulator.base_url)
    assert control.post("/auth/expire-sessions")["expired"] >= 1
    stale = httpx.get(
        f"{emulator.base_url}/services/data/v{API_VERSION}/limits",
        headers={"Authorization": f"Bearer {first['access_token']}"},
    )
    assert stale.status_code == 401
    assert stale.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]
    refreshed = token_call(
        emulator,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    fresh = httpx.get(
        f"{emulator.base_url}/services/data/v{API_VERSION}/limits",
        headers={"Authorization": f"OAuth {refreshed.json()['access_token']}"},
    )
    assert fresh.status_code == 200


def test_client_credentials_with_basic_auth_and_body(
    emulator: Emulator, sf_session: requests.Session
) -> None:
    sf = Salesforce(
        consumer_key=DEFAULT_CLIENT_ID,
        consumer_secret=DEFAULT_CLIENT_SECRET,
        domain="npsp-emulator.my",
        session=sf_session,
    )
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1
    basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
    response = httpx.post(
        f"{emulator.base_url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "api"
    in_body = token_call(
        emulator,
        grant_type="client_credentials",
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
    )
    assert in_body.status_code == 200


def test_soap_login_with_security_token(sf_session: requests.Session) -> None:
    sf = Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        security_token=DEFAULT_SECURITY_TOKEN,
        session=sf_session,
    )
    assert sf.query("SELECT Id, Username FROM User")["records"][0]["Username"] == DEFAULT_USERNAME


def test_soap_login_failure_is_a_login_fault(sf_session: requests.Session) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(username=DEFAULT_USERNAME, password="wrong", security_token="x", session=sf_session)
    assert caught.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in caught.value.auth_message


def test_jwt_bearer_with_registered_key(
    emulator: Emulator, control: Control, sf_session: requests.Session
) -> None:
    private, public = rsa_key_pair()
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(
            username=DEFAULT_USERNAME, consumer_key=DEFAULT_CLIENT_ID, privatekey=private, session=sf_session
        )
    control.post("/auth/jwt-keys", {"client_id": DEFAULT_CLIENT_ID, "public_key_pem": public})
    sf = Salesforce(
        username=DEFAULT_USERNAME, consumer_key=DEFAULT_CLIENT_ID, privatekey=private, session=sf_session
    )
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    # An assertion signed by another key, or for an unknown user, is refused.
    other, _ = rsa_key_pair()
    claims = {
        "iss": DEFAULT_CLIENT_ID,
        "sub": DEFAULT_USERNAME,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 60,
    }
    forged = token_call(
        emulator,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=jwt.encode(claims, other, "RS256"),
    )
    assert forged.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    stranger = token_call(
        emulator,
        grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion=jwt.encode(claims | {"sub": "who@example.org"}, private, "RS256"),
    )
    assert stranger.json()["error"] == "invalid_grant"
    assert control.post("/auth/jwt-keys", {"client_id": "x", "public_key_pem": "junk"}, expect=400)["message"]


def test_missing_or_bad_token_is_401_array(emulator: Emulator) -> None:
    url = f"{emulator.base_url}/services/data/v{API_VERSION}/sobjects"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
        assert "Sforce-Limit-Info" not in response.headers


def test_sessions_expire_with_the_emulated_clock(emulator: Emulator, control: Control) -> None:
    control.post("/auth", {"session_seconds": 60})
    token = password_token(emulator.base_url)["access_token"]
    url = f"{emulator.base_url}/services/data/v{API_VERSION}/limits"
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    control.post("/clock", {"advance_seconds": 61})
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_simple_salesforce_logs_in_again_after_sessions_expire(sf: Salesforce, control: Control) -> None:
    old_session = sf.session_id
    sf.query("SELECT Id FROM User")
    control.post("/auth/expire-sessions")
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1
    assert sf.session_id != old_session


def test_direct_session_mode_raises_expired_session(emulator: Emulator, sf_session: requests.Session) -> None:
    token = password_token(emulator.base_url)["access_token"]
    sf = Salesforce(instance_url=emulator.base_url, session_id=token, session=sf_session)
    sf.query("SELECT Id FROM User")
    httpx.post(f"{emulator.base_url}/__emulator__/auth/expire-sessions")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM User")
