"""Seed records about people and programmes: funds, campaigns, households, contacts, leads,
organizations, subscriptions, campaign members, and contacts already deleted or merged away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import seed_data as words
from .seed_gifts import Gifts

if TYPE_CHECKING:
    from .seed import Seeder

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass
class Person:
    """A seeded contact, kept for the records that point at it."""

    id: str
    account_id: str
    created_ms: int
    first: str
    last: str
    email: str | None


@dataclass
class Dated:
    """A seeded record's id and creation time."""

    id: str
    created_ms: int


class People:
    """Builds the people side of the org, then hands over to ``Gifts``."""

    def __init__(self, seeder: Seeder, counts: dict[str, int], origin_ms: int) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.counts = counts
        self.origin_ms = origin_ms
        # The data migration: the first rows of each big object arrived in one import.
        self.migration_ms = seeder.start_ms + 30 * DAY_MS + 3 * HOUR_MS
        # Last night's rollup job touched many household accounts at the same instant.
        self.rollup_ms = seeder.end_ms - DAY_MS + 2 * HOUR_MS
        self.burst_left: dict[str, int] = {}
        self.gaus: list[Dated] = []
        self.campaigns: list[Dated] = []
        self.households: list[Dated] = []
        self.organizations: list[tuple[Dated, str | None]] = []
        self.contacts: list[Person] = []

    def created(self, object_name: str, parent_ms: int, expected: int) -> tuple[int, bool]:
        """(creation time, migrated?) of the next record of ``object_name``."""
        if object_name not in self.burst_left:
            share = int(expected * 0.3)
            self.burst_left[object_name] = max(share, burst_floor(expected))
        if self.burst_left[object_name] > 0 and parent_ms <= self.migration_ms:
            self.burst_left[object_name] -= 1
            return self.migration_ms, True
        return self.s.moment_after(max(parent_ms, self.migration_ms + 1)), False

    def build(self) -> None:
        """Every record of the seed, parents first."""
        self.funds_and_campaigns()
        self.people()
        self.organizations_and_leads()
        Gifts(self).build()
        self.memberships()
        self.subscriptions()
        self.gone_contacts()

    def funds_and_campaigns(self) -> None:
        """GAUs at the start of the history, campaigns spread over it."""
        for name in words.GAU_NAMES[: self.counts["gaus"]]:
            created = self.origin_ms + HOUR_MS
            gau_id = self.s.add(
                "npsp__General_Accounting_Unit__c",
                {
                    "Name": name,
                    "npsp__Active__c": True,
                    "npsp__Description__c": f"Gifts designated to the {name}",
                },
                created,
            )
            self.gaus.append(Dated(gau_id, created))
        for index in range(self.counts["campaigns"]):
            theme = words.CAMPAIGN_THEMES[index % len(words.CAMPAIGN_THEMES)]
            created = self.s.moment_after(self.origin_ms)
            year = self.s.day(created)[:4]
            start = created + self.rng.randint(0, 20) * DAY_MS
            ended = start + 45 * DAY_MS < self.s.end_ms
            campaign_id = self.s.add(
                "Campaign",
                {
                    "Name": f"{theme} {year}"
                    + (f" #{index // len(words.CAMPAIGN_THEMES) + 1}" if index >= 10 else ""),
                    "Type": self.rng.choice(words.CAMPAIGN_TYPES),
                    "Status": "Completed" if ended else "In Progress",
                    "StartDate": self.s.day(start),
                    "EndDate": self.s.day(start + 45 * DAY_MS),
                    "IsActive": not ended,
                    "ExpectedRevenue": float(self.rng.choice((5000, 10000, 25000, 50000))),
                },
                created,
                modified_ms=self.s.maybe_modified(created),
            )
            self.campaigns.append(Dated(campaign_id, created))

    def _address(self) -> dict[str, str]:
        city, state, zip_prefix = self.rng.choice(words.CITIES)
        number = self.rng.randint(1, 9999)
        street = f"{number} {self.rng.choice(words.STREET_NAMES)} {self.rng.choice(words.STREET_KINDS)}"
        return {
            "street": street,
            "city": city,
            "state": state,
            "zip": f"{zip_prefix}{self.rng.randint(0, 99):02d}",
        }

    def _email(self, first: str, last: str) -> str | None:
        draw = self.rng.random()
        if draw < 0.1:
            return None
        email = f"{first}.{last}{self.rng.randint(1, 9999)}@{self.rng.choice(words.EMAIL_DOMAINS)}".lower()
        # Some people type their address in capitals; matching must fold case.
        return email.upper() if draw > 0.95 else email

    def people(self) -> None:
        """Households with their contacts (and, for a few, NPSP's legacy Household object)."""
        hh_type = self.s.record_types.get(("Account", "HH_Account"))
        households, contacts = self.counts["households"], self.counts["contacts"]
        legacy_share = self.counts["legacy_households"] / households
        while len(self.contacts) < contacts:
            last = self.rng.choice(words.LAST_NAMES)
            created, migrated = self.created("Account", self.origin_ms, households)
            system = self.rollup_ms if self.rng.random() < 0.5 else None
            place = self._address()
            account_id = self.s.add(
                "Account",
                {
                    "Name": f"{last} Household",
                    "RecordTypeId": hh_type,
                    "BillingStreet": place["street"],
                    "BillingCity": place["city"],
                    "BillingState": place["state"],
                    "BillingPostalCode": place["zip"],
                    "BillingCountry": "United States",
                    "npe01__SYSTEM_AccountType__c": "Household Account",
                    "npe01__SYSTEMIsIndividual__c": True,
                },
                created,
                modified_ms=None if migrated else self.s.maybe_modified(created),
                system_ms=system,
            )
            self.households.append(Dated(account_id, created))
            legacy_id = None
            if self.rng.random() < legacy_share:
                legacy_id = self.s.add("npo02__Household__c", {"Name": f"{last} Household"}, created)
            size = self.rng.choices((1, 2, 3), weights=(40, 38, 22))[0]
            for member in range(min(size, contacts - len(self.contacts))):
                family = last if member == 0 or self.rng.random() < 0.8 else self.rng.choice(words.LAST_NAMES)
                self.add_contact(account_id, created, family, place, legacy_id)

    def add_contact(
        self, account_id: str, parent_ms: int, last: str, place: dict[str, str], legacy_id: str | None = None
    ) -> Person:
        """One household member."""
        first = self.rng.choice(words.FIRST_NAMES)
        created, migrated = self.created("Contact", parent_ms, self.counts["contacts"])
        email = self._email(first, last)
        phone = f"({self.rng.randint(201, 989)}) 555-{self.rng.randint(0, 9999):04d}"
        values = {
            "FirstName": first,
            "LastName": last,
            "AccountId": account_id,
            "Email": email,
            "npe01__HomeEmail__c": email,
            "npe01__Preferred_Email__c": "Personal",
            "HomePhone": phone,
            "npe01__PreferredPhone__c": "Home",
            "MailingStreet": place["street"],
            "MailingCity": place["city"],
            "MailingState": place["state"],
            "MailingPostalCode": place["zip"],
            "MailingCountry": "United States",
            "npo02__Household__c": legacy_id,
            "LeadSource": self.rng.choice(("Web", "Phone Inquiry", "Partner Referral", "Other")),
        }
        if self.rng.random() < 0.6:
            values["Birthdate"] = (
                f"{self.rng.randint(1940, 2004)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
            )
        modified = None if migrated else self.s.maybe_modified(created)
        contact_id = self.s.add("Contact", values, created, modified_ms=modified)
        person = Person(contact_id, account_id, created, first, last, email)
        self.contacts.append(person)
        return person

    def organizations_and_leads(self) -> None:
        """Organization accounts (some with a primary contact) and open leads."""
        org_type = self.s.record_types.get(("Account", "Organization"))
        for _ in range(self.counts["organizations"]):
            name = f"{self.rng.choice(words.ORGANIZATION_WORDS)} {self.rng.choice(words.ORGANIZATION_KINDS)}"
            created = self.s.moment_after(self.origin_ms)
            primary = self.rng.choice(self.contacts) if self.rng.random() < 0.5 else None
            if primary is not None:
                created = max(created, primary.created_ms)
            org_id = self.s.add(
                "Account",
                {
                    "Name": name,
                    "RecordTypeId": org_type,
                    "Industry": self.rng.choice(
                        ("Banking", "Healthcare", "Education", "Not For Profit", "Retail")
                    ),
                    "Website": f"https://www.{name.split(maxsplit=1)[0].lower()}.example.org",
                    "Phone": f"({self.rng.randint(201, 989)}) 555-{self.rng.randint(0, 9999):04d}",
                    "npe01__One2OneContact__c": primary.id if primary else None,
                    "npe01__SYSTEM_AccountType__c": "Organization",
                },
                created,
                modified_ms=self.s.maybe_modified(created),
            )
            self.organizations.append((Dated(org_id, created), primary.id if primary else None))
        for _ in range(self.counts["leads"]):
            first, last = self.rng.choice(words.FIRST_NAMES), self.rng.choice(words.LAST_NAMES)
            created = self.s.moment_after(self.origin_ms)
            self.s.add(
                "Lead",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Company": f"{last} Household"
                    if self.rng.random() < 0.7
                    else self.rng.choice(words.ORGANIZATION_WORDS),
                    "Email": self._email(first, last),
                    "Status": self.rng.choice(("Open - Not Contacted", "Working - Contacted")),
                    "LeadSource": self.rng.choice(("Web", "Purchased List", "Other")),
                },
                created,
                modified_ms=self.s.maybe_modified(created),
            )

    def memberships(self) -> None:
        """Campaign members: distinct (campaign, contact) pairs."""
        seen: set[tuple[int, int]] = set()
        wanted = min(self.counts["campaign_members"], len(self.campaigns) * len(self.contacts))
        while len(seen) < wanted:
            pair = (self.rng.randrange(len(self.campaigns)), self.rng.randrange(len(self.contacts)))
            if pair in seen:
                continue
            seen.add(pair)
            campaign, person = self.campaigns[pair[0]], self.contacts[pair[1]]
            created = self.s.moment_after(max(campaign.created_ms, person.created_ms))
            self.s.add(
                "CampaignMember",
                {
                    "CampaignId": campaign.id,
                    "ContactId": person.id,
                    "Status": self.rng.choice(("Sent", "Responded")),
                },
                created,
            )

    def subscriptions(self) -> None:
        """Communication subscriptions, at most one per contact and list."""
        seen: set[tuple[int, int]] = set()
        lists = words.SUBSCRIPTION_LISTS
        wanted = min(self.counts["subscriptions"], len(lists) * len(self.contacts))
        while len(seen) < wanted:
            pair = (self.rng.randrange(len(self.contacts)), self.rng.randrange(len(lists)))
            if pair in seen:
                continue
            seen.add(pair)
            person, list_name = self.contacts[pair[0]], lists[pair[1]]
            created = self.s.moment_after(person.created_ms)
            status = self.rng.choices(("Subscribed", "Unsubscribed", "Pending"), weights=(80, 15, 5))[0]
            left = self.s.moment_after(created) if status == "Unsubscribed" else None
            self.s.add(
                "Communication_Subscription__c",
                {
                    "Name": f"{list_name} - {person.first} {person.last}"[:80],
                    "Contact__c": person.id,
                    "List_Name__c": list_name,
                    "Channel__c": self.rng.choices(("Email", "SMS", "Mail"), weights=(80, 12, 8))[0],
                    "Status__c": status,
                    "Subscribed_Date__c": self.s.stamp(created),
                    "Unsubscribed_Date__c": self.s.stamp(left) if left else None,
                    "Source__c": self.rng.choice(words.SUBSCRIPTION_SOURCES),
                },
                created,
                modified_ms=left,
            )

    def gone_contacts(self) -> None:
        """Contacts deleted lately, and duplicates merged into a surviving contact."""
        org = self.s.org
        for _ in range(self.counts["deleted_contacts"]):
            household = self.rng.choice(self.households)
            person = self.add_contact(
                household.id, household.created_ms, self.rng.choice(words.LAST_NAMES), self._address()
            )
            self.contacts.pop()
            gone = self.s.stamp(self.s.end_ms - self.rng.randint(1, 10) * DAY_MS)
            row = org.get("Contact", person.id)
            if row is not None:
                org.change(row, {"IsDeleted": True, "LastModifiedDate": gone, "SystemModstamp": gone})
        for _ in range(self.counts["merged_contacts"]):
            master = self.rng.choice(self.contacts)
            merged_ms = self.s.end_ms - self.rng.randint(1, 10) * DAY_MS
            duplicate = self.add_contact(master.account_id, master.created_ms, master.last, self._address())
            self.contacts.pop()
            loser = org.get("Contact", duplicate.id)
            survivor = org.get("Contact", master.id)
            if loser is None or survivor is None:
                continue
            gone = self.s.stamp(merged_ms)
            changes = {"FirstName": master.first, "Name": f"{master.first} {master.last}", "IsDeleted": True}
            changes |= {"LastModifiedDate": gone, "SystemModstamp": gone, "MasterRecordId": master.id}
            if master.email:
                changes["Email"] = master.email.upper()
            org.change(loser, {key: value for key, value in changes.items() if key in loser})
            if survivor["SystemModstamp"] < gone:
                org.change(survivor, {"LastModifiedDate": gone, "SystemModstamp": gone})


def burst_floor(expected: int) -> int:
    """Big objects get a burst large enough to span more than one 2,000-row query page."""
    return 2001 if expected >= 4000 else 0
