"""push cursors: the two snapshots a batch of changes lies between (PostgreSQL)

The pusher took only changes of transactions below the oldest one open anywhere on the
server, so one idle transaction held back every push. It now takes what became visible
between two snapshots (see crmsync.store.change_batches); a cursor keeps both, and a
pusher upgraded in the middle of its work goes on from its (txid, id) watermark.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crmsync_push_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snapshot_since", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("snapshot_until", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crmsync_push_cursors", schema=None) as batch_op:
        batch_op.drop_column("snapshot_until")
        batch_op.drop_column("snapshot_since")
