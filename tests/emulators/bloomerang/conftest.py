"""Fixtures for the Bloomerang emulator's tests: one emulator on loopback, cleaned per test, and
clients whose every answer is validated against Bloomerang's published OpenAPI document."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmsync.emulators.bloomerang import DEFAULT_API_KEY, DEFAULT_MAX_TAKE, DEFAULT_TOKEN_SECONDS, Emulator
from crmsync.emulators.bloomerang.server import running_emulator

# The suite imports test modules with --import-mode=importlib, which keeps this folder off
# sys.path; put it there so the tests can import the shared helpers.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from bl_testkit import Control, Validator, api_client  # noqa: E402


@pytest.fixture(scope="session")
def validator() -> Validator:
    """Bloomerang's document, loaded once."""
    return Validator.create()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The shared emulator, emptied and back to default settings for this test."""
    state = emulator_server.state
    state.store.clock.real_time()
    state.store.clear()
    state.faults.clear()
    state.stats.reset()
    state.limiter.configure(None, 1.0)
    state.settings.latency_ms = 0
    state.settings.max_take = DEFAULT_MAX_TAKE
    state.auth.config.api_keys = [DEFAULT_API_KEY]
    state.auth.config.token_seconds = DEFAULT_TOKEN_SECONDS
    yield emulator_server
    state.faults.clear()
    state.limiter.configure(None, 1.0)
    state.store.clock.real_time()


@pytest.fixture
def api(emulator: Emulator, validator: Validator) -> Iterator[httpx.Client]:
    """The API at /v2 with the default key; every answer is validated against the document."""
    with api_client(emulator.base_url, validator) as client:
        yield client


@pytest.fixture
def control(emulator: Emulator) -> Iterator[Control]:
    client = Control(emulator.base_url)
    yield client
    client.http.close()


@pytest.fixture
def basics(control: Control) -> dict[str, Any]:
    """A fund, a campaign, an appeal, two email interests and the "Platform Id" custom fields."""
    fund = control.create("Fund", {"Name": "General Fund", "IsDefault": True})
    other_fund = control.create("Fund", {"Name": "Building Fund"})
    campaign = control.create(
        "Campaign", {"Name": "2024 Annual Fund", "StartDate": "2024-01-01", "Goal": 50000}
    )
    appeal = control.create("Appeal", {"Name": "Year-End Appeal"})
    news = control.create("EmailInterest", {"Name": "Newsletter"})
    events = control.create("EmailInterest", {"Name": "Events"})
    fields = {}
    for object_type in ("Constituent", "Transaction"):
        category = control.create("CustomFieldCategory", {"Name": "Integration", "ObjectType": object_type})
        fields[object_type] = control.create(
            "CustomField",
            {
                "Name": "Platform Id",
                "ObjectType": object_type,
                "CategoryId": category["Id"],
                "PickType": "Freeform",
            },
        )
    return {
        "fund": fund["Id"],
        "other_fund": other_fund["Id"],
        "campaign": campaign["Id"],
        "appeal": appeal["Id"],
        "interests": [news["Id"], events["Id"]],
        "platform_field": fields["Constituent"]["Id"],
        "gift_platform_field": fields["Transaction"]["Id"],
    }
