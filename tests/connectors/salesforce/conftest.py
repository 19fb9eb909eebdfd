"""Fixtures for the Salesforce connector's tests: one emulator on loopback, cleaned per test,
and clients of crmsync's own connector pointed at it over real HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmsync.connectors.retry import RetryPolicy
from crmsync.connectors.salesforce.auth import Credentials, TokenStore
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.emulators.salesforce.auth import DEFAULT_SESSION_SECONDS
from crmsync.emulators.salesforce.cursors import DEFAULT_IDLE_SECONDS, DEFAULT_MAX_OPEN
from crmsync.emulators.salesforce.limits import DEFAULT_DAILY_API_REQUESTS
from crmsync.emulators.salesforce.server import Emulator, running_emulator

# The suite imports test modules with --import-mode=importlib, which keeps this folder off
# sys.path; put it there so the tests can import the shared helpers.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from sf_connector_testkit import CountingTransport, MakeClient, RecordingSleep, password_credentials  # noqa: E402


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The shared emulator, emptied and back to default settings for this test."""
    state = emulator_server.state

    def restore() -> None:
        state.faults.clear()
        state.org.clock.real_time()
        state.cursors.clear()
        state.cursors.idle_seconds = DEFAULT_IDLE_SECONDS
        state.cursors.max_open = DEFAULT_MAX_OPEN
        state.auth.config.session_seconds = DEFAULT_SESSION_SECONDS
        state.auth.config.issue_refresh_tokens = False

    restore()
    state.org.reset()
    state.usage.reset()
    state.usage.configure(daily_max=DEFAULT_DAILY_API_REQUESTS)
    yield emulator_server
    restore()


@pytest.fixture
def sleeps() -> RecordingSleep:
    """The delays the retry policy asked for (nothing actually waits)."""
    return RecordingSleep()


@pytest.fixture
def retry(sleeps: RecordingSleep) -> RetryPolicy:
    """Five attempts, 0.5 s base, 30 s cap, recorded instead of slept."""
    return RetryPolicy(attempts=5, base_delay=0.5, max_delay=30.0, sleep=sleeps)


@pytest.fixture
def transport() -> Iterator[CountingTransport]:
    """A real HTTP transport that counts what reaches the emulator."""
    counting = CountingTransport()
    yield counting
    counting.close()


@pytest.fixture
def credentials(emulator: Emulator) -> Credentials:
    """The emulator's integration user, username-password flow, no security token."""
    return password_credentials(emulator.base_url)


@pytest.fixture
def make_client(
    credentials: Credentials, retry: RetryPolicy, transport: CountingTransport
) -> Iterator[MakeClient]:
    """Build clients (default: the fixtures' credentials, retry policy and transport); closed after."""
    made: list[SalesforceClient] = []

    def make(
        creds: Credentials | None = None,
        *,
        token_store: TokenStore | None = None,
        **kwargs: Any,
    ) -> SalesforceClient:
        kwargs.setdefault("retry", retry)
        kwargs.setdefault("transport", transport)
        client = SalesforceClient(creds or credentials, token_store=token_store, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> SalesforceClient:
    """A client of the emulator with the default fixtures."""
    return make_client()


@pytest.fixture
def connector(client: SalesforceClient) -> SalesforceConnector:
    """A connector reading pages of 200 (the smallest batch Salesforce allows)."""
    return SalesforceConnector(client, page_size=200)
