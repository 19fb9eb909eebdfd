"""Shared fixtures: a real SQLite file and a real PostgreSQL schema per test."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmsync.engine.workspace import Workspace
from crmsync.secrets import Vault, generate_key

# The suite imports with --import-mode=importlib, which keeps test folders off sys.path:
# put this one there for the helpers every folder shares (testkit.py).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

POSTGRES_URL = os.environ.get("CRMSYNC_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# CI sets this so that a PostgreSQL server that is down fails the run instead of skipping.
REQUIRE_POSTGRES = os.environ.get("CRMSYNC_REQUIRE_POSTGRES") == "1"


@dataclass(frozen=True)
class Database:
    """Where a test's platform lives."""

    url: str
    schema: str | None
    backend: str


def _postgres_ready() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


_PG_PROBLEM: list[str | None] = []


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None (probed once per session)."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_ready())
    return _PG_PROBLEM[0]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A fresh, empty platform database on each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "platform.db"
        yield Database(f"sqlite:///{path}", None, "sqlite")
        return
    problem = postgres_problem()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unavailable: {problem}")
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield Database(POSTGRES_URL, schema, "postgres")
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def vault() -> Vault:
    """A vault with a throwaway key."""
    return Vault(generate_key())


@pytest.fixture
def workspace(database: Database, vault: Vault) -> Iterator[Workspace]:
    """A migrated workspace on the test database."""
    ws = Workspace(database.url, vault=vault, schema=database.schema)
    try:
        yield ws
    finally:
        ws.close()
