"""The seed's gifts: donations, pledges with installments and payments, recurring donations
with monthly payments, split designations and soft credits.

About a quarter of the transactions belong to series: recurring donations (a schedule
transaction, then a payment transaction a month, some schedules closed) and pledges (the
promise with its installments, then a payment for most installments already due). The rest
are one-off donations from a skewed set of donors, one in twenty split over two funds, one
in thirty soft-credited to a household member or another constituent. Every plan is made
first and then written in creation order, so ids grow with time. Recording a payment marks
its schedule's transaction modified, as the CRM does. From 4,000 transactions on, a year-end
acknowledgement run stamped 3,000 of them with one ``LastModifiedDate``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import seed_data as words
from .store import Record

if TYPE_CHECKING:
    from .seed import Seeder

DAY = 86_400
HOUR = 3_600
SERIES_SHARE = 0.26
ACK_BURST_MIN = 4000
ACK_BURST_ROWS = 3000
METHODS = (("Check", 35), ("CreditCard", 45), ("Cash", 8), ("Eft", 6), ("PayPal", 4), ("Venmo", 2))


def _day(epoch: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


class GiftSeeder:
    """Plans and writes about ``target`` transactions for the seeder's people."""

    def __init__(self, seeder: Seeder, target: int) -> None:
        self.seeder = seeder
        self.store = seeder.store
        self.rng = seeder.rng
        self.target = target
        self.plans: list[dict[str, Any]] = []
        self.funds = [f["Id"] for f in seeder.lists["Fund"] if f["IsActive"]]
        self.campaigns = seeder.lists["Campaign"]
        self.appeals = [a["Id"] for a in seeder.lists["Appeal"]]
        self.people = seeder.people
        self.individuals = [p for p in self.people if p["Type"] == "Individual"]
        self.households: dict[int, list[int]] = {}
        for person in self.people:
            if person.get("HouseholdId") is not None:
                self.households.setdefault(int(person["HouseholdId"]), []).append(int(person["Id"]))

    def run(self) -> None:
        """Plan every series and donation, then write them oldest first."""
        budget = int(self.target * SERIES_SHARE)
        while budget > 0 and self.individuals:
            budget -= self.recurring() if self.rng.random() < 0.75 else self.pledge()
        self.donations(self.target - len(self.plans))
        self.plans.sort(key=lambda plan: (plan["created"], plan["seq"]))
        for plan in self.plans:
            self.write(plan)
        self.acknowledgement_burst()

    # -- planning --------------------------------------------------------------------------

    def plan(
        self, account: int, created: int, method: str, designations: list[dict[str, Any]], **extra: Any
    ) -> None:
        """One transaction to write."""
        amount = round(sum(d["Amount"] for d in designations), 2)
        self.plans.append(
            {
                "seq": len(self.plans),
                "created": created,
                "account": account,
                "date": _day(created),
                "amount": amount,
                "method": method,
                "designations": designations,
                "extra": extra,
            }
        )

    def designation(self, kind: str, amount: float, created: int, **fields: Any) -> dict[str, Any]:
        """A designation plan for the gift's fund, campaign and appeal."""
        rng = self.rng
        fund = self.funds[0] if rng.random() < 0.6 else rng.choice(self.funds)
        year = _day(created)[:4]
        annual = [c["Id"] for c in self.campaigns if str(c["Name"]).startswith(year)]
        roll = rng.random()
        campaign = (
            (annual[0] if annual else None)
            if roll < 0.75
            else (self.campaigns[-1]["Id"] if roll < 0.85 else None)
        )
        appeal = rng.choice(self.appeals) if rng.random() < 0.7 else None
        return {
            "Type": kind,
            "Amount": float(amount),
            "FundId": fund,
            "CampaignId": campaign,
            "AppealId": appeal,
            **fields,
        }

    def recurring(self) -> int:
        """A recurring donation schedule and its monthly payments; returns transactions planned."""
        rng, seeder = self.rng, self.seeder
        donor = rng.choice(self.individuals)
        latest = seeder.end - 40 * DAY
        start = rng.randint(min(int(donor["Created"]), latest), latest)
        amount = float(rng.choice(words.RECURRING_AMOUNTS))
        closed = rng.random() < 0.15 and start + 60 * DAY < seeder.end
        end = rng.randint(start + 60 * DAY, seeder.end) if closed else seeder.end
        schedule = self.designation(
            "RecurringDonation",
            amount,
            start,
            RecurringDonationStartDate=_day(start),
            RecurringDonationFrequency="Monthly",
            RecurringDonationStatus="Closed" if closed else "Active",
        )
        if closed:
            schedule["RecurringDonationEndDate"] = _day(end)
        self.plan(int(donor["Id"]), start, "None", [schedule])
        count, moment = 1, start + HOUR
        while moment < end:
            payment = self.designation(
                "RecurringDonationPayment", amount, moment, parent=schedule, IsExtraPayment=False
            )
            payment.update(
                FundId=schedule["FundId"], CampaignId=schedule["CampaignId"], AppealId=schedule["AppealId"]
            )
            self.plan(
                int(donor["Id"]),
                moment,
                "CreditCard",
                [payment],
                EntryMethod="AutoProcessed",
                MethodOrigin="Forms",
                CreditCardType="Visa",
                CreditCardLastFourDigits=f"{rng.randint(0, 9999):04d}",
            )
            count += 1
            moment += 30 * DAY + rng.randint(0, DAY)
        return count

    def pledge(self) -> int:
        """A pledge with monthly or quarterly installments and the payments made so far."""
        rng, seeder = self.rng, self.seeder
        donor = rng.choice(self.people)
        latest = seeder.end - 10 * DAY
        created = rng.randint(min(int(donor["Created"]), latest), latest)
        total = float(rng.choice(words.PLEDGE_AMOUNTS))
        monthly = rng.random() < 0.6
        parts, step = (12, 30 * DAY) if monthly else (4, 91 * DAY)
        share = round(total / parts, 2)
        installments: list[dict[str, Any]] = [
            {
                "Id": self.store.next_id("installment"),
                "Date": _day(created + (i + 1) * step),
                "Amount": share if i < parts - 1 else round(total - share * (parts - 1), 2),
            }
            for i in range(parts)
        ]
        promise = self.designation(
            "Pledge",
            total,
            created,
            PledgeFrequency="Monthly" if monthly else "Quarterly",
            PledgeInstallments=installments,
        )
        self.plan(int(donor["Id"]), created, "None", [promise])
        count = 1
        for index, row in enumerate(installments):
            moment = created + (index + 1) * step + rng.randint(0, 5 * DAY)
            if moment >= seeder.end or rng.random() < 0.1:
                continue
            payment = self.designation("PledgePayment", float(row["Amount"]), moment, parent=promise)
            payment.update(
                FundId=promise["FundId"], CampaignId=promise["CampaignId"], AppealId=promise["AppealId"]
            )
            self.plan(int(donor["Id"]), moment, rng.choice(("Check", "Eft")), [payment])
            count += 1
        return count

    def donations(self, count: int) -> None:
        """One-off gifts from a skewed set of donors."""
        rng = self.rng
        weights = [rng.choice((0, 1, 1, 2, 3, 5, 8, 20)) for _ in self.people]
        if not any(weights):
            weights[0] = 1
        donors = rng.choices(self.people, weights=weights, k=max(0, count))
        amounts, amount_weights = zip(*words.GIFT_AMOUNTS, strict=True)
        methods, method_weights = zip(*METHODS, strict=True)
        for donor in donors:
            created = rng.randint(int(donor["Created"]), self.seeder.end - 1)
            amount = float(rng.choices(amounts, amount_weights)[0])
            if rng.random() < 0.05 and amount >= 50:
                half = round(amount / 2, 2)
                parts = [
                    self.designation("Donation", half, created),
                    self.designation("Donation", amount - half, created),
                ]
            else:
                parts = [self.designation("Donation", amount, created)]
            for part in parts:
                if rng.random() < 0.033:
                    part["credit"] = self.credit_for(donor)
            self.plan(int(donor["Id"]), created, rng.choices(methods, method_weights)[0], parts)

    def credit_for(self, donor: Record) -> int | None:
        """Who gets a soft credit for ``donor``'s gift: a household member, else anyone else."""
        members = [m for m in self.households.get(int(donor.get("HouseholdId") or 0), ()) if m != donor["Id"]]
        if members:
            return int(self.rng.choice(members))
        other = self.rng.choice(self.people)
        return None if other["Id"] == donor["Id"] else int(other["Id"])

    # -- writing ---------------------------------------------------------------------------

    def write(self, plan: dict[str, Any]) -> None:
        """Store one planned transaction with its designations and soft credits."""
        store, seeder, created = self.store, self.seeder, plan["created"]
        transaction_id = store.next_id("transaction")
        ids: list[int] = []
        for item in plan["designations"]:
            fields = {k: v for k, v in item.items() if k not in ("parent", "credit", "id") and v is not None}
            record: Record = {
                "Id": store.next_id("designation"),
                "DesignationNumber": store.next_id("designation_number"),
                "TransactionId": transaction_id,
                "AcknowledgementStatus": "No",
                "CustomValues": [],
                **fields,
            }
            parent = item.get("parent")
            if parent is not None:
                record["PledgeId" if item["Type"] == "PledgePayment" else "RecurringDonationId"] = parent[
                    "id"
                ]
            item["id"] = record["Id"]
            item["transaction"] = transaction_id
            seeder.add("Designation", record, created)
            ids.append(record["Id"])
        transaction: Record = {
            "Id": transaction_id,
            "TransactionNumber": store.next_id("transaction_number"),
            "AccountId": plan["account"],
            "Date": plan["date"],
            "Amount": plan["amount"],
            "Method": plan["method"],
            "DesignationIds": ids,
            **plan["extra"],
        }
        if plan["method"] == "Check":
            transaction["CheckNumber"] = str(1000 + transaction["TransactionNumber"] % 9000)
        seeder.add(
            "Transaction",
            transaction,
            created,
            seeder.modified_after(created) if plan["method"] != "None" else None,
        )
        for item in plan["designations"]:
            if item.get("credit") is not None:
                credit = {
                    "Id": store.next_id("softcredit"),
                    "DesignationId": item["id"],
                    "TransactionId": transaction_id,
                    "AccountId": item["credit"],
                    "Amount": item["Amount"],
                }
                seeder.add("SoftCredit", credit, created)
            parent = item.get("parent")
            if parent is not None:
                # Recording a payment changes its schedule: marked modified now.
                for kind, parent_id in (
                    ("Designation", parent["id"]),
                    ("Transaction", parent["transaction"]),
                ):
                    found = store.get(kind, parent_id)
                    if found is not None and int(found["Modified"]) < created:
                        store.put(kind, {**found, "Modified": created})

    def acknowledgement_burst(self) -> None:
        """A year-end acknowledgement run that updated thousands of donations at once."""
        table = self.store.tables["Transaction"]
        if len(table) < ACK_BURST_MIN:
            return
        moment = self.seeder.end - 90 * DAY + 61_200
        candidates = [
            t for t in table.values() if int(t["Modified"]) < moment and t["Method"] in ("Check", "Cash")
        ]
        for transaction in self.rng.sample(candidates, min(ACK_BURST_ROWS, len(candidates))):
            self.store.put("Transaction", {**transaction, "Modified": moment})
            for designation_id in transaction["DesignationIds"]:
                found = self.store.get("Designation", designation_id)
                if found is not None:
                    self.store.put(
                        "Designation", {**found, "AcknowledgementStatus": "Yes", "Modified": moment}
                    )
