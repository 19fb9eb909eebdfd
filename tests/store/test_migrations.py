"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError
from crmsync.store import tenancy
from crmsync.store.db import alembic_config, create_db_engine, migrate
from crmsync.store.tables import metadata, organizations


def test_migrated_schema_matches_the_declared_tables(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert list(diffs) == []
        # Matching folds no text in SQL any more (0017): the inspector skips expression
        # indexes, so the catalogs are asked that none is left on the platform's tables.
        assert _folding_indexes(conn) == []


def test_0017_down_and_up_again_moves_match_keys_between_sql_and_crmsync(workspace: Workspace) -> None:
    config = alembic_config(workspace.engine)
    # To the revision before 0017, whichever it is chained after.
    command.downgrade(config, "0017-1")
    with workspace.engine.connect() as conn:
        assert "ix_supporters_email_norm" in _folding_indexes(conn)
        assert "crmsync_match_keys" not in sa.inspect(conn).get_table_names()
    command.upgrade(config, "head")
    with workspace.engine.connect() as conn:
        assert _folding_indexes(conn) == []
        assert {"crmsync_match_keys", "crmsync_match_key_sets"} <= set(sa.inspect(conn).get_table_names())


def _folding_indexes(conn: sa.Connection) -> list[str]:
    """The names of the indexes on lower(trim(column)) that 0011 and before made."""
    if conn.dialect.name == "sqlite":
        names = conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars()
    else:
        names = conn.execute(
            sa.text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        ).scalars()
    return sorted(name for name in names if str(name).endswith("_norm"))


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
