"""Soft credits: recognition of a designation given to another constituent.

A soft credit names a designation (and so its transaction) and the credited constituent;
it cannot credit the donor of the transaction itself nor exceed the designation's amount.
The transaction shows its soft credit ids, so creating, changing or removing one marks the
transaction (and the designation) modified as well.
"""

from __future__ import annotations

from .errors import bad_request, not_found
from .records import existing, stamp_new, touch
from .store import Record, Store
from .values import Fields


def create_soft_credit(
    store: Store,
    body: Fields,
    actor: str,
    *,
    designation_id: int | None = None,
    record_id: int | None = None,
    created: int | None = None,
) -> Record:
    """A new soft credit (``designation_id`` when nested in a designation being created)."""
    with store.transaction():
        if designation_id is None:
            designation_id = body.integer("DesignationId", required=True)
        designation = existing(store, "Designation", designation_id, "DesignationId")
        assert designation is not None
        credit_id = record_id if record_id is not None else store.next_id("softcredit")
        store.reserve("softcredit", credit_id)
        record: Record = {
            "Id": credit_id,
            "DesignationId": designation["Id"],
            "TransactionId": designation["TransactionId"],
        }
        stamp_new(store, record, actor, created)
        _fields(store, record, body, designation, creating=True)
        store.put("SoftCredit", record)
        _touch_transaction(store, record, actor)
        return record


def update_soft_credit(store: Store, credit_id: int, body: Fields, actor: str) -> Record:
    """Apply a ``SoftCreditUpdateModel`` body (Amount, AccountId)."""
    with store.transaction():
        old = _require(store, credit_id)
        designation = store.get("Designation", old["DesignationId"]) or {}
        record = {**old, "Modified": store.clock.now(), "ModifiedName": actor}
        _fields(store, record, body, designation, creating=False)
        store.put("SoftCredit", record)
        _touch_transaction(store, record, actor)
        return record


def delete_soft_credit(store: Store, credit_id: int, actor: str) -> None:
    """Remove a soft credit."""
    with store.transaction():
        record = _require(store, credit_id)
        store.delete("SoftCredit", credit_id)
        _touch_transaction(store, record, actor)


def _require(store: Store, credit_id: int) -> Record:
    found = store.get("SoftCredit", credit_id)
    if found is None:
        raise not_found("SoftCredit", credit_id)
    return found


def _fields(store: Store, record: Record, body: Fields, designation: Record, *, creating: bool) -> None:
    if creating or "AccountId" in body:
        account_id = body.integer("AccountId", required=True)
        existing(store, "Constituent", account_id, "AccountId")
        transaction = store.get("Transaction", designation.get("TransactionId") or 0) or {}
        if account_id == transaction.get("AccountId"):
            raise bad_request("A soft credit cannot be given to the constituent who made the transaction.")
        record["AccountId"] = account_id
    if creating or "Amount" in body:
        amount = body.amount("Amount", required=True, positive=True)
        assert amount is not None
        if amount - float(designation.get("Amount", 0)) > 0.005:
            raise bad_request(f"The soft credit Amount ({amount:.2f}) exceeds the designation's amount.")
        record["Amount"] = amount


def _touch_transaction(store: Store, record: Record, actor: str) -> None:
    touch(store, "Designation", record["DesignationId"], actor)
    touch(store, "Transaction", record["TransactionId"], actor)
