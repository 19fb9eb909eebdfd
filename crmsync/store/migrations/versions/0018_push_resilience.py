"""push resilience: record failures keep what failed, leases per kind of work, loops

- crmsync_record_failures: a failure keeps its operation and a delete's CRM id (archiving
  the lock or a Resync deletes again), and the record whose failure it followed (its
  success lifts this one's lock).
- crmsync_leases: one lease per connection and kind ("pull", "push"), so that one pusher
  at a time works on a connection, as one run at a time pulls. Leases are held for
  seconds to minutes by running processes: the table is made again, empty.
- crmsync_loops: the long-lived loops of `crmsync run` and `push --watch` as their
  supervisor last saw them, for `crmsync status`.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types

revision = "0018"
down_revision = "0017"
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
    op.drop_table("crmsync_leases")
    _create_leases(kind=True)
    op.create_table(
        "crmsync_loops",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", crmsync.store.types.CappedText(), nullable=True),
        sa.Column("started_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("seen_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", crmsync.store.types.CappedText(), nullable=True),
        sa.Column("last_error_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("restarts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crmsync_connections.id"],
            name=op.f("fk_crmsync_loops_connection_id_crmsync_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["crmsync_organizations.id"],
            name=op.f("fk_crmsync_loops_organization_id_crmsync_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "kind", "owner", name=op.f("pk_crmsync_loops")),
    )


def downgrade() -> None:
    op.drop_table("crmsync_loops")
    op.drop_table("crmsync_leases")
    _create_leases(kind=False)
    with op.batch_alter_table("crmsync_record_failures", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_crmsync_record_failures_connection_id_crmsync_record_failures_waiting_for")
        )
        batch_op.drop_column("waiting_for")
        batch_op.drop_column("crm_id")
        batch_op.drop_column("operation")


def _create_leases(*, kind: bool) -> None:
    op.create_table(
        "crmsync_leases",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        *([sa.Column("kind", sa.String(length=16), nullable=False)] if kind else []),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("expires_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crmsync_connections.id"],
            name=op.f("fk_crmsync_leases_connection_id_crmsync_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id", *(["kind"] if kind else []), name=op.f("pk_crmsync_leases")
        ),
    )
