"""CRM times as text (as the CRM gives them) and as aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_crm_datetime(text: str) -> datetime:
    """Parse Salesforce's ``2024-01-31T12:00:00.000+0000`` (or ISO 8601) into aware UTC."""
    cleaned = text.replace("Z", "+00:00")
    if len(cleaned) >= 5 and cleaned[-5] in "+-" and cleaned[-3] != ":":
        cleaned = f"{cleaned[:-2]}:{cleaned[-2:]}"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
