"""crmsync's own tables: tenancy, connections, toggles, links, cursors, runs, logs.

They live in the platform's database beside the application's tables (prefixed ``crmsync_``)
so that a link or cursor is written in the same transaction as the rows it describes.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmsync.store.types import CappedJSON, CappedText, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

# Ids that grow past 2**31 (log entries) are BIGINT on PostgreSQL; SQLite needs INTEGER
# for the rowid alias that makes them autoincrement.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _org_fk() -> sa.Column[int]:
    return sa.Column(
        "organization_id",
        sa.Integer,
        sa.ForeignKey("crmsync_organizations.id", ondelete="CASCADE"),
        nullable=False,
    )


def _connection_fk() -> sa.Column[int]:
    return sa.Column(
        "connection_id",
        sa.Integer,
        sa.ForeignKey("crmsync_connections.id", ondelete="CASCADE"),
        nullable=False,
    )


organizations = sa.Table(
    "crmsync_organizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

connections = sa.Table(
    "crmsync_connections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("crm", sa.String(32), nullable=False),
    sa.Column("profile", sa.String(200), nullable=False),
    # Non-secret settings (instance URL, API version, auth flow, lookback, policies).
    sa.Column("settings", sa.JSON, nullable=False),
    # Fernet tokens: credentials as configured, and the current access/refresh token.
    sa.Column("credentials", sa.Text, nullable=True),
    sa.Column("token", sa.Text, nullable=True),
    sa.Column("config_hash", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("organization_id", "name"),
)

toggles = sa.Table(
    "crmsync_toggles",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("pull", sa.Boolean, nullable=False),
    sa.Column("push", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "platform_type"),
)

settings = sa.Table(
    "crmsync_settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("crmsync_connections.id", ondelete="CASCADE")),
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("value", sa.JSON, nullable=True),
    sa.UniqueConstraint("organization_id", "connection_id", "key"),
)

links = sa.Table(
    "crmsync_links",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    sa.Column("crm_object", sa.String(100), nullable=False),
    sa.Column("crm_id", sa.String(64), nullable=False),
    # The CRM's own modification stamp of the version last applied, as the CRM gave it,
    # and a hash of the mapped values: together they make re-reads and echoes cheap to skip.
    sa.Column("crm_modstamp", sa.String(40), nullable=True),
    sa.Column("values_hash", sa.String(32), nullable=True),
    # The mapped platform values as last synced (either way): a field that differs from
    # them on both sides is a conflict for the connection's policy to decide.
    sa.Column("synced_values", sa.JSON, nullable=True),
    sa.Column("synced_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("connection_id", "platform_type", "platform_id"),
    sa.UniqueConstraint("connection_id", "platform_type", "crm_id"),
)

# --- matching: the keys of platform rows (see crmsync.store.match_keys) -----------------

# One matching rule of one platform type in an organization, whose rows' keys are kept, and
# how far they are up to date with the captured changes.
match_key_sets = sa.Table(
    "crmsync_match_key_sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    # How the rule normalises, then its columns: "casefold:email".
    sa.Column("rule", sa.String(255), nullable=False),
    # crmsync.matchkey.VERSION of the stored keys; '' until they are built.
    sa.Column("version", sa.String(64), nullable=False),
    # The changes already taken: SQLite, up to this change id; PostgreSQL, those visible in
    # this snapshot.
    sa.Column("change_id", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("snapshot", sa.Text, nullable=True),
    sa.Column("built_at", UTCDateTime, nullable=True),
    # When the number of keys was last compared with the number of rows.
    sa.Column("checked_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("organization_id", "platform_type", "rule"),
)

# One key per platform row and key set. No foreign key to the organization (the key set's
# cascades), so that writing a page's keys checks one parent, not two.
match_keys = sa.Table(
    "crmsync_match_keys",
    metadata,
    sa.Column(
        "key_set_id",
        sa.Integer,
        sa.ForeignKey("crmsync_match_key_sets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("organization_id", sa.Integer, nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    # crmsync.matchkey.digest of the row's key; '' when a part is empty (it matches nothing).
    sa.Column("match_key", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("key_set_id", "platform_id"),
    sa.Index(None, "key_set_id", "match_key"),
)

cursors = sa.Table(
    "crmsync_cursors",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    # The high-water mark exactly as the CRM wrote it, and the last id at that mark.
    sa.Column("value", sa.String(40), nullable=False),
    sa.Column("last_id", sa.String(64), nullable=False),
    # True while a pass over the object is under way: a restart resumes strictly after
    # (value, last_id) instead of re-reading the lookback window.
    sa.Column("in_progress", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "field"),
)

runs = sa.Table(
    "crmsync_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    _connection_fk(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("api_calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message", CappedText, nullable=True),
    sa.Index(None, "organization_id", "connection_id", "started_at"),
)

log_entries = sa.Table(
    "crmsync_log_entries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _org_fk(),
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("crmsync_connections.id", ondelete="CASCADE")),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("crmsync_runs.id", ondelete="SET NULL")),
    sa.Column("data_type", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", CappedText, nullable=False),
    sa.Column("details", CappedJSON, nullable=True),
    sa.Column("crm_id", sa.String(64), nullable=True),
    sa.Column("platform_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Keyset pagination newest-first, overall and per status.
    sa.Index(None, "organization_id", "id"),
    sa.Index(None, "organization_id", "status", "id"),
    sa.Index(None, "organization_id", "data_type", "platform_id"),
    # The admin console's log tabs and filters (migration 0006): Pull/Push tabs and the type
    # filter page newest-first by id; a date filter becomes an id range through created_at.
    sa.Index(None, "organization_id", "direction", "id"),
    sa.Index(None, "organization_id", "data_type", "id"),
    sa.Index(None, "organization_id", "created_at"),
    # Keyset paging by id needs ids that never come back.
    sqlite_autoincrement=True,
)

pull_retries = sa.Table(
    "crmsync_pull_retries",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("crm_id", sa.String(64), nullable=False),
    sa.Column("reason", CappedText, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_failed_at", UTCDateTime, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    # Why (a RecordError code, or LEFT_OUT for a record a filter keeps out: never fetched again).
    sa.Column("code", sa.String(32), nullable=True),
    # The version that failed (its modification stamp): read again unchanged, it is not retried
    # before its time.
    sa.Column("crm_modstamp", sa.String(40), nullable=True),
    # PARENT_MISSING: the parent's CRM id; the record is fetched again as soon as it is linked.
    sa.Column("waiting_for", sa.String(64), nullable=True),
    # The log entry of this reason: a repeat updates it rather than writing another.
    sa.Column("log_entry_id", sa.BigInteger, nullable=True),
    # Pulls to let pass before fetching the record again (1, 2, 4 ... as failures repeat).
    sa.Column("skips_left", sa.Integer, nullable=False, server_default="0"),
    # Three failures in a row lock it: not fetched again until an administrator archives it.
    sa.Column("locked_at", UTCDateTime, nullable=True),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "crm_id"),
)

pending_removals = sa.Table(
    "crmsync_pending_removals",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("crm_id", sa.String(64), nullable=False),
    sa.Column("master_crm_id", sa.String(64), nullable=True),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "crm_id"),
)

# Platform rows whose CRM record was deleted or merged away, kept (on_crm_delete = archive):
# left out of pushes and exports until restored. The link goes; its CRM id and base stay here.
archived = sa.Table(
    "crmsync_archived",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    sa.Column("crm_object", sa.String(100), nullable=False),
    # None for a platform child that was never in the CRM, archived with its parent.
    sa.Column("crm_id", sa.String(64), nullable=True),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("master_crm_id", sa.String(64), nullable=True),
    # The record this one was archived with (a supporter's gifts go with the supporter).
    sa.Column("parent_type", sa.String(64), nullable=True),
    sa.Column("parent_id", sa.BigInteger, nullable=True),
    sa.Column("synced_values", sa.JSON, nullable=True),
    sa.Column("archived_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "platform_id"),
    sa.Index("ix_crmsync_archived_crm_id", "connection_id", "platform_type", "crm_id"),
    sa.Index("ix_crmsync_archived_time", "organization_id", "archived_at"),
)

leases = sa.Table(
    "crmsync_leases",
    metadata,
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("crmsync_connections.id", ondelete="CASCADE")),
    # What the lease is for: "pull" (a run) or "push" (the pusher); see store.leases.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("connection_id", "kind"),
)

# The long-lived loops of `crmsync run` and `crmsync push --watch` (pusher, scheduler, CDC)
# as their supervisor last saw them, so that `crmsync status` tells a dead loop from a
# working one. Written every few seconds by the process that runs them (see store.loops).
loops = sa.Table(
    "crmsync_loops",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("note", CappedText, nullable=True),
    sa.Column("started_at", UTCDateTime, nullable=False),
    # The loop's own last sign of life (an iteration), and its supervisor's last report.
    sa.Column("heartbeat_at", UTCDateTime, nullable=True),
    sa.Column("seen_at", UTCDateTime, nullable=False),
    sa.Column("last_error", CappedText, nullable=True),
    sa.Column("last_error_at", UTCDateTime, nullable=True),
    sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
    sa.PrimaryKeyConstraint("connection_id", "kind", "owner"),
)

# --- push ---------------------------------------------------------------------------

# Written only by the capture triggers (see crmsync.store.capture); no foreign keys, so
# that a trigger can never make an application's write fail.
changes = sa.Table(
    "crmsync_changes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("organization_id", sa.Integer, nullable=False),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    sa.Column("operation", sa.String(8), nullable=False),
    sa.Column("origin", sa.String(8), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # PostgreSQL: the writing transaction's id. Ids from the sequence are taken before the
    # transaction commits, so id order is not commit order; the pusher reads only changes
    # of transactions that are over (below the snapshot's xmin), in (txid, id) order.
    # SQLite commits one writer at a time, so id order is commit order and txid stays 0.
    sa.Column("txid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Index(None, "created_at"),
    sa.Index("ix_crmsync_changes_org_txid_id", "organization_id", "txid", "id"),
    # The pusher's watermark is an id: a pruned newest change must not have its id reused.
    sqlite_autoincrement=True,
)

# SQLite only: the origin marker a writing transaction leaves for the triggers to read.
origin_marker = sa.Table(
    "crmsync_origin",
    metadata,
    sa.Column("origin", sa.String(8), nullable=False),
    # While set, the insert triggers stand aside: the transaction captures its inserts itself.
    sa.Column("own_capture", sa.Boolean, nullable=False, server_default="0"),
)

push_cursors = sa.Table(
    "crmsync_push_cursors",
    metadata,
    sa.Column("connection_id", sa.Integer, sa.ForeignKey("crmsync_connections.id", ondelete="CASCADE")),
    sa.Column("last_change_id", sa.BigInteger, nullable=False),
    sa.Column("last_txid", sa.BigInteger, nullable=False, server_default="0"),
    # PostgreSQL: the snapshots a batch of changes lies between (see store.change_batches).
    sa.Column("snapshot_since", sa.Text, nullable=True),
    sa.Column("snapshot_until", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("connection_id"),
)

push_queue = sa.Table(
    "crmsync_push_queue",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    sa.Column("operation", sa.String(8), nullable=False),
    # The CRM id of a deleted record, kept because its link goes when the row goes.
    sa.Column("crm_id", sa.String(64), nullable=True),
    sa.Column("enqueued_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", CappedText, nullable=True),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "platform_id"),
    sa.Index(None, "connection_id", "next_attempt_at"),
)

# Consecutive push failures per record; three make a lock (locked_at set).
record_failures = sa.Table(
    "crmsync_record_failures",
    metadata,
    _org_fk(),
    _connection_fk(),
    sa.Column("platform_type", sa.String(64), nullable=False),
    sa.Column("platform_id", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_error", CappedText, nullable=False),
    sa.Column("last_error_code", sa.String(64), nullable=True),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    sa.Column("locked_at", UTCDateTime, nullable=True),
    # What the failed push was (upsert or delete) and, for a delete, the CRM record it
    # targeted: archiving the lock or a Resync retries the same thing.
    sa.Column("operation", sa.String(8), nullable=True),
    sa.Column("crm_id", sa.String(64), nullable=True),
    # The record (type:id) whose failure this one followed (a parent that could not be
    # written): its success lifts this record's failures and queues it again.
    sa.Column("waiting_for", sa.String(80), nullable=True),
    sa.PrimaryKeyConstraint("connection_id", "platform_type", "platform_id"),
    sa.Index(None, "organization_id", "locked_at"),
    sa.Index(None, "connection_id", "waiting_for"),
)

# --- keeping in step -----------------------------------------------------------------

org_syncs = sa.Table(
    "crmsync_org_syncs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    _connection_fk(),
    sa.Column("crm_object", sa.String(100), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("interval_minutes", sa.Integer, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    # Set by a fatal error (bad credentials, invalid configuration): status Error until fixed.
    sa.Column("fatal_error", CappedText, nullable=True),
    sa.Column("error_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", CappedText, nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("circuit_opened_at", UTCDateTime, nullable=True),
    sa.Column("last_sync_at", UTCDateTime, nullable=True),
    sa.Column("next_poll_at", UTCDateTime, nullable=True),
    # CDC: the replay id of the last event applied, as the CRM gave it.
    sa.Column("replay_id", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("connection_id", "crm_object"),
)

# --- contact centre: data sources and their links to platform campaigns ----------------

data_sources = sa.Table(
    "crmsync_data_sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    _connection_fk(),
    # Removing the org sync removes its data sources (and, through them, their links).
    sa.Column(
        "org_sync_id", sa.Integer, sa.ForeignKey("crmsync_org_syncs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("crm_object", sa.String(100), nullable=False),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    # Set when the data source or a link changed: the next poll imports every record that
    # matches, not only those changed since the cursor.
    sa.Column("needs_backfill", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("connection_id", "name"),
)

data_source_links = sa.Table(
    "crmsync_data_source_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    sa.Column(
        "data_source_id",
        sa.Integer,
        sa.ForeignKey("crmsync_data_sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The platform campaign; no foreign key, so that the application may drop campaigns freely.
    sa.Column("campaign_id", sa.BigInteger, nullable=False),
    sa.Column("phone_fields", sa.JSON, nullable=False),
    sa.Column("custom_fields", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("data_source_id", "campaign_id"),
)

# --- the admin console: administrators, their sessions, API tokens ----------------------

admins = sa.Table(
    "crmsync_admins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    # Stored case-folded and trimmed: one sign-in name per person across organizations.
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    # argon2id, in the PHC string format (parameters and salt included).
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_sign_in_at", UTCDateTime, nullable=True),
)

# Server-side sessions: the cookie holds a random token, the table only its SHA-256, so a
# leaked database does not hand out sessions; signing out deletes the row.
web_sessions = sa.Table(
    "crmsync_web_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    _org_fk(),
    sa.Column("admin_id", sa.Integer, sa.ForeignKey("crmsync_admins.id", ondelete="CASCADE"), nullable=False),
    # The synchronizer token every form and cookie-authenticated API write must carry.
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "expires_at"),
)

# Bearer tokens for the JSON API, one organization each; only their SHA-256 is stored.
api_tokens = sa.Table(
    "crmsync_api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    _org_fk(),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # The first characters, to tell tokens apart in a list without revealing them.
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)
