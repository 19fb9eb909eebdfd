"""push: change capture, push queue, record failures and locks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:25:21.592802
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types
from crmsync.store.capture import CHANNEL, install_ddl, remove_ddl

# The capture function as this revision created it (0004 replaces it); migrations keep
# their own copy so that they mean the same thing whatever the code says later.
PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION crmsync_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec record;
    change_origin text := COALESCE(NULLIF(current_setting('crmsync.origin', true), ''), 'user');
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    INSERT INTO crmsync_changes (organization_id, platform_type, platform_id, operation, origin, created_at)
    VALUES (rec.organization_id, TG_TABLE_NAME, rec.id, lower(TG_OP), change_origin, clock_timestamp());
    IF change_origin <> 'sync' THEN
        PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$
"""

# The platform tables that exist at this revision; tables added later install capture in
# their own migration.
PLATFORM_TABLES = (
    "funds",
    "households",
    "supporters",
    "organizations",
    "campaigns",
    "recurring_donations",
    "pledges",
    "transactions",
    "transaction_payments",
    "fund_allocations",
    "campaign_members",
    "soft_credits",
    "subscriptions",
)

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crmsync_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.BigInteger(), nullable=False),
    sa.Column('operation', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_changes')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('crmsync_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_changes_created_at'), ['created_at'], unique=False)

    op.create_table('crmsync_origin',
    sa.Column('origin', sa.String(length=8), nullable=False)
    )
    op.create_table('crmsync_push_cursors',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('last_change_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_push_cursors_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_crmsync_push_cursors'))
    )
    op.create_table('crmsync_push_queue',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.BigInteger(), nullable=False),
    sa.Column('operation', sa.String(length=8), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=True),
    sa.Column('enqueued_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_push_queue_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_push_queue_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', 'platform_id', name=op.f('pk_crmsync_push_queue'))
    )
    with op.batch_alter_table('crmsync_push_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_push_queue_connection_id_crmsync_push_queue_next_attempt_at'), ['connection_id', 'next_attempt_at'], unique=False)

    op.create_table('crmsync_record_failures',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.Column('last_failed_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_record_failures_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_record_failures_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', 'platform_id', name=op.f('pk_crmsync_record_failures'))
    )
    with op.batch_alter_table('crmsync_record_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_record_failures_organization_id_crmsync_record_failures_locked_at'), ['organization_id', 'locked_at'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
    for table in PLATFORM_TABLES:
        for statement in install_ddl(dialect, table, revision="0002"):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in PLATFORM_TABLES:
        for statement in remove_ddl(dialect, table):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS crmsync_capture()")
    with op.batch_alter_table('crmsync_record_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_record_failures_organization_id_crmsync_record_failures_locked_at'))

    op.drop_table('crmsync_record_failures')
    with op.batch_alter_table('crmsync_push_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_push_queue_connection_id_crmsync_push_queue_next_attempt_at'))

    op.drop_table('crmsync_push_queue')
    op.drop_table('crmsync_push_cursors')
    op.drop_table('crmsync_origin')
    with op.batch_alter_table('crmsync_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_changes_created_at'))

    op.drop_table('crmsync_changes')
