"""Seed records about giving: recurring donations and their installments, one-off gifts and
grants with their payments, contact roles, allocations to funds, and soft credits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import seed_data as words

if TYPE_CHECKING:
    from .seed_people import People, Person

DAY_MS = 86_400_000
MONTH_MS = 30 * DAY_MS
# (stage, weight, probability, forecast category)
STAGES = (
    ("Closed Won", 85, 100, "Closed"),
    ("Pledged", 10, 90, "Commit"),
    ("Closed Lost", 5, 0, "Omitted"),
)


@dataclass
class Gift:
    """A seeded opportunity, kept for the records that point at it."""

    id: str
    created_ms: int
    amount: float
    person: Person | None
    won: bool


class Gifts:
    """Builds opportunities and everything hanging off them."""

    def __init__(self, people: People) -> None:
        self.p = people
        self.s = people.s
        self.rng = people.rng
        self.budget = people.counts["opportunities"]
        self.gifts: list[Gift] = []
        self.recurring: list[tuple[str, int]] = []  # (id, established)
        self.types = {
            name: self.s.record_types.get(("Opportunity", name))
            for name in ("Donation", "Grant", "Major_Gift", "Membership", "Pledge")
        }

    def build(self) -> None:
        """Every giving record, parents first."""
        self.recurring_donations()
        self.one_off()
        self.contact_roles()
        self.allocations()
        self.soft_credits()

    def gift(
        self,
        person: Person | None,
        account_id: str,
        created_ms: int,
        *,
        migrated: bool,
        amount: float,
        stage: tuple[str, int, int, str],
        record_type: str,
        extra: dict[str, Any] | None = None,
    ) -> Gift:
        """One opportunity, with the payment NPSP would have made for it."""
        name, _, probability, forecast = stage
        won, closed = name == "Closed Won", name != "Pledged"
        close_ms = created_ms if closed else created_ms + self.rng.randint(30, 180) * DAY_MS
        donor = f"{person.first} {person.last}" if person else "Organization"
        campaign = self.rng.choice(self.p.campaigns) if self.rng.random() < 0.4 else None
        values: dict[str, Any] = {
            "Name": f"{donor} {record_type.replace('_', ' ')} {self.s.day(close_ms)}",
            "AccountId": account_id,
            "npsp__Primary_Contact__c": person.id if person else None,
            "ContactId": person.id if person else None,
            "Amount": amount,
            "CloseDate": self.s.day(close_ms),
            "StageName": name,
            "Probability": float(probability),
            "ForecastCategoryName": forecast,
            "IsClosed": closed,
            "IsWon": won,
            "RecordTypeId": self.types.get(record_type),
            "CampaignId": campaign.id if campaign and campaign.created_ms <= created_ms else None,
            "LeadSource": self.rng.choice(("Web", "Phone Inquiry", "Other")),
        } | (extra or {})
        modified = None if migrated else self.s.maybe_modified(created_ms)
        gift_id = self.s.add("Opportunity", values, created_ms, modified_ms=modified)
        gift = Gift(gift_id, created_ms, amount, person, won)
        self.gifts.append(gift)
        if won or (name == "Pledged" and self.rng.random() < 0.5):
            self.s.add(
                "npe01__OppPayment__c",
                {
                    "npe01__Opportunity__c": gift_id,
                    "npe01__Payment_Amount__c": amount,
                    "npe01__Payment_Date__c": self.s.day(close_ms) if won else None,
                    "npe01__Scheduled_Date__c": self.s.day(close_ms),
                    "npe01__Paid__c": won,
                    "npe01__Payment_Method__c": self.rng.choice(words.PAYMENT_METHODS),
                },
                created_ms,
            )
        return gift

    def recurring_donations(self) -> None:
        """Recurring donations, each with monthly installment opportunities."""
        count = self.p.counts["recurring"]
        per_donation = max(1, int(self.budget * 0.3 / count))
        won = STAGES[0]
        for _ in range(count):
            person = self.rng.choice(self.p.contacts)
            established = self.s.moment_after(person.created_ms)
            amount = float(self.rng.choice((10, 15, 20, 25, 50, 100)))
            status = self.rng.choices(("Active", "Lapsed", "Closed"), weights=(70, 15, 15))[0]
            campaign = self.rng.choice(self.p.campaigns) if self.rng.random() < 0.3 else None
            months = min(per_donation, max(1, (self.s.end_ms - established) // MONTH_MS))
            rd_id = self.s.add(
                "npe03__Recurring_Donation__c",
                {
                    "Name": f"{person.first} {person.last} ${amount:.0f} - Recurring",
                    "npe03__Contact__c": person.id,
                    "npe03__Organization__c": person.account_id,
                    "npe03__Amount__c": amount,
                    "npe03__Installment_Period__c": "Monthly",
                    "npe03__Date_Established__c": self.s.day(established),
                    "npe03__Next_Payment_Date__c": self.s.day(established + (months + 1) * MONTH_MS),
                    "npe03__Open_Ended_Status__c": "Closed" if status == "Closed" else "Open",
                    "npe03__Recurring_Donation_Campaign__c": campaign.id if campaign else None,
                    "npsp__Status__c": status,
                    "npsp__RecurringType__c": "Open",
                    "npsp__Day_of_Month__c": str(int(self.s.day(established)[8:10])),
                    "npsp__StartDate__c": self.s.day(established),
                    "npsp__PaymentMethod__c": self.rng.choice(("Credit Card", "ACH")),
                },
                established,
                modified_ms=self.s.maybe_modified(established),
            )
            self.recurring.append((rd_id, established))
            for month in range(int(months)):
                when = min(established + month * MONTH_MS, self.s.end_ms - 1)
                self.gift(
                    person,
                    person.account_id,
                    when,
                    migrated=False,
                    amount=amount,
                    stage=won,
                    record_type="Donation",
                    extra={"npe03__Recurring_Donation__c": rd_id},
                )

    def one_off(self) -> None:
        """Single gifts from people, grants from organizations."""
        weights = [stage[1] for stage in STAGES]
        by_id = {person.id: person for person in self.p.contacts}
        while len(self.gifts) < self.budget:
            if self.p.organizations and self.rng.random() < 0.05:
                organization, primary = self.rng.choice(self.p.organizations)
                created = self.s.moment_after(organization.created_ms)
                person = by_id.get(primary) if primary else None
                amount = float(self.rng.choice(words.MAJOR_GIFT_AMOUNTS))
                self.gift(
                    person,
                    organization.id,
                    created,
                    migrated=False,
                    amount=amount,
                    stage=STAGES[0],
                    record_type="Grant",
                )
                continue
            person = self.rng.choice(self.p.contacts)
            created, migrated = self.p.created("Opportunity", person.created_ms, self.budget)
            stage = self.rng.choices(STAGES, weights=weights)[0]
            draw = self.rng.random()
            extra: dict[str, Any] = {}
            if stage[0] == "Pledged":
                record_type, amount = "Pledge", float(self.rng.choice(words.GIFT_AMOUNTS[6:]))
            elif draw < 0.02:
                record_type, amount = "Major_Gift", float(self.rng.choice(words.MAJOR_GIFT_AMOUNTS))
            elif draw < 0.07:
                record_type, amount = "Membership", float(self.rng.choice((50, 100, 250)))
                level = {50.0: "Bronze", 100.0: "Silver", 250.0: "Gold"}[amount]
                extra = {"npe01__Member_Level__c": level, "npe01__Membership_Origin__c": "New"}
            else:
                record_type, amount = "Donation", float(self.rng.choice(words.GIFT_AMOUNTS))
            self.gift(
                person,
                person.account_id,
                created,
                migrated=migrated,
                amount=amount,
                stage=stage,
                record_type=record_type,
                extra=extra,
            )

    def contact_roles(self) -> None:
        """Primary donor roles, and household members credited on some gifts."""
        members: dict[str, list[Person]] = defaultdict(list)
        for person in self.p.contacts:
            members[person.account_id].append(person)
        candidates = [gift for gift in self.gifts if gift.person is not None]
        chosen = self.rng.sample(candidates, min(self.p.counts["contact_roles"], len(candidates)))
        for gift in chosen:
            assert gift.person is not None
            others = [m for m in members[gift.person.account_id] if m.id != gift.person.id]
            if others and self.rng.random() < 0.2:
                contact, role, primary = self.rng.choice(others), "Household Member", False
            else:
                contact, role, primary = gift.person, "Donor", True
            self.s.add(
                "OpportunityContactRole",
                {"OpportunityId": gift.id, "ContactId": contact.id, "Role": role, "IsPrimary": primary},
                gift.created_ms,
            )

    def allocations(self) -> None:
        """Fund allocations: a few recurring donations, then single won gifts."""
        count = self.p.counts["allocations"]
        if not self.p.gaus:
            return
        on_recurring = min(len(self.recurring), count // 10)
        for rd_id, established in self.rng.sample(self.recurring, on_recurring):
            self.s.add(
                "npsp__Allocation__c",
                {
                    "npsp__General_Accounting_Unit__c": self.rng.choice(self.p.gaus).id,
                    "npsp__Recurring_Donation__c": rd_id,
                    "npsp__Percent__c": 100.0,
                },
                established,
            )
        won = [gift for gift in self.gifts if gift.won]
        for gift in self.rng.sample(won, min(count - on_recurring, len(won))):
            self.s.add(
                "npsp__Allocation__c",
                {
                    "npsp__General_Accounting_Unit__c": self.rng.choice(self.p.gaus).id,
                    "npsp__Opportunity__c": gift.id,
                    "npsp__Amount__c": gift.amount,
                },
                gift.created_ms,
            )

    def soft_credits(self) -> None:
        """Partial soft credits to other contacts; account soft credits to matching organizations."""
        with_person = [gift for gift in self.gifts if gift.person is not None]
        for gift in self.rng.sample(with_person, min(self.p.counts["soft_credits"], len(with_person))):
            contact = self.rng.choice(self.p.contacts)
            self.s.add(
                "npsp__Partial_Soft_Credit__c",
                {
                    "npsp__Contact__c": contact.id,
                    "npsp__Opportunity__c": gift.id,
                    "npsp__Amount__c": gift.amount,
                    "npsp__Role_Name__c": "Soft Credit",
                },
                max(gift.created_ms, contact.created_ms),
            )
        if not self.p.organizations:
            return
        for gift in self.rng.sample(self.gifts, min(self.p.counts["account_soft_credits"], len(self.gifts))):
            organization, _ = self.rng.choice(self.p.organizations)
            self.s.add(
                "npsp__Account_Soft_Credit__c",
                {
                    "npsp__Account__c": organization.id,
                    "npsp__Opportunity__c": gift.id,
                    "npsp__Amount__c": gift.amount,
                    "npsp__Role__c": "Match",
                },
                max(gift.created_ms, organization.created_ms),
            )
