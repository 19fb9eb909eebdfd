"""Fixtures for CLI tests: an emulator, a config file, and a runner with a secret key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from typer.testing import CliRunner

from crmsync.emulators.salesforce.server import Emulator, running_emulator
from crmsync.secrets import generate_key


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
