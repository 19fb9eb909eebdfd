"""The customer-success platform that the ``customer-success`` profile syncs.

Like the donation platform in ``platform``, these tables stand for an application's own:
its team (the CRM's users, pulled only), the companies it serves and their end users, and
what hangs off a company: notes, tasks, licenses, assets, projects, tickets. A few columns
are the platform's own attributes that no default field maps (``health_score``,
``last_seen_at``): a connection may custom-map them onto fields of its org, and
``cs_opportunities`` is a table the profile leaves unmapped, for a custom-mapped section.
"""

from __future__ import annotations

import sqlalchemy as sa

from crmsync.store.platform import Money, platform_type_table
from crmsync.store.types import UTCDateTime

_OWNED = {"owner_id": "cs_team"}
_OF_COMPANY = {"company_id": "cs_companies", **_OWNED}

cs_team = platform_type_table(
    "cs_team",
    sa.Column("username", sa.String(80)),
    sa.Column("first_name", sa.String(40)),
    sa.Column("last_name", sa.String(80), nullable=False),
    sa.Column("email", sa.String(128)),
    sa.Column("title", sa.String(80)),
    sa.Column("department", sa.String(80)),
    sa.Column("active", sa.Boolean),
)

cs_companies = platform_type_table(
    "cs_companies",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("account_type", sa.String(40)),
    sa.Column("industry", sa.String(40)),
    sa.Column("website", sa.String(255)),
    sa.Column("phone", sa.String(40)),
    sa.Column("employees", sa.Integer),
    sa.Column("annual_revenue", Money),
    sa.Column("street", sa.Text),
    sa.Column("city", sa.String(40)),
    sa.Column("state", sa.String(80)),
    sa.Column("postal_code", sa.String(20)),
    sa.Column("country", sa.String(80)),
    sa.Column("description", sa.Text),
    # The platform's own attributes (its scoring job writes them with origin "system").
    sa.Column("health_score", sa.Integer),
    sa.Column("customer_since", sa.Date),
    parents=_OWNED,
)

cs_end_users = platform_type_table(
    "cs_end_users",
    sa.Column("first_name", sa.String(40)),
    sa.Column("last_name", sa.String(80), nullable=False),
    sa.Column("email", sa.String(255)),
    sa.Column("phone", sa.String(40)),
    sa.Column("title", sa.String(128)),
    sa.Column("department", sa.String(80)),
    sa.Column("last_seen_at", UTCDateTime),
    parents=_OF_COMPANY,
)

cs_notes = platform_type_table(
    "cs_notes",
    sa.Column("title", sa.String(80), nullable=False),
    sa.Column("body", sa.Text),
    sa.Column("private", sa.Boolean),
    parents={**_OF_COMPANY, "end_user_id": "cs_end_users"},
)

cs_tasks = platform_type_table(
    "cs_tasks",
    sa.Column("subject", sa.String(255)),
    sa.Column("status", sa.String(40)),
    sa.Column("priority", sa.String(40)),
    sa.Column("due_date", sa.Date),
    sa.Column("description", sa.Text),
    parents={**_OF_COMPANY, "end_user_id": "cs_end_users"},
)

cs_licenses = platform_type_table(
    "cs_licenses",
    sa.Column("name", sa.String(80)),
    sa.Column("product", sa.String(40)),
    sa.Column("seats", sa.Integer),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("status", sa.String(40)),
    sa.Column("annual_value", Money),
    parents=_OF_COMPANY,
)

cs_assets = platform_type_table(
    "cs_assets",
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("serial_number", sa.String(80)),
    sa.Column("status", sa.String(40)),
    sa.Column("quantity", sa.Numeric(18, 2)),
    sa.Column("price", Money),
    sa.Column("purchase_date", sa.Date),
    sa.Column("install_date", sa.Date),
    sa.Column("usage_end_date", sa.Date),
    parents={**_OF_COMPANY, "end_user_id": "cs_end_users"},
)

cs_projects = platform_type_table(
    "cs_projects",
    sa.Column("name", sa.String(80)),
    sa.Column("status", sa.String(40)),
    sa.Column("start_date", sa.Date),
    sa.Column("due_date", sa.Date),
    sa.Column("description", sa.Text),
    parents=_OF_COMPANY,
)

# Not mapped by the profile: a connection may map it onto Opportunity (renewals, upsells) as
# a custom-mapped section.
cs_opportunities = platform_type_table(
    "cs_opportunities",
    sa.Column("name", sa.String(120)),
    sa.Column("amount", Money),
    sa.Column("close_date", sa.Date),
    sa.Column("stage", sa.String(40)),
    parents=_OF_COMPANY,
)

cs_tickets = platform_type_table(
    "cs_tickets",
    sa.Column("case_number", sa.String(30)),
    sa.Column("subject", sa.String(255)),
    sa.Column("description", sa.Text),
    sa.Column("status", sa.String(40)),
    sa.Column("priority", sa.String(40)),
    sa.Column("origin", sa.String(40)),
    sa.Column("ticket_type", sa.String(40)),
    parents={**_OF_COMPANY, "end_user_id": "cs_end_users", "asset_id": "cs_assets"},
)

TABLES = (
    "cs_team",
    "cs_companies",
    "cs_end_users",
    "cs_notes",
    "cs_tasks",
    "cs_licenses",
    "cs_assets",
    "cs_projects",
    "cs_opportunities",
    "cs_tickets",
)
