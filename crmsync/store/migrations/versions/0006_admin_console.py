"""admin console: administrators, sessions, API tokens, log indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:06:12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crmsync_admins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_admins_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_admins')),
    sa.UniqueConstraint('email', name=op.f('uq_crmsync_admins_email'))
    )
    op.create_table('crmsync_api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_api_tokens_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_crmsync_api_tokens_token_hash'))
    )
    op.create_table('crmsync_web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('admin_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['admin_id'], ['crmsync_admins.id'], name=op.f('fk_crmsync_web_sessions_admin_id_crmsync_admins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_web_sessions_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_crmsync_web_sessions'))
    )
    with op.batch_alter_table('crmsync_web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_web_sessions_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('crmsync_log_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_created_at'), ['organization_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_data_type_crmsync_log_entries_id'), ['organization_id', 'data_type', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_direction_crmsync_log_entries_id'), ['organization_id', 'direction', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('crmsync_log_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_direction_crmsync_log_entries_id'))
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_data_type_crmsync_log_entries_id'))
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_created_at'))

    with op.batch_alter_table('crmsync_web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_web_sessions_expires_at'))

    op.drop_table('crmsync_web_sessions')
    op.drop_table('crmsync_api_tokens')
    op.drop_table('crmsync_admins')
