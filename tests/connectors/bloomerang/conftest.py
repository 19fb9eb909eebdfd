"""Fixtures for the Bloomerang connector's tests: one emulator on loopback for the session,
emptied through its control API before each test, and crmsync's connector pointed at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.emulators.bloomerang import Emulator, running_emulator

# The suite imports test modules with --import-mode=importlib, which keeps this folder off
# sys.path; put it there so the tests can import the shared helpers.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from bl_connector_testkit import Control, MakeConnector, make_connector  # noqa: E402


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def control_server(emulator_server: Emulator) -> Iterator[Control]:
    client = Control(emulator_server.base_url)
    yield client
    client.close()


@pytest.fixture
def control(control_server: Control) -> Iterator[Control]:
    """The control API of the shared emulator, emptied and back to default settings."""
    control_server.reset()
    yield control_server
    control_server.call("DELETE", "/faults")
    control_server.settings(rate=None, latency_ms=0)


@pytest.fixture
def emulator(emulator_server: Emulator, control: Control) -> Emulator:
    """The shared emulator, emptied for this test."""
    return emulator_server


@pytest.fixture
def connect(emulator: Emulator) -> Iterator[MakeConnector]:
    """Connectors to the emulator (closed after the test)."""
    made: list[BloomerangConnector] = []

    def make(**options: Any) -> BloomerangConnector:
        connector = make_connector(emulator.api_url, **options)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def connector(connect: MakeConnector) -> BloomerangConnector:
    """The connector with default options."""
    return connect()
