"""Merges: the CRM screen's merge of two constituents, and the API's merge-or-create.

**Screen merge** (control API; the published API has no such call): the loser disappears
(its GET answers 404) and everything it had moves to the survivor: its transactions and the
soft credits given to it (each marked modified), its email addresses, phones and addresses
(as secondary ones, duplicates dropped), custom values the survivor lacks, and its household
membership when the survivor has none. The survivor is marked modified once.

**``POST /constituent/merge``** (the documented endpoint): the body is a constituent; when a
possible duplicate exists (same name plus one piece of contact info) the data is merged
into it (new contact points are added as secondary ones, the rest overwrites), otherwise a
new constituent is created.
"""

from __future__ import annotations

from typing import Any

from . import membership
from .constituents import create_constituent, update_constituent
from .errors import bad_request, not_found
from .records import touch
from .search import digits, duplicates, norm
from .store import Record, Store
from .values import CONSTITUENT_TYPES, Fields

_CONTACTS = (
    ("Emails", "PrimaryEmail", "SecondaryEmails", "Value"),
    ("Phones", "PrimaryPhone", "SecondaryPhones", "Number"),
    ("Addresses", "PrimaryAddress", "SecondaryAddresses", "Street"),
)


def merge_constituents(store: Store, survivor_id: int, loser_id: int, actor: str) -> Record:
    """Merge ``loser_id`` into ``survivor_id`` as the CRM's merge screen does."""
    with store.transaction():
        survivor = store.get("Constituent", survivor_id)
        loser = store.get("Constituent", loser_id)
        if survivor is None or loser is None:
            raise not_found("Constituent", survivor_id if survivor is None else loser_id)
        if survivor_id == loser_id:
            raise bad_request("A constituent cannot be merged into itself.")
        if survivor["Type"] != loser["Type"]:
            raise bad_request("Only constituents of the same Type can be merged.")
        now = store.clock.now()
        for transaction_id in store.related("account_transactions", loser_id):
            _move_transaction(store, transaction_id, survivor_id, actor)
        for credit_id in store.related("account_softcredits", loser_id):
            _move_credit(store, credit_id, survivor_id, actor)
        merged = {
            **(store.get("Constituent", survivor_id) or survivor),
            "Modified": now,
            "ModifiedName": actor,
        }
        for list_name, _primary, _secondary, key in _CONTACTS:
            mine = [dict(item) for item in merged.get(list_name) or ()]
            seen = {_same(item.get(key), key) for item in mine}
            for item in loser.get(list_name) or ():
                if _same(item.get(key), key) not in seen:
                    mine.append({**item, "IsPrimary": not mine})
            merged[list_name] = mine
        have = {entry["FieldId"] for entry in merged.get("CustomValues") or ()}
        extra = [entry for entry in loser.get("CustomValues") or () if entry["FieldId"] not in have]
        merged["CustomValues"] = sorted(
            [*(merged.get("CustomValues") or ()), *extra], key=lambda e: e["FieldId"]
        )
        store.put("Constituent", merged)
        household_id = loser.get("HouseholdId")
        if household_id is not None and merged.get("HouseholdId") is None:
            household = store.get("Household", household_id) or {}
            membership.join(store, survivor_id, household_id, actor, head=household.get("HeadId") == loser_id)
        membership.leave(store, loser_id, actor)
        store.delete("Constituent", loser_id)
        return store.get("Constituent", survivor_id) or merged


def _same(value: Any, key: str) -> str:
    return digits(value) if key == "Number" else norm(value)


def _move_transaction(store: Store, transaction_id: int, survivor_id: int, actor: str) -> None:
    record = store.get("Transaction", transaction_id)
    if record is None:
        return
    store.put(
        "Transaction",
        {**record, "AccountId": survivor_id, "Modified": store.clock.now(), "ModifiedName": actor},
    )
    for designation_id in record["DesignationIds"]:
        touch(store, "Designation", designation_id, actor)
        for credit_id in store.related("designation_softcredits", designation_id):
            credit = store.get("SoftCredit", credit_id)
            if credit is not None and credit["AccountId"] == survivor_id:
                # The survivor cannot be soft-credited for its own gift.
                store.delete("SoftCredit", credit_id)


def _move_credit(store: Store, credit_id: int, survivor_id: int, actor: str) -> None:
    credit = store.get("SoftCredit", credit_id)
    if credit is None:
        return
    donor = (store.get("Transaction", credit["TransactionId"]) or {}).get("AccountId")
    if donor == survivor_id:
        store.delete("SoftCredit", credit_id)
    else:
        store.put(
            "SoftCredit",
            {**credit, "AccountId": survivor_id, "Modified": store.clock.now(), "ModifiedName": actor},
        )
    touch(store, "Designation", credit["DesignationId"], actor)
    touch(store, "Transaction", credit["TransactionId"], actor)


def merge_or_create(store: Store, body: Fields, actor: str) -> Record:
    """``POST /constituent/merge``: merge into a possible duplicate, or create."""
    for name in ("SecondaryAddresses", "SecondaryEmails", "SecondaryPhones"):
        if name in body:
            raise bad_request(f"{name} cannot be passed to merge; send only primary contact information.")
    kind = body.choice("Type", CONSTITUENT_TYPES, required=True)
    email = (body.nested("PrimaryEmail") or Fields({})).text("Value")
    phone = (body.nested("PrimaryPhone") or Fields({})).text("Number")
    street = (body.nested("PrimaryAddress") or Fields({})).text("Street")
    with store.transaction():
        found = (
            duplicates(
                store,
                kind=kind,
                first=body.text("FirstName"),
                last=body.text("LastName"),
                organization=body.text("FullName"),
                street=street,
                phone=phone,
                email=email,
            )
            if email or phone or street
            else []
        )
        if not found:
            return create_constituent(store, body, actor)
        target = found[0]
        data = dict(body.data)
        for list_name, primary, secondary, key in _CONTACTS:
            given = data.get(primary)
            current = next((item for item in target.get(list_name) or () if item["IsPrimary"]), None)
            if isinstance(given, dict) and current is not None:
                data.pop(primary)
                known = {_same(item.get(key), key) for item in target.get(list_name) or ()}
                if _same(given.get(key), key) not in known:
                    data[secondary] = [given]
        return update_constituent(store, target["Id"], Fields(data), actor)
