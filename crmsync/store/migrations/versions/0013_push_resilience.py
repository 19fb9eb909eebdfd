"""record failures: what failed (a delete keeps its CRM id) and which parent it waited for

A delete that failed three times locked, and archiving the lock queued an upsert of a row
that no longer exists; a child that failed because its new parent was rejected stayed
locked after the parent went through. A failure now keeps its operation and CRM id, and
the parent whose failure it followed.

Revision ID: 0013
Revises: 0015
Create Date: 2026-12-08 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crmsync_record_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operation", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("crm_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("waiting_for", sa.String(length=80), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_crmsync_record_failures_connection_id_crmsync_record_failures_waiting_for"),
            ["connection_id", "waiting_for"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("crmsync_record_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crmsync_record_failures_connection_id_crmsync_record_failures_waiting_for"))
        batch_op.drop_column("waiting_for")
        batch_op.drop_column("crm_id")
        batch_op.drop_column("operation")
