"""initial schema: tenancy, connections, links, cursors, runs, logs and the NPSP platform

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:45:09.527729
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import crmsync.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('crmsync_organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_organizations')),
    sa.UniqueConstraint('name', name=op.f('uq_crmsync_organizations_name'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=100), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=True),
    sa.Column('expected_revenue', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_campaigns_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_organization_id'), ['organization_id'], unique=False)

    op.create_table('crmsync_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('crm', sa.String(length=32), nullable=False),
    sa.Column('profile', sa.String(length=200), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('credentials', sa.Text(), nullable=True),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('config_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_connections_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_connections')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_crmsync_connections_organization_id_name'))
    )
    op.create_table('funds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_funds_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funds')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funds_organization_id'), ['organization_id'], unique=False)

    op.create_table('households',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_households_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_organization_id'), ['organization_id'], unique=False)

    op.create_table('crmsync_cursors',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('last_id', sa.String(length=64), nullable=False),
    sa.Column('in_progress', sa.Boolean(), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_cursors_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_cursors_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', 'field', name=op.f('pk_crmsync_cursors'))
    )
    op.create_table('crmsync_leases',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('expires_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_leases_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', name=op.f('pk_crmsync_leases'))
    )
    op.create_table('crmsync_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.BigInteger(), nullable=False),
    sa.Column('crm_object', sa.String(length=100), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('crm_modstamp', sa.String(length=40), nullable=True),
    sa.Column('values_hash', sa.String(length=32), nullable=True),
    sa.Column('synced_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_links_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_links_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_links')),
    sa.UniqueConstraint('connection_id', 'platform_type', 'crm_id', name=op.f('uq_crmsync_links_connection_id_platform_type_crm_id')),
    sa.UniqueConstraint('connection_id', 'platform_type', 'platform_id', name=op.f('uq_crmsync_links_connection_id_platform_type_platform_id'))
    )
    op.create_table('crmsync_pending_removals',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('master_crm_id', sa.String(length=64), nullable=True),
    sa.Column('seen_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_pending_removals_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_pending_removals_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', 'crm_id', name=op.f('pk_crmsync_pending_removals'))
    )
    op.create_table('crmsync_pull_retries',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_pull_retries_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_pull_retries_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', 'crm_id', name=op.f('pk_crmsync_pull_retries'))
    )
    op.create_table('crmsync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('api_calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_runs_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_runs_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_runs'))
    )
    with op.batch_alter_table('crmsync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_runs_organization_id_crmsync_runs_connection_id_crmsync_runs_started_at'), ['organization_id', 'connection_id', 'started_at'], unique=False)

    op.create_table('crmsync_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_settings_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_settings_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_settings')),
    sa.UniqueConstraint('organization_id', 'connection_id', 'key', name=op.f('uq_crmsync_settings_organization_id_connection_id_key'))
    )
    op.create_table('crmsync_toggles',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('platform_type', sa.String(length=64), nullable=False),
    sa.Column('pull', sa.Boolean(), nullable=False),
    sa.Column('push', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_toggles_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_toggles_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'platform_type', name=op.f('pk_crmsync_toggles'))
    )
    op.create_table('supporters',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.BigInteger(), nullable=True),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('mobile_phone', sa.String(length=40), nullable=True),
    sa.Column('title', sa.String(length=128), nullable=True),
    sa.Column('birthdate', sa.Date(), nullable=True),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('do_not_contact', sa.Boolean(), nullable=True),
    sa.Column('email_opt_out', sa.Boolean(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_supporters_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_supporters_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporters')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporters_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporters_organization_id'), ['organization_id'], unique=False)
    # Matching supporters by email compares case-folded, trimmed values (not autogenerated).
    op.create_index(
        'ix_supporters_email_norm', 'supporters', ['organization_id', sa.text('lower(trim(email))')]
    )

    op.create_table('campaign_members',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_members_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_campaign_members_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_campaign_members_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_members')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_members_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_members_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_members_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('crmsync_log_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('data_type', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('crm_id', sa.String(length=64), nullable=True),
    sa.Column('platform_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['crmsync_connections.id'], name=op.f('fk_crmsync_log_entries_connection_id_crmsync_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_crmsync_log_entries_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['crmsync_runs.id'], name=op.f('fk_crmsync_log_entries_run_id_crmsync_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_log_entries')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('crmsync_log_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_data_type_crmsync_log_entries_platform_id'), ['organization_id', 'data_type', 'platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_id'), ['organization_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_status_crmsync_log_entries_id'), ['organization_id', 'status', 'id'], unique=False)

    op.create_table('organizations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('primary_contact_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('website', sa.String(length=255), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('street', sa.Text(), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_organizations_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['primary_contact_id'], ['supporters.id'], name=op.f('fk_organizations_primary_contact_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organizations_primary_contact_id'), ['primary_contact_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('list_name', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('subscribed_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_subscriptions_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_subscriptions_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('pledges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('household_id', sa.BigInteger(), nullable=True),
    sa.Column('donor_organization_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('pledged_on', sa.Date(), nullable=True),
    sa.Column('stage', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_pledges_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['donor_organization_id'], ['organizations.id'], name=op.f('fk_pledges_donor_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_pledges_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_pledges_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_pledges_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledges_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_donor_organization_id'), ['donor_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('recurring_donations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('household_id', sa.BigInteger(), nullable=True),
    sa.Column('donor_organization_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('installment_period', sa.String(length=40), nullable=True),
    sa.Column('installments', sa.Integer(), nullable=True),
    sa.Column('date_established', sa.Date(), nullable=True),
    sa.Column('next_payment_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('day_of_month', sa.String(length=8), nullable=True),
    sa.Column('payment_method', sa.String(length=40), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_recurring_donations_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['donor_organization_id'], ['organizations.id'], name=op.f('fk_recurring_donations_donor_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_recurring_donations_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_recurring_donations_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_recurring_donations_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_donations')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('recurring_donations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurring_donations_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_donations_donor_organization_id'), ['donor_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_donations_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_donations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recurring_donations_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('transactions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('household_id', sa.BigInteger(), nullable=True),
    sa.Column('donor_organization_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('recurring_donation_id', sa.BigInteger(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('stage', sa.String(length=40), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('acknowledgment_status', sa.String(length=40), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_transactions_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['donor_organization_id'], ['organizations.id'], name=op.f('fk_transactions_donor_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_transactions_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_transactions_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recurring_donation_id'], ['recurring_donations.id'], name=op.f('fk_transactions_recurring_donation_id_recurring_donations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_transactions_supporter_id_supporters'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transactions')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transactions_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_donor_organization_id'), ['donor_organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_recurring_donation_id'), ['recurring_donation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transactions_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('fund_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('fund_id', sa.BigInteger(), nullable=True),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('pledge_id', sa.BigInteger(), nullable=True),
    sa.Column('recurring_donation_id', sa.BigInteger(), nullable=True),
    sa.Column('campaign_id', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('percent', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_fund_allocations_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fund_id'], ['funds.id'], name=op.f('fk_fund_allocations_fund_id_funds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_fund_allocations_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_fund_allocations_pledge_id_pledges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recurring_donation_id'], ['recurring_donations.id'], name=op.f('fk_fund_allocations_recurring_donation_id_recurring_donations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_fund_allocations_transaction_id_transactions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_allocations')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('fund_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_allocations_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_fund_id'), ['fund_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_recurring_donation_id'), ['recurring_donation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_allocations_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('soft_credits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.BigInteger(), nullable=True),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('pledge_id', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('role', sa.String(length=255), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_soft_credits_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_soft_credits_pledge_id_pledges'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_soft_credits_supporter_id_supporters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_soft_credits_transaction_id_transactions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_soft_credits')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('soft_credits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_soft_credits_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_soft_credits_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_soft_credits_supporter_id'), ['supporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_soft_credits_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('transaction_payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('payment_date', sa.Date(), nullable=True),
    sa.Column('scheduled_date', sa.Date(), nullable=True),
    sa.Column('paid', sa.Boolean(), nullable=True),
    sa.Column('payment_method', sa.String(length=40), nullable=True),
    sa.Column('check_reference', sa.String(length=255), nullable=True),
    sa.Column('created_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crmsync.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['crmsync_organizations.id'], name=op.f('fk_transaction_payments_organization_id_crmsync_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_transaction_payments_transaction_id_transactions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_payments')),
    info={'platform': True},
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('transaction_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transaction_payments_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transaction_payments_transaction_id'), ['transaction_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transaction_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transaction_payments_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_transaction_payments_organization_id'))

    op.drop_table('transaction_payments')
    with op.batch_alter_table('soft_credits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_soft_credits_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_soft_credits_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_soft_credits_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_soft_credits_organization_id'))

    op.drop_table('soft_credits')
    with op.batch_alter_table('fund_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_allocations_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocations_recurring_donation_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocations_pledge_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocations_fund_id'))
        batch_op.drop_index(batch_op.f('ix_fund_allocations_campaign_id'))

    op.drop_table('fund_allocations')
    with op.batch_alter_table('transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transactions_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_transactions_recurring_donation_id'))
        batch_op.drop_index(batch_op.f('ix_transactions_organization_id'))
        batch_op.drop_index(batch_op.f('ix_transactions_household_id'))
        batch_op.drop_index(batch_op.f('ix_transactions_donor_organization_id'))
        batch_op.drop_index(batch_op.f('ix_transactions_campaign_id'))

    op.drop_table('transactions')
    with op.batch_alter_table('recurring_donations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_donations_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_donations_organization_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_donations_household_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_donations_donor_organization_id'))
        batch_op.drop_index(batch_op.f('ix_recurring_donations_campaign_id'))

    op.drop_table('recurring_donations')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledges_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_organization_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_household_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_donor_organization_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_campaign_id'))

    op.drop_table('pledges')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_subscriptions_organization_id'))

    op.drop_table('subscriptions')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_primary_contact_id'))
        batch_op.drop_index(batch_op.f('ix_organizations_organization_id'))

    op.drop_table('organizations')
    with op.batch_alter_table('crmsync_log_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_status_crmsync_log_entries_id'))
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_id'))
        batch_op.drop_index(batch_op.f('ix_crmsync_log_entries_organization_id_crmsync_log_entries_data_type_crmsync_log_entries_platform_id'))

    op.drop_table('crmsync_log_entries')
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_members_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_members_organization_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_members_campaign_id'))

    op.drop_table('campaign_members')
    with op.batch_alter_table('supporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporters_organization_id'))
        batch_op.drop_index('ix_supporters_email_norm')
        batch_op.drop_index(batch_op.f('ix_supporters_household_id'))

    op.drop_table('supporters')
    op.drop_table('crmsync_toggles')
    op.drop_table('crmsync_settings')
    with op.batch_alter_table('crmsync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crmsync_runs_organization_id_crmsync_runs_connection_id_crmsync_runs_started_at'))

    op.drop_table('crmsync_runs')
    op.drop_table('crmsync_pull_retries')
    op.drop_table('crmsync_pending_removals')
    op.drop_table('crmsync_links')
    op.drop_table('crmsync_leases')
    op.drop_table('crmsync_cursors')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_organization_id'))

    op.drop_table('households')
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funds_organization_id'))

    op.drop_table('funds')
    op.drop_table('crmsync_connections')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_organization_id'))

    op.drop_table('campaigns')
    op.drop_table('crmsync_organizations')
