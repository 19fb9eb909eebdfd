"""keep in step: org syncs, synced values on links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:55:55.832678
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crmsync_org_syncs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('crm_object', sa.String(length=100), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('fatal_error', sa.Text(), nullable=True),
    sa.Column('error_total', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('circuit_opened_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sync_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replay_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_org_syncs_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_org_syncs_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_org_syncs')),
    sa.UniqueConstraint('connection_id', 'crm_object', name=op.f('uq_crmsync_org_syncs_connection_id_crm_object'))
    )
    with op.batch_alter_table('crmsync_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('synced_values', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('crmsync_links', schema=None) as batch_op:
        batch_op.drop_column('synced_values')

    op.drop_table('crmsync_org_syncs')
