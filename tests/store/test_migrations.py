"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import tenancy
from crmsync.store.db import create_db_engine, migrate
from crmsync.store.tables import metadata, organizations


def _real_differences(diffs: list[object]) -> list[object]:
    # Expression indexes cannot be reflected for comparison; they are checked by name below.
    return [d for d in diffs if not (isinstance(d, tuple) and _normalized(getattr(d[1], "name", "")))]


def _normalized(index_name: object) -> bool:
    return str(index_name).endswith("_norm")


def test_migrated_schema_matches_the_declared_tables(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert _real_differences(list(diffs)) == []
        # The inspector skips expression indexes, so ask the catalogs directly.
        if conn.dialect.name == "sqlite":
            names = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
        else:
            names = conn.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            ).scalars()
        declared = {i.name for t in metadata.tables.values() for i in t.indexes if _normalized(i.name)}
        assert "ix_supporters_email_norm" in declared
        assert declared <= set(names)


def test_migrate_twice_is_harmless(workspace: Workspace) -> None:
    migrate(workspace.engine)
    with workspace.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(organizations)).scalar_one() == 1


def test_times_are_aware_utc_both_ways(workspace: Workspace) -> None:
    paris = timezone(timedelta(hours=1))
    moment = datetime(2024, 3, 1, 12, 30, tzinfo=paris)
    with workspace.engine.begin() as conn:
        conn.execute(organizations.insert().values(name="tz", created_at=moment))
        stored = conn.execute(
            sa.select(organizations.c.created_at).where(organizations.c.name == "tz")
        ).scalar_one()
    assert stored == moment
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), workspace.engine.begin() as conn:
        conn.execute(organizations.insert().values(name="naive", created_at=datetime(2024, 1, 1)))


def test_toggles_default_off_and_settings_roundtrip(workspace: Workspace) -> None:
    org = workspace.organization_id
    with workspace.engine.begin() as conn:
        cid, changed = tenancy.upsert_connection(
            conn,
            org,
            name="c",
            crm="salesforce",
            profile="npsp",
            settings_={},
            credentials=None,
            config_hash="a",
        )
        assert changed
        assert tenancy.get_toggles(conn, org, cid) == {}
        tenancy.set_toggles(conn, org, cid, {"funds": tenancy.Toggle(pull=True, push=False)})
        tenancy.set_toggles(conn, org, cid, {"funds": tenancy.Toggle(pull=False, push=True)})
        assert tenancy.get_toggles(conn, org, cid) == {"funds": tenancy.Toggle(pull=False, push=True)}
        tenancy.put_setting(conn, org, "policy", {"x": 1}, connection_id=cid)
        tenancy.put_setting(conn, org, "policy", {"x": 2}, connection_id=cid)
        assert tenancy.get_setting(conn, org, "policy", connection_id=cid) == {"x": 2}
        assert tenancy.get_setting(conn, org, "policy") is None
        _, again = tenancy.upsert_connection(
            conn,
            org,
            name="c",
            crm="salesforce",
            profile="npsp",
            settings_={},
            credentials=None,
            config_hash="a",
        )
        assert not again


def test_bad_database_urls_say_what_to_fix() -> None:
    with pytest.raises(ConfigError, match="not a URL"):
        create_db_engine("not a url")
    with pytest.raises(ConfigError, match="not supported"):
        create_db_engine("mysql://x/y")
    engine = create_db_engine("sqlite:////nonexistent-dir/x/y.db")
    with pytest.raises(ConfigError, match="cannot open the database"):
        migrate(engine)


def test_organizations_are_created_once(workspace: Workspace) -> None:
    with workspace.engine.begin() as conn:
        first = tenancy.ensure_organization(conn, "acme")
        assert tenancy.ensure_organization(conn, "acme") == first
        assert tenancy.ensure_organization(conn, "other") != first
