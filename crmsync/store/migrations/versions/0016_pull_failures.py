"""pull retries: why a record did not sync, its log entry, backoff and locks

A record waiting for a parent was fetched again and logged again on every run (3,192, then
6,384, then 9,576 entries over three Sync Alls), and pull failures never locked. A retry now
keeps its reason's code, the parent it waits for, the log entry a repeat updates, how many
pulls to let pass before the next attempt, and when three failures in a row locked it.
Records a filter keeps out are noted the same way (code LEFT_OUT), never fetched again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmsync.store.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crmsync_pull_retries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("crm_modstamp", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("waiting_for", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("log_entry_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("skips_left", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crmsync_pull_retries", schema=None) as batch_op:
        batch_op.drop_column("locked_at")
        batch_op.drop_column("skips_left")
        batch_op.drop_column("log_entry_id")
        batch_op.drop_column("waiting_for")
        batch_op.drop_column("crm_modstamp")
        batch_op.drop_column("code")
