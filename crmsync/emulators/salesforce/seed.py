"""The ``npsp`` seed: a realistic, deterministic Nonprofit Success Pack org of about N records.

Households (Account, record type HH_Account) hold one to three Contacts; organizations give
grants; Opportunities (about a third of all records) are mostly Closed Won with a Payment,
some Pledged, a few Closed Lost; Recurring Donations have installment Opportunities;
Allocations split gifts over funds (GAUs); Campaign Members, Contact Roles, Partial Soft
Credits and Communication Subscriptions complete the picture.

Timestamps spread over the three years before the org clock's current day (midnight UTC),
so the same seed on the same day (or under the same frozen clock) gives the same org, ids
included. Two bursts reproduce what breaks naive incremental syncs: a data migration that
stamped thousands of rows of one object with one ``SystemModstamp``, and a nightly rollup
that moved ``SystemModstamp`` (not ``LastModifiedDate``) of many household accounts at once.
A few Contacts are already deleted or merged away; only ``queryAll`` shows them.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import format_datetime
from .org import Org
from .seed_data import RECORD_TYPES, USERS
from .seed_people import People

# Seed presets (``--seed PRESET:N``); ``presets.seed_preset`` builds each.
PRESETS = ("npsp", "customer-success")
DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A burst shares one SystemModstamp; beyond 2,000 rows it spans more than one query page.
BURST_MIN_ROWS = 2001
BURST_OBJECT_MIN = 4000
PAYMENTS_PER_OPPORTUNITY = 0.92


class Seeder:
    """Writes one seeded org; ``People`` makes the records, this class stamps and stores them."""

    def __init__(self, org: Org, records: int, seed: int) -> None:
        self.org = org
        self.rng = random.Random(seed)
        self.target = records
        today = org.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.end_ms = int((today - _EPOCH).total_seconds() * 1000)
        self.start_ms = self.end_ms - 3 * 365 * DAY_MS
        self.users: list[str] = [org.user_id]
        self.record_types: dict[tuple[str, str], str] = {}
        self.counts: Counter[str] = Counter()
        self.present = set(org.catalog.objects)

    # -- time ------------------------------------------------------------------------------

    @staticmethod
    def stamp(ms: int) -> str:
        """Epoch milliseconds as a Salesforce dateTime."""
        return format_datetime(_EPOCH + timedelta(milliseconds=ms))

    @staticmethod
    def day(ms: int) -> str:
        """Epoch milliseconds as a date."""
        return (_EPOCH + timedelta(milliseconds=ms)).date().isoformat()

    def moment_after(self, earliest_ms: int) -> int:
        """A random moment between ``earliest_ms`` and the end of the seeded history."""
        earliest = max(earliest_ms, self.start_ms)
        return self.rng.randint(earliest, max(earliest, self.end_ms - 1))

    # -- storing ---------------------------------------------------------------------------

    def add(
        self,
        object_name: str,
        values: dict[str, Any],
        created_ms: int,
        *,
        modified_ms: int | None = None,
        system_ms: int | None = None,
        user: str | None = None,
    ) -> str:
        """Store one record with its audit fields; returns its id ('' when the catalog lacks it)."""
        if object_name not in self.present:
            return ""
        obj = self.org.catalog.objects[object_name]
        record_id = self.org.sequences.mint(obj.key_prefix)
        author = user or self.rng.choice(self.users)
        modified = created_ms if modified_ms is None else max(modified_ms, created_ms)
        system = modified if system_ms is None else max(system_ms, modified)
        values["Id"] = record_id
        values["CreatedDate"] = self.stamp(created_ms)
        values["CreatedById"] = author
        values["LastModifiedDate"] = self.stamp(modified)
        values["LastModifiedById"] = author
        values["SystemModstamp"] = self.stamp(system)
        values.setdefault("OwnerId", author)
        self.org.add_complete(object_name, values)
        self.counts[object_name] += 1
        return record_id

    def maybe_modified(self, created_ms: int) -> int:
        """Two records in five were edited again after they were created."""
        return self.moment_after(created_ms) if self.rng.random() < 0.4 else created_ms

    # -- fixed reference data ----------------------------------------------------------------

    def setup(self) -> int:
        """Users and record types, created on the first day of the history; returns its epoch ms."""
        origin = self.start_ms - DAY_MS
        for first, last, title, login in USERS:
            self.users.append(
                self.add(
                    "User",
                    {
                        "FirstName": first,
                        "LastName": last,
                        "Title": title,
                        "Username": f"{login}@npsp.example.org",
                        "Email": f"{login}@npsp.example.org",
                        "Alias": login[:8],
                        "IsActive": True,
                    },
                    origin,
                    user=self.org.user_id,
                )
            )
        self.users = [user for user in self.users if user]
        for developer_name, label, sobject in RECORD_TYPES:
            self.record_types[(sobject, developer_name)] = self.add(
                "RecordType",
                {"Name": label, "DeveloperName": developer_name, "SobjectType": sobject, "IsActive": True},
                origin,
                user=self.org.user_id,
            )
        return origin


def plan(records: int) -> dict[str, int]:
    """How many records of each kind make about ``records`` in total."""
    budget = max(records - 30, 40)
    shares = {
        "households": 0.055,
        "organizations": 0.006,
        "contacts": 0.10,
        "leads": 0.01,
        "legacy_households": 0.002,
        "recurring": 0.01,
        "opportunities": 0.35,
        "campaign_members": 0.04,
        "subscriptions": 0.03,
        "contact_roles": 0.06,
        "allocations": 0.03,
        "soft_credits": 0.01,
        "account_soft_credits": 0.003,
    }
    # Won gifts (and half the pledges) bring a payment each: about 0.92 per opportunity.
    expected = sum(shares.values()) + PAYMENTS_PER_OPPORTUNITY * shares["opportunities"]
    counts = {name: max(1, round(budget * share / expected)) for name, share in shares.items()}
    counts["gaus"] = max(3, min(12, records // 2000))
    counts["campaigns"] = max(3, min(60, records // 1500))
    counts["deleted_contacts"] = max(2, records // 5000)
    counts["merged_contacts"] = max(2, records // 5000)
    return counts


def seed_npsp(org: Org, records: int, seed: int = 1) -> dict[str, int]:
    """Replace the org's records with a seeded NPSP org of about ``records`` records."""
    if records < 1:
        raise ValueError("records must be a positive number")
    # A seed sets up the org (like a sandbox refresh): it makes no change events.
    with org.lock, org.capture_paused():
        org.reset()
        seeder = Seeder(org, records, seed)
        origin = seeder.setup()
        People(seeder, plan(records), origin).build()
        org.flush()
        return dict(sorted(seeder.counts.items()))


def parse_seed_spec(spec: str) -> tuple[str, int]:
    """``npsp:100000`` -> (``npsp``, 100000); ValueError says what is wrong."""
    preset, _, size = spec.partition(":")
    if preset not in PRESETS:
        raise ValueError(f"unknown seed preset {preset!r}; known: {', '.join(PRESETS)}")
    try:
        count = int(size) if size else 1000
    except ValueError:
        raise ValueError(f"seed size must be a number of records, e.g. npsp:1000 (got {size!r})") from None
    if count < 1:
        raise ValueError("seed size must be a positive number of records")
    return preset, count
