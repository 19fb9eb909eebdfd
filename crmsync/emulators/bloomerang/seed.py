"""The ``bloomerang`` seed: a realistic, deterministic database of about N records.

Of N, about 5/105 are households (of two or three individuals sharing an address), 20/105
constituents (individuals in and out of households, one in ten an organization) and 80/105
transactions (see ``seed_gifts``); soft credits and the organization's lists (funds,
campaigns, appeals, email interests, custom fields, including the ``Platform Id`` text
field integrations write their own id into) come on top, a few percent.

History spans the three years before the clock's current day (midnight UTC); ids grow with
creation time, as in the CRM. The same seed on the same day (or under a frozen clock) gives
the same database, ids included. From 2,000 constituents on, a data import stamped one in
ten of them with one ``LastModifiedDate`` (many pages of records sharing one second).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

from . import seed_data as words
from .records import SCREEN_USER
from .seed_gifts import GiftSeeder
from .store import Record, Store

PRESETS = ("bloomerang",)
DAY = 86_400
IMPORT_BURST_MIN = 2000
IMPORT_USER = "Data Import"


def parse_seed_spec(spec: str) -> tuple[str, int]:
    """``bloomerang:N`` as (preset, N); ValueError when malformed."""
    preset, _, size = spec.partition(":")
    if preset not in PRESETS or not size.strip().isdigit() or int(size) < 1:
        raise ValueError(
            f"a seed is PRESET:N with PRESET one of {', '.join(PRESETS)}, e.g. bloomerang:1000; got {spec!r}"
        )
    return preset, int(size)


def seed_database(store: Store, records: int, seed: int = 1) -> dict[str, int]:
    """Replace every record with a seeded database of about ``records`` records."""
    with store.lock:
        store.clear()
        with store.transaction():
            seeder = Seeder(store, records, seed)
            seeder.run()
        return dict(seeder.counts)


class Seeder:
    """Writes one seeded database (the lists and the people; ``GiftSeeder`` the gifts)."""

    def __init__(self, store: Store, records: int, seed: int) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.target = records
        now = store.clock.now()
        self.end = now - now % DAY
        self.start = self.end - 3 * 365 * DAY
        self.counts: Counter[str] = Counter()
        self.lists: dict[str, list[Record]] = {}
        self.fields: dict[str, int] = {}
        self.picks: dict[str, list[int]] = {}
        self.people: list[Record] = []

    def run(self) -> None:
        """Seed everything."""
        self.setup()
        households = round(self.target * 5 / 105)
        constituents = max(1, round(self.target * 20 / 105))
        self.seed_people(households, constituents)
        GiftSeeder(self, max(1, round(self.target * 80 / 105))).run()

    # -- storing ---------------------------------------------------------------------------

    def add(
        self, kind: str, record: Record, created: int, modified: int | None = None, user: str = SCREEN_USER
    ) -> Record:
        """Store a record with its audit trail."""
        record.update(Created=created, CreatedName=user, Modified=modified or created, ModifiedName=user)
        self.store.put(kind, record)
        self.counts[kind] += 1
        return record

    def listed(self, kind: str, sequence: str, values: dict[str, Any]) -> Record:
        """One of the organization's list entries, set up at the start of the history."""
        record = {
            "Id": self.store.next_id(sequence),
            "IsActive": True,
            "SortIndex": self.counts[kind] + 1,
            **values,
        }
        self.lists.setdefault(kind, []).append(record)
        return self.add(kind, record, self.start - DAY)

    # -- the organization's lists ----------------------------------------------------------

    def setup(self) -> None:
        """Funds, campaigns, appeals, email interests and custom fields."""
        for index, (name, active) in enumerate(words.FUNDS):
            self.listed("Fund", "fund", {"Name": name, "IsActive": active, "IsDefault": index == 0})
        first_year = int(_day(self.start)[:4])
        for year in range(first_year, first_year + 4):
            self.listed(
                "Campaign",
                "campaign",
                {
                    "Name": f"{year} Annual Fund",
                    "StartDate": f"{year}-01-01",
                    "EndDate": f"{year}-12-31",
                    "Goal": 250000.0,
                },
            )
        self.listed(
            "Campaign",
            "campaign",
            {"Name": "Capital Campaign", "StartDate": _day(self.start), "Goal": 2000000.0},
        )
        for name in words.APPEALS:
            self.listed("Appeal", "appeal", {"Name": name})
        for name, survey in words.EMAIL_INTERESTS:
            self.listed(
                "EmailInterest",
                "interest",
                {"Name": name, "IsSurveyEmailInterest": survey, "IsDefault": False},
            )
        for object_type, fields in (
            (
                "Constituent",
                (
                    ("Platform Id", "Freeform", ()),
                    ("Donor Level", "PickOne", words.DONOR_LEVELS),
                    ("Volunteer Interests", "PickMultiple", words.VOLUNTEER_INTERESTS),
                ),
            ),
            ("Transaction", (("Platform Id", "Freeform", ()),)),
        ):
            category = self.listed(
                "CustomFieldCategory", "category", {"Name": "Integration", "ObjectType": object_type}
            )
            for name, pick, values in fields:
                field = self.listed(
                    "CustomField",
                    "field",
                    {
                        "Name": name,
                        "ObjectType": object_type,
                        "CategoryId": category["Id"],
                        "DataType": "Text",
                        "PickType": pick,
                        "IsRequired": False,
                    },
                )
                self.fields[f"{object_type}.{name}"] = field["Id"]
                picks = self.picks.setdefault(name, [])
                for value in values:
                    picks.append(
                        self.listed("CustomValue", "value", {"FieldId": field["Id"], "Value": value})["Id"]
                    )

    # -- people ----------------------------------------------------------------------------

    def seed_people(self, households: int, constituents: int) -> None:
        """Households with their members, other individuals and organizations, oldest first."""
        rng = self.rng
        organizations = constituents // 10
        sizes = [2 if rng.random() < 0.6 else 3 for _ in range(households)]
        while sizes and sum(sizes) > constituents - organizations:
            sizes.pop()
        singles = constituents - organizations - sum(sizes)
        units: list[int] = [*sizes, *([1] * singles), *([0] * organizations)]
        rng.shuffle(units)
        moments = sorted(rng.randint(self.start, self.end - 30 * DAY) for _ in units)
        for size, created in zip(units, moments, strict=True):
            if size == 0:
                self.people.append(self.organization(created))
            elif size == 1:
                self.people.append(self.person(created, rng.choice(words.LAST_NAMES), self.address()))
            else:
                self.household(size, created)
        self.import_burst()

    def modified_after(self, created: int) -> int:
        """When a record was last edited: often never, sometimes later, a few lately."""
        roll = self.rng.random()
        if roll < 0.6:
            return created
        if roll < 0.9:
            return self.rng.randint(created, self.end - 1)
        return self.rng.randint(max(created, self.end - 30 * DAY), self.end - 1)

    def address(self) -> dict[str, Any]:
        """A street address in one of the seed's cities."""
        rng = self.rng
        city, state, zip_prefix = rng.choice(words.CITIES)
        street = f"{rng.randint(10, 9999)} {rng.choice(words.STREET_NAMES)} {rng.choice(words.STREET_KINDS)}"
        return {
            "Type": "Home",
            "Street": street,
            "City": city,
            "State": state,
            "PostalCode": f"{zip_prefix}{rng.randint(10, 99)}",
            "Country": "United States",
            "StateAbbreviation": state,
            "CountryCode": "US",
            "IsBad": False,
        }

    def person(
        self, created: int, last: str, address: dict[str, Any], household_id: int | None = None
    ) -> Record:
        """One individual with email, phone and address, some custom values and settings."""
        rng, store = self.rng, self.store
        first = rng.choice(words.FIRST_NAMES)
        record: Record = {
            "Id": store.next_id("account"),
            "AccountNumber": store.next_id("account_number"),
            "Type": "Individual",
            "Status": "Active" if rng.random() > 0.02 else "Deceased",
            "FirstName": first,
            "LastName": last,
            "HouseholdId": household_id,
        }
        if rng.random() < 0.2:
            record["Prefix"] = rng.choice(words.PREFIXES)
        if rng.random() < 0.03:
            record["Suffix"] = rng.choice(words.SUFFIXES)
        if rng.random() < 0.3:
            record["JobTitle"] = rng.choice(words.JOB_TITLES)
        formal = " ".join(p for p in (record.get("Prefix"), first, last) if p)
        record.update(
            FullName=" ".join(p for p in (first, last, record.get("Suffix")) if p),
            InformalName=first,
            FormalName=formal,
            EnvelopeName=formal,
            RecognitionName=f"{first} {last}",
        )
        domain = rng.choice(words.EMAIL_DOMAINS)
        email = f"{first}.{last}{record['AccountNumber']}@{domain}".lower()
        record["Emails"] = [
            {
                "Id": store.next_id("contact"),
                "Type": "Home",
                "Value": email,
                "IsPrimary": True,
                "IsBad": False,
            }
        ]
        record["Phones"] = (
            [
                {
                    "Id": store.next_id("contact"),
                    "Type": rng.choice(("Home", "Mobile")),
                    "Number": self.phone(),
                    "IsPrimary": True,
                }
            ]
            if rng.random() < 0.7
            else []
        )
        record["Addresses"] = [{"Id": store.next_id("contact"), "IsPrimary": True, **address}]
        self.settings(record)
        return self.add("Constituent", record, created, self.modified_after(created))

    def organization(self, created: int) -> Record:
        """A business, foundation or club that gives."""
        rng, store = self.rng, self.store
        name = f"{rng.choice(words.ORG_WORDS)} {rng.choice(words.ORG_KINDS)}"
        record: Record = {
            "Id": store.next_id("account"),
            "AccountNumber": store.next_id("account_number"),
            "Type": "Organization",
            "Status": "Active",
            "FullName": name,
            "InformalName": name,
            "FormalName": name,
            "EnvelopeName": name,
            "RecognitionName": name,
            "HouseholdId": None,
            "Website": f"https://www.{name.split(maxsplit=1)[0].lower()}.example.org",
        }
        email = f"info{record['AccountNumber']}@{name.split(maxsplit=1)[0].lower()}.example.org"
        record["Emails"] = [
            {
                "Id": store.next_id("contact"),
                "Type": "Work",
                "Value": email,
                "IsPrimary": True,
                "IsBad": False,
            }
        ]
        record["Phones"] = [
            {"Id": store.next_id("contact"), "Type": "Work", "Number": self.phone(), "IsPrimary": True}
        ]
        record["Addresses"] = [
            {"Id": store.next_id("contact"), "IsPrimary": True, **self.address(), "Type": "Work"}
        ]
        self.settings(record)
        return self.add("Constituent", record, created, self.modified_after(created))

    def household(self, size: int, created: int) -> None:
        """A household and its members, created together."""
        store = self.store
        last, address = self.rng.choice(words.LAST_NAMES), self.address()
        household_id = store.next_id("account")
        record: Record = {
            "Id": household_id,
            "AccountNumber": store.next_id("account_number"),
            "Status": "Active",
            "CommunicationRestrictions": [],
            "EngagementScore": "Medium",
        }
        members = [self.person(created, last, address, household_id) for _ in range(size)]
        firsts = " and ".join(str(m["FirstName"]) for m in members[:2])
        record.update(
            HeadId=members[0]["Id"],
            FullName=f"{firsts} {last}",
            SortName=f"{last}, {firsts}",
            InformalName=firsts,
            FormalName=f"The {last} Family",
            EnvelopeName=f"The {last} Family",
            RecognitionName=f"{firsts} {last}",
        )
        self.add("Household", record, created, max(int(m["Modified"]) for m in members))
        self.people.extend(members)

    def phone(self) -> str:
        """A formatted US phone number in the fictional 555 range."""
        return f"({self.rng.randint(200, 989)}) 555-{self.rng.randint(100, 199):04d}"

    def settings(self, record: Record) -> None:
        """Communication settings, engagement and custom values."""
        rng = self.rng
        roll = rng.random()
        record["EmailInterestType"] = "All" if roll < 0.85 else ("Custom" if roll < 0.95 else "OptedOut")
        interests = [i["Id"] for i in self.lists["EmailInterest"]]
        record["CustomEmailInterestIds"] = (
            rng.sample(interests, 2) if record["EmailInterestType"] == "Custom" else []
        )
        record["CommunicationRestrictions"] = ["DoNotCall"] if rng.random() < 0.05 else []
        record["PreferredCommunicationChannel"] = rng.choice(("Email", "Email", "Mail", "Phone"))
        record["EngagementScore"] = rng.choice(("Low", "MediumLow", "Medium", "MediumHigh", "High"))
        values: list[dict[str, Any]] = []
        if rng.random() < 0.3:
            level = rng.choice(self.picks["Donor Level"])
            values.append(
                {
                    "FieldId": self.fields["Constituent.Donor Level"],
                    "Value": {"Id": level, "Value": str(self.store.tables["CustomValue"][level]["Value"])},
                }
            )
        if rng.random() < 0.1:
            chosen = sorted(rng.sample(self.picks["Volunteer Interests"], 2))
            values.append(
                {
                    "FieldId": self.fields["Constituent.Volunteer Interests"],
                    "Values": [
                        {"Id": v, "Value": str(self.store.tables["CustomValue"][v]["Value"])} for v in chosen
                    ],
                }
            )
        record["CustomValues"] = values

    def import_burst(self) -> None:
        """A data import that stamped one in ten constituents with one second."""
        if len(self.people) < IMPORT_BURST_MIN:
            return
        moment = self.end - 200 * DAY + 43_210
        older = [p for p in self.people if int(p["Modified"]) < moment]
        for person in self.rng.sample(older, min(len(older), len(self.people) // 10)):
            current = self.store.get("Constituent", person["Id"]) or person
            self.store.put("Constituent", {**current, "Modified": moment, "ModifiedName": IMPORT_USER})


def _day(epoch: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))
