"""match indexes: the first column of every built-in matching rule is indexed as it is compared

A pull whose page creates records of a type with matching rules asks, for the page's keys,
whether a platform row without a link matches one (text case-folded and trimmed, within an
organization). Supporters and end users had such an index; these are the rest.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (table, column) of each index, named ix_<table>_<column>_norm.
_MATCHED = (
    ("funds", "name"),
    ("organizations", "name"),
    ("campaigns", "name"),
    ("appeals", "name"),
    ("cc_contacts", "email"),
    ("cc_leads", "email"),
    ("cs_team", "email"),
    ("cs_companies", "name"),
)


# (table, column) of the id columns a compound rule starts with: ix_<table>_org_<column>.
_MATCHED_IDS = (("campaign_members", "campaign_id"), ("subscriptions", "supporter_id"))


def upgrade() -> None:
    for table, column in _MATCHED:
        op.create_index(
            f"ix_{table}_{column}_norm", table, ["organization_id", sa.text(f"lower(trim({column}))")]
        )
    for table, column in _MATCHED_IDS:
        op.create_index(f"ix_{table}_org_{column}", table, ["organization_id", column])


def downgrade() -> None:
    for table, column in reversed(_MATCHED_IDS):
        op.drop_index(f"ix_{table}_org_{column}", table_name=table)
    for table, column in reversed(_MATCHED):
        op.drop_index(f"ix_{table}_{column}_norm", table_name=table)
