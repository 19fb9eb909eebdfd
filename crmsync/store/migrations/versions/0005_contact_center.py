"""contact centre: platform tables, data sources and links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:56:50.619027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types
from crmsync.store.capture import install_ddl, remove_ddl

PLATFORM_TABLES = ("cc_contacts", "cc_leads", "cc_campaigns", "cc_campaign_contacts")

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cc_campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_cc_campaigns_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_campaigns')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('cc_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_campaigns_organization_id'), ['organization_id'], unique=False)

    op.create_table('cc_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('mobile_phone', sa.String(length=40), nullable=True),
    sa.Column('do_not_call', sa.Boolean(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_cc_contacts_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_contacts')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('cc_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_contacts_organization_id'), ['organization_id'], unique=False)

    op.create_table('cc_leads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('company', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('mobile_phone', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('do_not_call', sa.Boolean(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_cc_leads_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_leads')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('cc_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_leads_organization_id'), ['organization_id'], unique=False)

    op.create_table('cc_campaign_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('crm_object', sa.String(length=100), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('phone_numbers', sa.JSON(), nullable=False),
    sa.Column('custom_fields', sa.JSON(), nullable=False),
    sa.Column('data_source', sa.String(length=100), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['cc_campaigns.id'], name=op.f('fk_cc_campaign_contacts_campaign_id_cc_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_cc_campaign_contacts_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cc_campaign_contacts')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('cc_campaign_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cc_campaign_contacts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cc_campaign_contacts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_cc_campaign_contacts_record', ['organization_id', 'campaign_id', 'crm_object', 'crm_id'], unique=True)

    op.create_table('crmsync_data_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('org_sync_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('crm_object', sa.String(length=100), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('needs_backfill', sa.Boolean(), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_data_sources_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_sync_id'], ['crmsync_org_syncs.id'], name=op.f('fk_crmsync_data_sources_org_sync_id_crmsync_org_syncs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_data_sources_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_data_sources')),
    sa.UniqueConstraint('connection_id', 'name', name=op.f('uq_crmsync_data_sources_connection_id_name'))
    )
    op.create_table('crmsync_data_source_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('data_source_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('phone_fields', sa.JSON(), nullable=False),
    sa.Column('custom_fields', sa.JSON(), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['data_source_id'], ['crmsync_data_sources.id'], name=op.f('fk_crmsync_data_source_links_data_source_id_crmsync_data_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_data_source_links_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_data_source_links')),
    sa.UniqueConstraint('data_source_id', 'campaign_id', name=op.f('uq_crmsync_data_source_links_data_source_id_campaign_id'))
    )
    dialect = op.get_bind().dialect.name
    for table in PLATFORM_TABLES:
        for statement in install_ddl(dialect, table, revision="0005"):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in PLATFORM_TABLES:
        for statement in remove_ddl(dialect, table):
            op.execute(statement)
    op.drop_table('crmsync_data_source_links')
    op.drop_table('crmsync_data_sources')
    with op.batch_alter_table('cc_campaign_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_cc_campaign_contacts_record')
        batch_op.drop_index(batch_op.f('ix_cc_campaign_contacts_organization_id'))
        batch_op.drop_index(batch_op.f('ix_cc_campaign_contacts_campaign_id'))

    op.drop_table('cc_campaign_contacts')
    with op.batch_alter_table('cc_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cc_leads_organization_id'))

    op.drop_table('cc_leads')
    with op.batch_alter_table('cc_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cc_contacts_organization_id'))

    op.drop_table('cc_contacts')
    with op.batch_alter_table('cc_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cc_campaigns_organization_id'))

    op.drop_table('cc_campaigns')
