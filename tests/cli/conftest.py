"""Fixtures for CLI tests: an emulator, a config file, and a runner with a secret key."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner

from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator, running_emulator
from crmsync.secrets import generate_key

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from push_kit import Project, open_project, postgres_problem  # noqa: E402

# Records of the org push tests start from, afresh for each test.
PUSH_ORG = 120


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    with running_emulator(seed="npsp:300") as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: Emulator) -> Iterator[Emulator]:
    yield emulator_server
    emulator_server.state.faults.clear()


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("CRMSYNC_SECRET_KEY", generate_key())
    monkeypatch.chdir(tmp_path)
    return CliRunner()


class ConfigWriter(Protocol):
    """Writes a crmsync.toml for an emulator URL."""

    def __call__(
        self, path: Path, login_url: str, *, extra: str = "", password: str = "env:SF_PASSWORD"
    ) -> Path: ...


@pytest.fixture
def write_config() -> ConfigWriter:
    """A function that writes a crmsync.toml pointing at an emulator."""
    return _write_config


def _write_config(path: Path, login_url: str, *, extra: str = "", password: str = "env:SF_PASSWORD") -> Path:
    """A crmsync.toml for the emulator with credentials from the environment."""
    path.write_text(
        f"""
database_url = "sqlite:///{path.parent / "platform.db"}"

[connections.sf]
login_url = "{login_url}"
client_id = "crmsync-emulator"
client_secret = "env:SF_CLIENT_SECRET"
username = "admin@npsp.example.org"
password = "{password}"

[connections.sf.toggles]
default = {{ pull = true }}
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="session")
def push_emulator_server() -> Iterator[Emulator]:
    with running_emulator(seed=f"npsp:{PUSH_ORG}") as emulator:
        yield emulator


@pytest.fixture
def push_emulator(push_emulator_server: Emulator) -> Iterator[Emulator]:
    """An emulator of its own for push tests, seeded afresh (they delete and reject records)."""
    state = push_emulator_server.state
    seed_npsp(state.org, PUSH_ORG)
    state.faults.clear()
    state.usage.reset()
    yield push_emulator_server
    state.faults.clear()
    state.org.rules.clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """A project whose platform is a SQLite file or a PostgreSQL database of its own."""
    if request.param == "postgres":
        problem = postgres_problem()
        if problem is not None:
            pytest.skip(f"PostgreSQL unavailable: {problem}")
    yield from open_project(request.param, tmp_path)
