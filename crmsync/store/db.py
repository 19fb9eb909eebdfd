"""Opening the platform database (SQLite or PostgreSQL) and migrating it to the newest schema."""

from __future__ import annotations

import warnings
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from crmsync import jsontext
from crmsync.errors import ConfigError

DEFAULT_URL = "sqlite:///crmsync.db"


def create_db_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """An engine for ``url`` with the settings crmsync relies on (FKs, WAL, UTC, explicit BEGIN)."""
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"database URL {url!r} is not a URL; use sqlite:///file.db or postgresql+psycopg://host/db"
        ) from None
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        # Let SQLAlchemy, not the driver, decide when transactions start (see _sqlite_begin).
        connect_args["isolation_level"] = None
        connect_args["timeout"] = 30
    elif backend == "postgresql":
        # Page lookups bind thousands of CRM ids in an IN list. Once psycopg prepares such a
        # statement, PostgreSQL may switch to a generic plan made on the table's old statistics
        # (none for a type a first pull is creating), which filters every row of the type
        # against the whole list: a second and more per page by the end of a 30,000-record
        # object. Plans made for the values at hand use the index.
        options = "-c timezone=UTC -c plan_cache_mode=force_custom_plan"
        if schema:
            options += f" -c search_path={schema}"
        connect_args["options"] = options
    else:
        raise ConfigError(f"database {backend!r} is not supported; use SQLite or PostgreSQL")
    try:
        engine = sa.create_engine(
            parsed,
            connect_args=connect_args,
            echo=echo,
            pool_pre_ping=True,
            json_serializer=jsontext.dumps,
            json_deserializer=jsontext.loads,
        )
    except NoSuchModuleError:
        raise ConfigError(
            f"no driver for {parsed.drivername}; use postgresql+psycopg:// (pip install 'crmsync[postgres]')"
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the database driver is not installed ({exc.name}); pip install 'crmsync[postgres]'"
        ) from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


# A pull writes a page of records with their links, log entries and captured changes per
# commit. With SQLite's defaults (4 KiB pages, a 2 MiB cache) a third of a commit's work was
# moving pages: larger pages halve the WAL frames written, and a 16 MiB cache per connection
# keeps the indexes a page touches. The page size applies to databases created from now on
# (it must be set before the first table, and before WAL mode); older files keep theirs.
_SQLITE_PAGE_SIZE = 16384
_SQLITE_CACHE_KIB = 16384


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={_SQLITE_PAGE_SIZE}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock up front: two writers then queue on busy_timeout
    # instead of one failing with SQLITE_BUSY when it upgrades a read to a write.
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def reading(engine: Engine) -> sa.Connection:
    """A connection for reads only: on SQLite its transactions do not take the write lock.

    Write with ``engine.begin()``; read with ``with reading(engine) as conn``. A reader
    inside a writer's work (or the reverse) then never waits for itself.
    """
    return engine.connect().execution_options(sqlite_begin="DEFERRED")


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration pointing at crmsync's migrations and ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("crmsync.store").joinpath("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creates it on first use)."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"cannot open the database {engine.url!r}: {reason}") from None
    with warnings.catch_warnings():
        # Copying a SQLite table (batch migrations) reflects its neighbours; SQLAlchemy cannot
        # reflect expression indexes and says so, though the copy leaves them alone.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        command.upgrade(alembic_config(engine), "head")
