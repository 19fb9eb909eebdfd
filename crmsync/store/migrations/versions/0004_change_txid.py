"""changes: the writing transaction's id, so the pusher never skips a late commit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmsync.store.capture import PG_FUNCTION

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crmsync_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_crmsync_changes_org_txid_id", ["organization_id", "txid", "id"]
        )
    with op.batch_alter_table("crmsync_push_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_txid", sa.BigInteger(), server_default="0", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        # The capture function now records the transaction id (CREATE OR REPLACE).
        op.execute(PG_FUNCTION)


def downgrade() -> None:
    with op.batch_alter_table("crmsync_push_cursors", schema=None) as batch_op:
        batch_op.drop_column("last_txid")
    with op.batch_alter_table("crmsync_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_crmsync_changes_org_txid_id")
        batch_op.drop_column("txid")
