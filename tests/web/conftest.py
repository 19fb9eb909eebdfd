"""Fixtures for the web app: an emulator, a workspace with a connection, API clients, admins."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from web_testkit import EMAIL, PASSWORD, TestClient, Web, connect, signed_in  # noqa: E402

from crmsync.emulators.salesforce.seed import seed_npsp  # noqa: E402
from crmsync.emulators.salesforce.server import Emulator, running_emulator  # noqa: E402
from crmsync.engine import accounts  # noqa: E402
from crmsync.engine.workspace import Workspace  # noqa: E402
from crmsync.web.app import WebConfig, create_app  # noqa: E402


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator(seed="npsp:300") as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    """The shared emulator, seeded afresh with about 300 NPSP records, without rules or faults.

    Seeded again for every test: a test's pushes (a fund created by a Resync, say) must not
    be pulled by the next test as if the org had always held them.
    """
    state = emulator_server.state
    state.faults.clear()
    state.cursors.clear()
    state.usage.reset()
    seed_npsp(state.org, 300)
    httpx.delete(f"{emulator_server.base_url}/__emulator__/rules").raise_for_status()
    yield emulator_server
    emulator_server.state.faults.clear()
    httpx.delete(f"{emulator_server.base_url}/__emulator__/rules").raise_for_status()


@pytest.fixture
def web(workspace: Workspace, emulator: Emulator) -> Iterator[Web]:
    """The app over a fresh workspace whose connection ``sf`` points at the emulator."""
    connect(workspace, emulator)
    _, token = accounts.create_token(workspace.engine, workspace.organization_id, "tests")
    app = create_app(workspace, WebConfig())
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield Web(workspace, client, token)
    app.state.jobs.wait()


@pytest.fixture
def browser_client(web: Web) -> Iterator[tuple[TestClient, str]]:
    """A signed-in browser-like client (no bearer token) and its CSRF token."""
    accounts.create_admin(web.workspace.engine, web.workspace.organization_id, EMAIL, PASSWORD)
    with TestClient(web.client.app) as client:
        yield client, signed_in(client)
