"""capture: a transaction may capture its own inserts (SQLite), the insert triggers standing aside

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmsync.store.capture import install_ddl, remove_ddl

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _captured_tables() -> list[str]:
    """The tables that carry SQLite capture triggers now."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT tbl_name FROM sqlite_master "
            "WHERE type = 'trigger' AND name LIKE 'crmsync_capture_%_insert' ORDER BY tbl_name"
        )
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    with op.batch_alter_table("crmsync_origin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("own_capture", sa.Boolean(), server_default="0", nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        for table in _captured_tables():
            for statement in [*remove_ddl("sqlite", table), *install_ddl("sqlite", table, revision="0009")]:
                op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite copies the marker table to drop a column, and its triggers read that table:
    # they go first and come back (as they were before 0009) after.
    tables = _captured_tables() if sqlite else []
    for table in tables:
        for statement in remove_ddl("sqlite", table):
            op.execute(statement)
    with op.batch_alter_table("crmsync_origin", schema=None) as batch_op:
        batch_op.drop_column("own_capture")
    for table in tables:
        for statement in install_ddl("sqlite", table, revision="0008"):
            op.execute(statement)
