"""Fixtures for engine tests: one emulator of each CRM per session, emptied per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmsync.emulators.bloomerang import Emulator as BloomerangEmulator
from crmsync.emulators.bloomerang import running_emulator as running_bloomerang
from crmsync.emulators.salesforce.server import Emulator, running_emulator

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from bloomerang_testkit import Control  # noqa: E402


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


@pytest.fixture(scope="session")
def bl_emulator_server() -> Iterator[BloomerangEmulator]:
    with running_bloomerang() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def bl_control_server(bl_emulator_server: BloomerangEmulator) -> Iterator[Control]:
    client = Control(bl_emulator_server.base_url)
    yield client
    client.close()


@pytest.fixture
def bl_control(bl_control_server: Control) -> Iterator[Control]:
    """The Bloomerang emulator's control API, the database emptied for this test."""
    bl_control_server.reset()
    yield bl_control_server
    bl_control_server.call("DELETE", "/faults")


@pytest.fixture
def bl_emulator(bl_emulator_server: BloomerangEmulator, bl_control: Control) -> BloomerangEmulator:
    """The shared Bloomerang emulator, emptied for this test."""
    return bl_emulator_server
