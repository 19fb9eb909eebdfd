"""capture: PostgreSQL captures a statement's rows at once (triggers per statement, transition tables)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmsync.store.capture import PG_STATEMENT_FUNCTION, install_ddl, remove_ddl

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _captured_tables(trigger: str) -> list[str]:
    """The tables of this schema that carry the capture trigger ``trigger``."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name = :trigger AND trigger_schema = current_schema() "
            "ORDER BY event_object_table"
        ),
        {"trigger": trigger},
    )
    return [row[0] for row in rows]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PG_STATEMENT_FUNCTION)
    for table in _captured_tables("crmsync_capture"):
        for statement in [*remove_ddl("postgresql", table), *install_ddl("postgresql", table, revision="0010")]:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _captured_tables("crmsync_capture_insert"):
        for statement in [*remove_ddl("postgresql", table), *install_ddl("postgresql", table, revision="0009")]:
            op.execute(statement)
    op.execute("DROP FUNCTION IF EXISTS crmsync_capture_statement()")
