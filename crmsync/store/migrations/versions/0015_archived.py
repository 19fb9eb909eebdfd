"""archived: platform rows whose CRM record was deleted or merged away, kept and restorable

A CRM delete hard-deleted the platform row (and its children) with no review and no undo.
By default (on_crm_delete = archive) the row is now kept, listed here with its CRM id and
the base its link held, left out of pushes and exports, and brought back by restore.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-08 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmsync.store.types import UTCDateTime

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crmsync_archived",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("platform_type", sa.String(64), nullable=False),
        sa.Column("platform_id", sa.BigInteger(), nullable=False),
        sa.Column("crm_object", sa.String(100), nullable=False),
        sa.Column("crm_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("master_crm_id", sa.String(64), nullable=True),
        sa.Column("parent_type", sa.String(64), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("synced_values", sa.JSON(), nullable=True),
        sa.Column("archived_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["crmsync_organizations.id"],
            name="fk_crmsync_archived_organization_id_crmsync_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crmsync_connections.id"],
            name="fk_crmsync_archived_connection_id_crmsync_connections",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "platform_type", "platform_id", name="pk_crmsync_archived"),
    )
    op.create_index(
        "ix_crmsync_archived_crm_id", "crmsync_archived", ["connection_id", "platform_type", "crm_id"]
    )
    op.create_index("ix_crmsync_archived_time", "crmsync_archived", ["organization_id", "archived_at"])


def downgrade() -> None:
    op.drop_index("ix_crmsync_archived_time", table_name="crmsync_archived")
    op.drop_index("ix_crmsync_archived_crm_id", table_name="crmsync_archived")
    op.drop_table("crmsync_archived")
