"""Transactions and their designations: donations, pledges and recurring donations with payments.

A transaction is a payment (or a pledge's promise) by one constituent; its designations
say what it is for: ``Donation``, ``Pledge``, ``PledgePayment``, ``RecurringDonation`` or
``RecurringDonationPayment``, each with a fund (and optionally a campaign and appeal). The
designation amounts add up to the transaction amount. A payment names its pledge or
recurring donation by designation id; recording or removing one changes the parent's
balance and payment list, so the parent's transaction is marked modified too.
"""

from __future__ import annotations

from typing import Any

from . import credits
from .errors import bad_request, not_found
from .records import apply_custom_values, existing, stamp_new, touch
from .store import Record, Store
from .values import (
    ACKNOWLEDGEMENT_STATUSES,
    CARD_TYPES,
    DESIGNATION_TYPES,
    EFT_ACCOUNT_TYPES,
    ENTRY_METHODS,
    IN_KIND_TYPES,
    METHOD_ORIGINS,
    METHODS,
    PLEDGE_FREQUENCIES,
    RECURRING_FREQUENCIES,
    RECURRING_STATUSES,
    TRIBUTE_TYPES,
    Fields,
)

PAYMENT_TEXT = ("CheckNumber", "CreditCardLastFourDigits", "EftLastFourDigits", "EftRoutingNumber")
PAYMENT_TEXT_MORE = ("InKindDescription", "IntegrationUrl")
PAYMENT_CHOICES = (
    ("EntryMethod", ENTRY_METHODS),
    ("MethodOrigin", METHOD_ORIGINS),
    ("CreditCardType", CARD_TYPES),
    ("EftAccountType", EFT_ACCOUNT_TYPES),
    ("InKindType", IN_KIND_TYPES),
)
PARENT_LINK = {
    "PledgePayment": ("PledgeId", "Pledge"),
    "RecurringDonationPayment": ("RecurringDonationId", "RecurringDonation"),
}


def create_transaction(
    store: Store,
    body: Fields,
    actor: str,
    *,
    record_id: int | None = None,
    created: int | None = None,
    keep_ids: bool = False,
) -> Record:
    """A new transaction from a ``TransactionCreateModel`` body (``keep_ids``: designation ids too)."""
    with store.transaction():
        account_id = body.integer("AccountId", required=True)
        existing(store, "Constituent", account_id, "AccountId")
        transaction_id = record_id if record_id is not None else store.next_id("transaction")
        store.reserve("transaction", transaction_id)
        record: Record = {
            "Id": transaction_id,
            "TransactionNumber": store.next_id("transaction_number"),
            "AccountId": account_id,
            "Date": body.date("Date", required=True),
            "Amount": body.amount("Amount", required=True),
            "Method": body.choice("Method", METHODS, required=True),
            "DesignationIds": [],
        }
        stamp_new(store, record, actor, created)
        _payment_fields(record, body)
        designations = body.items("Designations")
        if not designations:
            raise bad_request(
                "The Designations field is required: a transaction has at least one designation."
            )
        store.put("Transaction", record)
        ids = [_create_designation(store, record, item, actor, created, keep_ids) for item in designations]
        record = {**record, "DesignationIds": ids}
        _check_total(store, record)
        return store.put("Transaction", record)


def update_transaction(store: Store, transaction_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``TransactionUpdateModel`` body; a given designation list replaces the old one."""
    with store.transaction():
        old = _require(store, transaction_id)
        record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
        if "AccountId" in body:
            account_id = body.integer("AccountId", required=True)
            existing(store, "Constituent", account_id, "AccountId")
            record["AccountId"] = account_id
        for name, reader in (("Date", body.date), ("Amount", body.amount)):
            if name in body:
                record[name] = reader(name, required=True)
        if "Method" in body:
            record["Method"] = body.choice("Method", METHODS, required=True)
        _payment_fields(record, body)
        store.put("Transaction", record)
        items = body.items("Designations")
        if items is not None:
            kept: list[int] = []
            for item in items:
                designation_id = item.integer("Id")
                if designation_id is None:
                    kept.append(_create_designation(store, record, item, actor, None, False))
                elif designation_id in old["DesignationIds"]:
                    _update_designation(store, designation_id, item, actor)
                    kept.append(designation_id)
                else:
                    raise bad_request(
                        f"The designation {designation_id} is not part of transaction {transaction_id}."
                    )
            for designation_id in old["DesignationIds"]:
                if designation_id not in kept:
                    _delete_designation(store, designation_id, actor)
            record = {**record, "DesignationIds": kept}
        elif record["AccountId"] != old["AccountId"]:
            for designation_id in record["DesignationIds"]:
                touch(store, "Designation", designation_id, actor)
        _check_total(store, record)
        return store.put("Transaction", record)


def delete_transaction(store: Store, transaction_id: int, actor: str) -> None:
    """Delete a transaction with its designations and their soft credits."""
    with store.transaction():
        record = _require(store, transaction_id)
        for designation_id in record["DesignationIds"]:
            _delete_designation(store, designation_id, actor)
        store.delete("Transaction", transaction_id)


def _require(store: Store, transaction_id: int) -> Record:
    found = store.get("Transaction", transaction_id)
    if found is None:
        raise not_found("Transaction", transaction_id)
    return found


def _payment_fields(record: Record, body: Fields) -> None:
    for name in (*PAYMENT_TEXT, *PAYMENT_TEXT_MORE):
        if name in body:
            record[name] = body.text(name, max_length=2000)
    for name, allowed in PAYMENT_CHOICES:
        if name in body:
            record[name] = body.choice(name, allowed)
    for name in ("NonDeductibleAmount", "InKindMarketValue", "CreditCardExpMonth", "CreditCardExpYear"):
        if name in body:
            record[name] = body.amount(name)
    if "CheckDate" in body:
        record["CheckDate"] = body.date("CheckDate")


def _check_total(store: Store, record: Record) -> None:
    total = sum(float((store.get("Designation", d) or {}).get("Amount", 0)) for d in record["DesignationIds"])
    if abs(total - float(record["Amount"])) > 0.005:
        raise bad_request(
            f"The designation amounts ({total:.2f}) must add up to the transaction Amount "
            f"({record['Amount']:.2f})."
        )


def _create_designation(
    store: Store, transaction: Record, item: Fields, actor: str, created: int | None, keep_id: bool
) -> int:
    kind = item.choice("Type", DESIGNATION_TYPES)
    if kind is None:
        # The document's pledge payment model does not require Type; its PledgeId says it all.
        kind = (
            "PledgePayment" if "PledgeId" in item else item.choice("Type", DESIGNATION_TYPES, required=True)
        )
    designation_id = (item.integer("Id") if keep_id else None) or store.next_id("designation")
    store.reserve("designation", designation_id)
    record: Record = {
        "Id": designation_id,
        "DesignationNumber": store.next_id("designation_number"),
        "TransactionId": transaction["Id"],
        "Type": kind,
        "AcknowledgementStatus": "No",
        "CustomValues": [],
    }
    stamp_new(store, record, actor, created)
    _designation_fields(store, transaction, record, item, creating=True)
    store.put("Designation", record)
    for credit in item.items("SoftCredits") or ():
        credits.create_soft_credit(store, credit, actor, designation_id=designation_id, created=created)
    _touch_parent(store, record, actor)
    return designation_id


def _update_designation(store: Store, designation_id: int, item: Fields, actor: str) -> None:
    old = store.get("Designation", designation_id) or {}
    record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
    kind = item.choice("Type", DESIGNATION_TYPES)
    if kind is not None and kind != old["Type"]:
        raise bad_request(f"The designation {designation_id} is a {old['Type']}; its Type cannot change.")
    transaction = store.get("Transaction", old["TransactionId"]) or {}
    _designation_fields(store, transaction, record, item, creating=False)
    store.put("Designation", record)
    _touch_parent(store, record, actor)


def _delete_designation(store: Store, designation_id: int, actor: str) -> None:
    record = store.get("Designation", designation_id)
    if record is None:
        return
    payments = store.related("pledge_payments", designation_id) + store.related(
        "recurring_payments", designation_id
    )
    if payments:
        raise bad_request(
            f"The {record['Type']} designation {designation_id} has payments "
            f"({', '.join(map(str, payments))}); delete them first."
        )
    for credit_id in store.related("designation_softcredits", designation_id):
        store.delete("SoftCredit", credit_id)
    store.delete("Designation", designation_id)
    _touch_parent(store, record, actor)


def _touch_parent(store: Store, record: Record, actor: str) -> None:
    """A payment changed: its pledge or recurring donation (and that transaction) changed too."""
    link = PARENT_LINK.get(record["Type"])
    parent = store.get("Designation", record.get(link[0]) or 0) if link else None
    if parent is not None and parent["TransactionId"] != record["TransactionId"]:
        touch(store, "Designation", parent["Id"], actor)
        touch(store, "Transaction", parent["TransactionId"], actor)


def _designation_fields(
    store: Store, transaction: Record, record: Record, item: Fields, *, creating: bool
) -> None:
    kind = record["Type"]
    if creating or "Amount" in item:
        record["Amount"] = item.amount("Amount", required=True)
    for name in ("Note",):
        if name in item:
            record[name] = item.text(name, max_length=4000)
    if "NonDeductibleAmount" in item:
        record["NonDeductibleAmount"] = item.amount("NonDeductibleAmount")
    if "AcknowledgementStatus" in item:
        record["AcknowledgementStatus"] = (
            item.choice("AcknowledgementStatus", ACKNOWLEDGEMENT_STATUSES) or "No"
        )
    if "TributeType" in item:
        record["TributeType"] = item.choice("TributeType", TRIBUTE_TYPES)
    link = PARENT_LINK.get(kind)
    if link is not None:
        _link_parent(store, transaction, record, item, link, creating=creating)
    for name, target in (("Fund", "Fund"), ("Campaign", "Campaign"), ("Appeal", "Appeal")):
        given = item.reference(name)
        required = name == "Fund" and creating and link is None
        if given is None and required:
            raise bad_request(f"The FundId field is required for a {kind} designation.")
        if given is not None:
            existing(store, target, given, f"{name}Id")
            record[f"{name}Id"] = given
    if item.reference("Tribute") is not None:
        raise bad_request(f"The TributeId {item.reference('Tribute')} does not refer to an existing tribute.")
    if kind == "Pledge":
        _pledge_fields(store, record, item, creating=creating)
    elif kind == "RecurringDonation":
        _recurring_fields(record, item, creating=creating)
    values = item.items("CustomValues")
    if values is not None:
        record["CustomValues"] = apply_custom_values(
            store, record.get("CustomValues") or [], values, "Transaction"
        )


def _link_parent(
    store: Store, transaction: Record, record: Record, item: Fields, link: tuple[str, str], *, creating: bool
) -> None:
    field, parent_type = link
    if creating or field in item:
        parent_id = item.integer(field, required=True)
        parent = store.get("Designation", parent_id or 0)
        if parent is None or parent["Type"] != parent_type:
            raise bad_request(
                f"The {field} {parent_id} does not refer to an existing {parent_type} designation."
            )
        owner = store.get("Transaction", parent["TransactionId"]) or {}
        if owner.get("AccountId") != transaction.get("AccountId"):
            raise bad_request(f"The {parent_type} {parent_id} belongs to another constituent.")
        record[field] = parent_id
        # A payment is for its schedule's fund, campaign and appeal unless it says otherwise.
        for name in ("FundId", "CampaignId", "AppealId"):
            record.setdefault(name, parent.get(name))
    if record["Type"] == "RecurringDonationPayment" and (creating or "IsExtraPayment" in item):
        record["IsExtraPayment"] = item.boolean("IsExtraPayment", required=True)


def _pledge_fields(store: Store, record: Record, item: Fields, *, creating: bool) -> None:
    if creating or "PledgeFrequency" in item:
        record["PledgeFrequency"] = item.choice("PledgeFrequency", PLEDGE_FREQUENCIES, required=True)
    installments = item.items("PledgeInstallments")
    if installments is None and creating:
        raise bad_request("The PledgeInstallments field is required for a Pledge designation.")
    if installments is not None:
        rows: list[dict[str, Any]] = []
        for installment in installments:
            rows.append(
                {
                    "Id": store.next_id("installment"),
                    "Date": installment.date("Date", required=True),
                    "Amount": installment.amount("Amount", required=True, positive=True),
                }
            )
        record["PledgeInstallments"] = sorted(rows, key=lambda row: (row["Date"], row["Id"]))
    total = sum(row["Amount"] for row in record.get("PledgeInstallments") or ())
    if abs(total - float(record["Amount"])) > 0.005:
        raise bad_request(
            f"The pledge installments ({total:.2f}) must add up to the pledge Amount "
            f"({record['Amount']:.2f})."
        )


def _recurring_fields(record: Record, item: Fields, *, creating: bool) -> None:
    if creating or "RecurringDonationStartDate" in item:
        record["RecurringDonationStartDate"] = item.date("RecurringDonationStartDate", required=True)
    if creating or "RecurringDonationFrequency" in item:
        record["RecurringDonationFrequency"] = item.choice(
            "RecurringDonationFrequency", RECURRING_FREQUENCIES, required=True
        )
    if "RecurringDonationEndDate" in item:
        record["RecurringDonationEndDate"] = item.date("RecurringDonationEndDate")
    for name in ("RecurringDonationDay1", "RecurringDonationDay2"):
        if name in item:
            day = item.integer(name, minimum=1)
            if day is not None and day > 31:
                raise bad_request(f"The {name} field must be between 1 and 31.")
            record[name] = day
    if "RecurringDonationStatus" in item:
        record["RecurringDonationStatus"] = item.choice("RecurringDonationStatus", RECURRING_STATUSES)
    record.setdefault("RecurringDonationStatus", "Active")
