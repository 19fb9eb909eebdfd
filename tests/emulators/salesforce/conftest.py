"""Fixtures for the Salesforce emulator's tests: one emulator on loopback, cleaned per test,
and clients pointed at it exactly as a real integration would point them at Salesforce."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from simple_salesforce import Salesforce

from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SESSION_SECONDS,
    DEFAULT_USERNAME,
)
from crmsync.emulators.salesforce.limits import DEFAULT_DAILY_API_REQUESTS, DEFAULT_DAILY_STREAMING_EVENTS
from crmsync.emulators.salesforce.server import Emulator, running_emulator

# The suite imports test modules with --import-mode=importlib, which keeps this folder off
# sys.path; put it there so the tests can import the shared helpers.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from sf_emulator_testkit import API_VERSION, Bayeux, Control, ToEmulator, password_token  # noqa: E402

# Change Data Capture tests enable these objects, with a long poll short enough for a suite.
CDC_OBJECTS = ["Account", "Contact", "Opportunity"]
CDC_TIMEOUT_MS = 200


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The shared emulator, emptied and back to default settings for this test."""
    state = emulator_server.state
    state.org.clock.real_time()
    state.org.reset()
    state.usage.reset()
    state.usage.configure(daily_max=DEFAULT_DAILY_API_REQUESTS, streaming_max=DEFAULT_DAILY_STREAMING_EVENTS)
    state.cursors.clear()
    state.faults.clear()
    state.auth.config.session_seconds = DEFAULT_SESSION_SECONDS
    state.auth.config.issue_refresh_tokens = False
    state.reset_change_capture()
    yield emulator_server
    state.faults.clear()
    state.org.clock.real_time()
    state.reset_change_capture()


@pytest.fixture
def control(emulator: Emulator) -> Iterator[Control]:
    client = Control(emulator.base_url)
    yield client
    client.http.close()


@pytest.fixture
def sf_session(emulator: Emulator) -> requests.Session:
    session = requests.Session()
    session.mount("https://", ToEmulator(emulator.base_url.removeprefix("http://")))
    return session


@pytest.fixture
def sf(sf_session: requests.Session) -> Salesforce:
    """simple-salesforce logged in with the OAuth username-password flow."""
    return Salesforce(
        username=DEFAULT_USERNAME,
        password=DEFAULT_PASSWORD,
        consumer_key=DEFAULT_CLIENT_ID,
        consumer_secret=DEFAULT_CLIENT_SECRET,
        session=sf_session,
        version=API_VERSION,
    )


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """A plain HTTP client with a valid session, based at /services/data/v61.0."""
    token = password_token(emulator.base_url)["access_token"]
    with httpx.Client(
        base_url=f"{emulator.base_url}/services/data/v{API_VERSION}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ) as client:
        yield client


@pytest.fixture
def token(emulator: Emulator) -> str:
    """A valid access token (password grant)."""
    access: str = password_token(emulator.base_url)["access_token"]
    return access


@pytest.fixture
def cdc(control: Control) -> dict[str, object]:
    """Change Data Capture enabled for Account, Contact and Opportunity; long polls of 200 ms."""
    enabled: dict[str, object] = control.post("/cdc", {"objects": CDC_OBJECTS, "timeout_ms": CDC_TIMEOUT_MS})
    return enabled


@pytest.fixture
def stream(emulator: Emulator, cdc: dict[str, object], token: str) -> Iterator[Bayeux]:
    """A Streaming API client that has handshaken (not subscribed yet)."""
    with Bayeux(emulator.base_url, token) as client:
        assert client.handshake()["successful"]
        yield client
