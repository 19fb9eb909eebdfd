"""bloomerang: appeals; a gift's appeal, pledge and payment method; soft credits to organizations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types
from crmsync.store.capture import install_ddl, remove_ddl

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_GIFT_LOOKUPS = (("pledge_id", "pledges"), ("appeal_id", "appeals"))


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("created_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["crmsync_organizations.id"],
            name=op.f("fk_appeals_organization_id_crmsync_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        info={"platform": True},
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_appeals_organization_id"), "appeals", ["organization_id"], unique=False)
    dialect = op.get_bind().dialect.name
    # SQLite cannot add a named foreign key in place: the table is copied (keeping its
    # AUTOINCREMENT), which drops its change-capture triggers, so they are installed again.
    with op.batch_alter_table(
        "transactions", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        for column, target in _GIFT_LOOKUPS:
            batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_transactions_{column}_{target}"), target, [column], ["id"], ondelete="SET NULL"
            )
            batch_op.create_index(batch_op.f(f"ix_transactions_{column}"), [column], unique=False)
        batch_op.add_column(sa.Column("payment_method", sa.String(length=40), nullable=True))
    # Bloomerang credits organizations too.
    with op.batch_alter_table(
        "soft_credits", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.add_column(sa.Column("donor_organization_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_soft_credits_donor_organization_id_organizations"),
            "organizations",
            ["donor_organization_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_soft_credits_donor_organization_id"), ["donor_organization_id"])
    if dialect == "sqlite":
        for table in ("transactions", "soft_credits"):
            for statement in [*remove_ddl(dialect, table), *install_ddl(dialect, table, revision="0008")]:
                op.execute(statement)
    for statement in install_ddl(dialect, "appeals", revision="0008"):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in remove_ddl(dialect, "appeals"):
        op.execute(statement)
    with op.batch_alter_table("soft_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_soft_credits_donor_organization_id"))
        batch_op.drop_column("donor_organization_id")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("payment_method")
        for column, _target in reversed(_GIFT_LOOKUPS):
            batch_op.drop_index(batch_op.f(f"ix_transactions_{column}"))
            batch_op.drop_column(column)
    if dialect == "sqlite":
        for table in ("transactions", "soft_credits"):
            for statement in [*remove_ddl(dialect, table), *install_ddl(dialect, table, revision="0008")]:
                op.execute(statement)
    op.drop_index(op.f("ix_appeals_organization_id"), table_name="appeals")
    op.drop_table("appeals")
