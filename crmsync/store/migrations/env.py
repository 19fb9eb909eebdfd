"""Alembic environment: runs migrations on the engine crmsync hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

import crmsync.store.platform  # noqa: F401  (registers the platform tables on the metadata)
from crmsync.store.tables import metadata

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
