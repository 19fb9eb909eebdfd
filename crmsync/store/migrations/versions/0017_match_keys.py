"""match keys: rules' keys made in Python and stored by crmsync, not text folded by SQL

Matching compared keys made in Python (strip, casefold) with text folded by the database
(lower(trim(column)), and an index on that expression in the platform's tables); the two
disagree on Unicode white space, on ß and, on SQLite, on every non-ASCII capital. Keys are
now made in Python only (crmsync.matchkey) and stored in crmsync's own tables, built in
full the first time a pull needs them; the expression indexes on the platform's tables go.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# (table, column) of the expression indexes of 0001, 0007 and 0011: ix_<table>_<column>_norm.
_FOLDED = (
    ("supporters", "email"),
    ("cs_end_users", "email"),
    ("funds", "name"),
    ("organizations", "name"),
    ("campaigns", "name"),
    ("appeals", "name"),
    ("cc_contacts", "email"),
    ("cc_leads", "email"),
    ("cs_team", "email"),
    ("cs_companies", "name"),
)


def upgrade() -> None:
    op.create_table(
        "crmsync_match_key_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("platform_type", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("change_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=True),
        sa.Column("built_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["crmsync_organizations.id"],
            name=op.f("fk_crmsync_match_key_sets_organization_id_crmsync_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crmsync_match_key_sets")),
        sa.UniqueConstraint(
            "organization_id",
            "platform_type",
            "rule",
            name=op.f("uq_crmsync_match_key_sets_organization_id_platform_type_rule"),
        ),
    )
    op.create_table(
        "crmsync_match_keys",
        sa.Column("key_set_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.BigInteger(), nullable=False),
        sa.Column("match_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_set_id"],
            ["crmsync_match_key_sets.id"],
            name=op.f("fk_crmsync_match_keys_key_set_id_crmsync_match_key_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_set_id", "platform_id", name=op.f("pk_crmsync_match_keys")),
    )
    op.create_index(
        op.f("ix_crmsync_match_keys_key_set_id_crmsync_match_keys_match_key"),
        "crmsync_match_keys",
        ["key_set_id", "match_key"],
    )
    for table, column in _FOLDED:
        op.drop_index(f"ix_{table}_{column}_norm", table_name=table)


def downgrade() -> None:
    for table, column in reversed(_FOLDED):
        op.create_index(
            f"ix_{table}_{column}_norm", table, ["organization_id", sa.text(f"lower(trim({column}))")]
        )
    op.drop_index(op.f("ix_crmsync_match_keys_key_set_id_crmsync_match_keys_match_key"), table_name="crmsync_match_keys")
    op.drop_table("crmsync_match_keys")
    op.drop_table("crmsync_match_key_sets")
