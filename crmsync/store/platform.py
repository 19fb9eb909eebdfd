"""The platform's own tables: the donation platform that the ``npsp`` profile syncs.

In a real deployment these belong to the application; crmsync ships them so that the
embedded default and the demo have a platform to sync into. Lookup columns are foreign keys
with ON DELETE SET NULL, so removing a parent never deletes an application's row silently.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmsync.store.tables import metadata
from crmsync.store.types import UTCDateTime

Money = sa.Numeric(18, 2)


def _platform_table(
    name: str, *columns: sa.Column[object], parents: dict[str, str] | None = None
) -> sa.Table:
    lookups = [
        sa.Column(column, sa.BigInteger, sa.ForeignKey(f"{target}.id", ondelete="SET NULL"), index=True)
        for column, target in (parents or {}).items()
    ]
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column(
            "organization_id",
            sa.Integer,
            sa.ForeignKey("crmsync_organizations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        *lookups,
        *columns,
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        info={"platform": True},
        # Never reuse the id of a deleted row: links, changes and the CRM's platform-id
        # field name records by id.
        sqlite_autoincrement=True,
    )


def platform_type_table(
    name: str, *columns: sa.Column[object], parents: dict[str, str] | None = None
) -> sa.Table:
    """Declare a platform table with the standard columns (used by the other platforms' modules)."""
    return _platform_table(name, *columns, parents=parents)


def _address() -> list[sa.Column[object]]:
    return [
        sa.Column("street", sa.Text),
        sa.Column("city", sa.String(100)),
        sa.Column("state", sa.String(100)),
        sa.Column("postal_code", sa.String(40)),
        sa.Column("country", sa.String(100)),
    ]


def match_index(table: sa.Table, column: str) -> sa.Index:
    """The index that finds a matching rule's candidates when the rule starts with an id column:
    by organization and that column. Rules that start with text are looked up through the keys
    crmsync stores itself (crmsync.store.match_keys), not through an index on the application's
    table."""
    if isinstance(table.c[column].type, sa.String):
        raise ValueError(f"{table.name}.{column} holds text: its rules are matched by stored keys")
    return sa.Index(f"ix_{table.name}_org_{column}", table.c.organization_id, table.c[column])


funds = _platform_table(
    "funds",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("active", sa.Boolean),
)

households = _platform_table(
    "households",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("phone", sa.String(40)),
    *_address(),
)

supporters = _platform_table(
    "supporters",
    sa.Column("first_name", sa.String(80)),
    sa.Column("last_name", sa.String(80), nullable=False),
    sa.Column("email", sa.String(255)),
    sa.Column("phone", sa.String(40)),
    sa.Column("mobile_phone", sa.String(40)),
    sa.Column("title", sa.String(128)),
    sa.Column("birthdate", sa.Date),
    *_address(),
    sa.Column("do_not_contact", sa.Boolean),
    sa.Column("email_opt_out", sa.Boolean),
    parents={"household_id": "households"},
)

organizations = _platform_table(
    "organizations",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("website", sa.String(255)),
    sa.Column("industry", sa.String(100)),
    *_address(),
    parents={"primary_contact_id": "supporters"},
)

campaigns = _platform_table(
    "campaigns",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("type", sa.String(100)),
    sa.Column("status", sa.String(100)),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("is_active", sa.Boolean),
    sa.Column("expected_revenue", Money),
    sa.Column("description", sa.Text),
)

recurring_donations = _platform_table(
    "recurring_donations",
    sa.Column("name", sa.String(255)),
    sa.Column("amount", Money),
    sa.Column("installment_period", sa.String(40)),
    sa.Column("installments", sa.Integer),
    sa.Column("date_established", sa.Date),
    sa.Column("next_payment_date", sa.Date),
    sa.Column("status", sa.String(40)),
    sa.Column("day_of_month", sa.String(8)),
    sa.Column("payment_method", sa.String(40)),
    parents={
        "supporter_id": "supporters",
        "household_id": "households",
        "donor_organization_id": "organizations",
        "campaign_id": "campaigns",
    },
)

_GIFT_PARENTS = {
    "supporter_id": "supporters",
    "household_id": "households",
    "donor_organization_id": "organizations",
    "campaign_id": "campaigns",
}

pledges = _platform_table(
    "pledges",
    sa.Column("name", sa.String(255)),
    sa.Column("amount", Money),
    sa.Column("pledged_on", sa.Date),
    sa.Column("stage", sa.String(40)),
    sa.Column("description", sa.Text),
    parents=_GIFT_PARENTS,
)

# Appeals (Bloomerang): the solicitation a gift answered, next to its campaign.
appeals = _platform_table(
    "appeals",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean),
)

transactions = _platform_table(
    "transactions",
    sa.Column("name", sa.String(255)),
    sa.Column("amount", Money),
    sa.Column("close_date", sa.Date),
    sa.Column("stage", sa.String(40)),
    sa.Column("description", sa.Text),
    sa.Column("acknowledgment_status", sa.String(40)),
    sa.Column("payment_method", sa.String(40)),
    parents={
        **_GIFT_PARENTS,
        "recurring_donation_id": "recurring_donations",
        "pledge_id": "pledges",
        "appeal_id": "appeals",
    },
)

transaction_payments = _platform_table(
    "transaction_payments",
    sa.Column("amount", Money),
    sa.Column("payment_date", sa.Date),
    sa.Column("scheduled_date", sa.Date),
    sa.Column("paid", sa.Boolean),
    sa.Column("payment_method", sa.String(40)),
    sa.Column("check_reference", sa.String(255)),
    parents={"transaction_id": "transactions"},
)

fund_allocations = _platform_table(
    "fund_allocations",
    sa.Column("amount", Money),
    sa.Column("percent", sa.Numeric(9, 6)),
    parents={
        "fund_id": "funds",
        "transaction_id": "transactions",
        "pledge_id": "pledges",
        "recurring_donation_id": "recurring_donations",
        "campaign_id": "campaigns",
    },
)

campaign_members = _platform_table(
    "campaign_members",
    sa.Column("status", sa.String(40)),
    parents={"campaign_id": "campaigns", "supporter_id": "supporters"},
)
match_index(campaign_members, "campaign_id")

soft_credits = _platform_table(
    "soft_credits",
    sa.Column("amount", Money),
    sa.Column("role", sa.String(255)),
    parents={
        "supporter_id": "supporters",
        "transaction_id": "transactions",
        "pledge_id": "pledges",
        "donor_organization_id": "organizations",
    },
)

subscriptions = _platform_table(
    "subscriptions",
    sa.Column("list_name", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(20)),
    sa.Column("status", sa.String(20)),
    sa.Column("subscribed_at", UTCDateTime),
    sa.Column("unsubscribed_at", UTCDateTime),
    sa.Column("source", sa.String(255)),
    parents={"supporter_id": "supporters"},
)
match_index(subscriptions, "supporter_id")


# --- the contact-centre platform (profile contact-center) -----------------------------

cc_contacts = _platform_table(
    "cc_contacts",
    sa.Column("first_name", sa.String(80)),
    sa.Column("last_name", sa.String(80), nullable=False),
    sa.Column("email", sa.String(255)),
    sa.Column("phone", sa.String(40)),
    sa.Column("mobile_phone", sa.String(40)),
    sa.Column("do_not_call", sa.Boolean),
)

cc_leads = _platform_table(
    "cc_leads",
    sa.Column("first_name", sa.String(80)),
    sa.Column("last_name", sa.String(80), nullable=False),
    sa.Column("company", sa.String(255)),
    sa.Column("email", sa.String(255)),
    sa.Column("phone", sa.String(40)),
    sa.Column("mobile_phone", sa.String(40)),
    sa.Column("status", sa.String(40)),
    sa.Column("do_not_call", sa.Boolean),
)

# The application's dialer campaigns. crmsync only imports into them (through data source
# links); it never creates or deletes a campaign.
cc_campaigns = _platform_table(
    "cc_campaigns",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text),
)

# A CRM record imported into a campaign: its phone numbers and custom fields as a data
# source link maps them. Kept when the link or org sync goes ("records already imported stay").
cc_campaign_contacts = _platform_table(
    "cc_campaign_contacts",
    sa.Column("crm_object", sa.String(100), nullable=False),
    sa.Column("crm_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255)),
    sa.Column("phone_numbers", sa.JSON, nullable=False),
    sa.Column("custom_fields", sa.JSON, nullable=False),
    sa.Column("data_source", sa.String(100)),
    parents={"campaign_id": "cc_campaigns"},
)
sa.Index(
    "ix_cc_campaign_contacts_record",
    cc_campaign_contacts.c.organization_id,
    cc_campaign_contacts.c.campaign_id,
    cc_campaign_contacts.c.crm_object,
    cc_campaign_contacts.c.crm_id,
    unique=True,
)


# The customer-success platform (profile customer-success) lives in its own module.
from crmsync.store import platform_cs as _customer_success  # noqa: E402, F401


def platform_tables() -> dict[str, sa.Table]:
    """Every platform table, by platform type."""
    return {name: table for name, table in metadata.tables.items() if table.info.get("platform")}


def platform_table(platform_type: str) -> sa.Table:
    """The table of ``platform_type``; KeyError if the platform has none."""
    table = metadata.tables.get(platform_type)
    if table is None or not table.info.get("platform"):
        raise KeyError(platform_type)
    return table
