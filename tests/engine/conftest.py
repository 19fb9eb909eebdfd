"""Fixtures for engine tests: one emulator per session, reseeded per test, and a connection."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.emulators.salesforce.server import Emulator, running_emulator

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The shared emulator, emptied and back to real time for this test."""
    state = emulator_server.state
    state.org.clock.real_time()
    state.org.reset()
    state.usage.reset()
    state.cursors.clear()
    state.faults.clear()
    yield emulator_server
    state.faults.clear()
    state.org.clock.real_time()
