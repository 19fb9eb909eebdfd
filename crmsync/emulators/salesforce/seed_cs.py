"""The ``customer-success`` seed: a software vendor's org as a customer-success team sees it.

Customer-success managers (Users) own accounts: most are customers (``Customer - Direct`` or
``Customer - Channel``), some prospects and partners. Each account has contacts (the end
users of the product), notes, tasks, licenses (``License__c``), assets, onboarding projects
(``Project__c``), support cases and a renewal opportunity. Customers carry a health score
and a customer-since date (custom fields of Account). Same seed, same clock day: same org.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import seed_data as words
from .seed import Seeder

if TYPE_CHECKING:
    from .org import Org

DAY_MS = 86_400_000

# First name, last name, title and login of the customer-success team.
CS_USERS = (
    ("Nora", "Lindqvist", "VP Customer Success", "nora.lindqvist"),
    ("Sam", "Achebe", "Customer Success Manager", "sam.achebe"),
    ("Priya", "Raman", "Customer Success Manager", "priya.raman"),
    ("Tom", "Keller", "Customer Success Manager", "tom.keller"),
    ("Ines", "Duarte", "Onboarding Specialist", "ines.duarte"),
    ("Max", "Brandt", "Support Engineer", "max.brandt"),
)
ACCOUNT_TYPES = (("Customer - Direct", 55), ("Customer - Channel", 15), ("Prospect", 20), ("Other", 10))
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
    "Wonka", "Cyberdyne", "Aperture", "Massive", "Gringotts", "Oscorp", "Pied Piper", "Monarch",
)  # fmt: skip
COMPANY_KINDS = ("Labs", "Systems", "Logistics", "Health", "Foods", "Analytics", "Retail", "Energy", "Media")
INDUSTRIES = ("Technology", "Healthcare", "Retail", "Manufacturing", "Finance", "Media", "Energy")
TASK_SUBJECTS = ("Kick-off call", "Quarterly business review", "Renewal check-in", "Send usage report",
                 "Follow up on ticket", "Training session", "Executive sponsor intro")  # fmt: skip
NOTE_TITLES = ("Call notes", "QBR summary", "Risk flagged", "Expansion idea", "Onboarding status")
CASE_SUBJECTS = ("Cannot log in", "Export fails", "Question about billing", "Feature request: SSO",
                 "Slow dashboard", "Integration error")  # fmt: skip
PRODUCTS = ("Starter", "Professional", "Enterprise")
# Share of the records of each kind (about N records in total).
SHARES = {
    "accounts": 0.10,
    "contacts": 0.30,
    "notes": 0.10,
    "tasks": 0.15,
    "licenses": 0.07,
    "assets": 0.08,
    "projects": 0.04,
    "cases": 0.11,
    "opportunities": 0.05,
}


def plan_cs(records: int) -> dict[str, int]:
    """How many records of each kind make about ``records`` in total."""
    budget = max(records - len(CS_USERS), 10)
    return {name: max(1, round(budget * share)) for name, share in SHARES.items()}


class CustomerSuccessSeed:
    """Builds the customer-success org on a ``Seeder`` (which stamps and stores records)."""

    def __init__(self, seeder: Seeder) -> None:
        self.s = seeder
        self.rng = seeder.rng
        self.counts = plan_cs(seeder.target)
        self.csms: list[str] = []
        # (account id, created ms, is customer)
        self.accounts: list[tuple[str, int, bool]] = []
        self.contacts: dict[str, list[str]] = {}
        self.assets: dict[str, list[str]] = {}

    def build(self) -> None:
        """Users, then accounts with everything that hangs off them."""
        origin = self.s.start_ms - DAY_MS
        for first, last, title, login in CS_USERS:
            user_id = self.s.add(
                "User",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Title": title,
                    "Department": "Customer Success",
                    "Username": f"{login}@cs.example.com",
                    "Email": f"{login}@cs.example.com",
                    "Alias": login[:8],
                    "IsActive": True,
                },
                origin,
                user=self.s.org.user_id,
            )
            self.csms.append(user_id)
        self.s.users = list(self.csms)
        for _ in range(self.counts["accounts"]):
            self.account()
        self.spread("contacts", self.contact)
        self.spread("notes", self.note)
        self.spread("tasks", self.task)
        self.spread("licenses", self.license, customers_only=True)
        self.spread("assets", self.asset, customers_only=True)
        self.spread("projects", self.project, customers_only=True)
        self.spread("cases", self.case, customers_only=True)
        self.spread("opportunities", self.renewal, customers_only=True)

    def spread(self, kind: str, make: Any, *, customers_only: bool = False) -> None:
        """``counts[kind]`` records over the accounts (every account gets one before any gets two)."""
        pool = [a for a in self.accounts if a[2] or not customers_only] or self.accounts
        for index in range(self.counts[kind]):
            make(*pool[index % len(pool)][:2])

    def account(self) -> None:
        """One account; customers carry a health score and a customer-since date."""
        kind = self.rng.choices([t for t, _ in ACCOUNT_TYPES], weights=[w for _, w in ACCOUNT_TYPES])[0]
        customer = kind.startswith("Customer")
        name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(COMPANY_KINDS)} {len(self.accounts) + 1}"
        created = self.s.moment_after(self.s.start_ms)
        city, state, zip_prefix = self.rng.choice(words.CITIES)
        values: dict[str, Any] = {
            "Name": name,
            "Type": kind,
            "Industry": self.rng.choice(INDUSTRIES),
            "Website": f"https://www.{name.split(maxsplit=1)[0].lower()}{len(self.accounts) + 1}.example.com",
            "Phone": f"({self.rng.randint(201, 989)}) 555-{self.rng.randint(0, 9999):04d}",
            "NumberOfEmployees": self.rng.choice((12, 45, 120, 480, 2500, 12000)),
            "AnnualRevenue": float(self.rng.choice((1, 5, 20, 80, 400))) * 1_000_000,
            "BillingStreet": f"{self.rng.randint(1, 999)} {self.rng.choice(words.STREET_NAMES)} St",
            "BillingCity": city,
            "BillingState": state,
            "BillingPostalCode": f"{zip_prefix}{self.rng.randint(0, 99):02d}",
            "BillingCountry": "United States",
            "OwnerId": self.rng.choice(self.csms[1:4]),
        }
        if customer:
            values["Health_Score__c"] = self.rng.randint(20, 100)
            values["Customer_Since__c"] = self.s.day(created)
        account_id = self.s.add("Account", values, created, modified_ms=self.s.maybe_modified(created))
        self.accounts.append((account_id, created, customer))

    def contact(self, account_id: str, parent_ms: int) -> None:
        """An end user of the product at the account."""
        first, last = self.rng.choice(words.FIRST_NAMES), self.rng.choice(words.LAST_NAMES)
        created = self.s.moment_after(parent_ms)
        number = sum(len(v) for v in self.contacts.values()) + 1
        contact_id = self.s.add(
            "Contact",
            {
                "FirstName": first,
                "LastName": last,
                "AccountId": account_id,
                "Email": f"{first}.{last}{number}@{self.rng.choice(words.EMAIL_DOMAINS)}".lower(),
                "Phone": f"({self.rng.randint(201, 989)}) 555-{self.rng.randint(0, 9999):04d}",
                "Title": self.rng.choice(("Admin", "Analyst", "Manager", "Director", "Engineer")),
                "Department": self.rng.choice(("Operations", "IT", "Finance", "Marketing")),
            },
            created,
            modified_ms=self.s.maybe_modified(created),
        )
        self.contacts.setdefault(account_id, []).append(contact_id)

    def _person(self, account_id: str) -> str | None:
        people = self.contacts.get(account_id)
        return self.rng.choice(people) if people and self.rng.random() < 0.7 else None

    def note(self, account_id: str, parent_ms: int) -> None:
        """A note on the account (or on one of its contacts)."""
        parent = self._person(account_id) if self.rng.random() < 0.3 else None
        created = self.s.moment_after(parent_ms)
        body = f"{self.rng.choice(NOTE_TITLES)}: discussed adoption and next steps."
        self.s.add(
            "Note",
            {"Title": self.rng.choice(NOTE_TITLES), "Body": body, "ParentId": parent or account_id},
            created,
        )

    def task(self, account_id: str, parent_ms: int) -> None:
        """A task about the account, often with one of its contacts."""
        created = self.s.moment_after(parent_ms)
        done = self.rng.random() < 0.6
        self.s.add(
            "Task",
            {
                "Subject": self.rng.choice(TASK_SUBJECTS),
                "Status": "Completed" if done else self.rng.choice(("Not Started", "In Progress")),
                "Priority": self.rng.choice(("High", "Normal", "Normal", "Low")),
                "ActivityDate": self.s.day(created + self.rng.randint(1, 30) * DAY_MS),
                "WhatId": account_id,
                "WhoId": self._person(account_id),
            },
            created,
            modified_ms=self.s.maybe_modified(created),
        )

    def license(self, account_id: str, parent_ms: int) -> None:
        """A product license held by a customer."""
        created = self.s.moment_after(parent_ms)
        product = self.rng.choice(PRODUCTS)
        self.s.add(
            "License__c",
            {
                "Name": f"{product} license",
                "Account__c": account_id,
                "Product__c": product,
                "Seats__c": float(self.rng.choice((5, 10, 25, 50, 100, 250))),
                "Start_Date__c": self.s.day(created),
                "End_Date__c": self.s.day(created + 365 * DAY_MS),
                "Status__c": "Active" if created + 365 * DAY_MS > self.s.end_ms else "Expired",
                "Annual_Value__c": float(self.rng.choice((6000, 12000, 30000, 90000))),
            },
            created,
        )

    def asset(self, account_id: str, parent_ms: int) -> None:
        """A deployed product instance."""
        created = self.s.moment_after(parent_ms)
        asset_id = self.s.add(
            "Asset",
            {
                "Name": f"{self.rng.choice(PRODUCTS)} workspace",
                "AccountId": account_id,
                "ContactId": self._person(account_id),
                "SerialNumber": f"WS-{self.rng.randint(100000, 999999)}",
                "Status": self.rng.choice(("Installed", "Registered", "Shipped")),
                "Quantity": 1.0,
                "PurchaseDate": self.s.day(created),
                "InstallDate": self.s.day(created + 7 * DAY_MS),
            },
            created,
        )
        self.assets.setdefault(account_id, []).append(asset_id)

    def project(self, account_id: str, parent_ms: int) -> None:
        """An onboarding or expansion project."""
        created = self.s.moment_after(parent_ms)
        self.s.add(
            "Project__c",
            {
                "Name": self.rng.choice(("Onboarding", "Expansion rollout", "Migration", "SSO setup")),
                "Account__c": account_id,
                "Status__c": self.rng.choice(("Planned", "In Progress", "Completed")),
                "Start_Date__c": self.s.day(created),
                "Due_Date__c": self.s.day(created + 60 * DAY_MS),
            },
            created,
            modified_ms=self.s.maybe_modified(created),
        )

    def case(self, account_id: str, parent_ms: int) -> None:
        """A support case (a ticket), sometimes about one of the account's assets."""
        created = self.s.moment_after(parent_ms)
        assets = self.assets.get(account_id)
        self.s.add(
            "Case",
            {
                "Subject": self.rng.choice(CASE_SUBJECTS),
                "Status": self.rng.choice(("New", "Working", "Escalated", "Closed", "Closed")),
                "Priority": self.rng.choice(("High", "Medium", "Low")),
                "Origin": self.rng.choice(("Phone", "Email", "Web")),
                "Type": self.rng.choice(("Question", "Problem", "Feature Request")),
                "AccountId": account_id,
                "ContactId": self._person(account_id),
                "AssetId": self.rng.choice(assets) if assets and self.rng.random() < 0.5 else None,
            },
            created,
            modified_ms=self.s.maybe_modified(created),
        )

    def renewal(self, account_id: str, parent_ms: int) -> None:
        """The account's renewal opportunity."""
        created = self.s.moment_after(parent_ms)
        self.s.add(
            "Opportunity",
            {
                "Name": f"Renewal {self.s.day(created)[:4]}",
                "AccountId": account_id,
                "StageName": self.rng.choice(("Prospecting", "Qualification", "Closed Won")),
                "CloseDate": self.s.day(created + 90 * DAY_MS),
                "Amount": float(self.rng.choice((6000, 12000, 30000, 90000))),
            },
            created,
        )


def seed_customer_success(org: Org, records: int, seed: int = 1) -> dict[str, int]:
    """Replace the org's records with a seeded customer-success org of about ``records`` records."""
    if records < 1:
        raise ValueError("records must be a positive number")
    with org.lock, org.capture_paused():
        org.reset()
        seeder = Seeder(org, records, seed)
        CustomerSuccessSeed(seeder).build()
        org.flush()
        return dict(sorted(seeder.counts.items()))
