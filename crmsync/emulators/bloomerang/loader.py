"""Data files: records in the API's own JSON shapes, loaded with their ids kept.

``{"Fund": [..], "Campaign": [..], "Appeal": [..], "EmailInterest": [..],
"CustomFieldCategory": [..], "CustomField": [..], "CustomValue": [..], "Constituent": [..],
"Household": [..], "Transaction": [..], "SoftCredit": [..]}``; every key is optional. A
record is what ``GET`` answers (or a create body) with its ``Id``: constituents with
``PrimaryEmail`` and the like and an optional ``HouseholdId``, households with ``HeadId`` and
``MemberIds``, transactions with nested ``Designations`` (ids kept too, payments naming their
pledge or recurring donation), soft credits with ``DesignationId``. ``AuditTrail``,
``AccountNumber``, ``TransactionNumber`` and ``DesignationNumber`` are honoured when given.
All or nothing: the first problem rolls the whole file back and is reported with where it is.
"""

from __future__ import annotations

from typing import Any

from . import membership
from .clock import parse_timestamp
from .constituents import create_constituent
from .credits import create_soft_credit
from .errors import ApiError
from .gifts import create_transaction
from .households import create_household
from .records import SCREEN_USER
from .reference import create_listed
from .store import Record, Store
from .values import Fields

ORDER = (
    "Fund",
    "Campaign",
    "Appeal",
    "EmailInterest",
    "CustomFieldCategory",
    "CustomField",
    "CustomValue",
    "Constituent",
    "Household",
    "Transaction",
    "SoftCredit",
)
NUMBERS = {"Constituent": "AccountNumber", "Household": "AccountNumber", "Transaction": "TransactionNumber"}
SEQUENCES = {
    "AccountNumber": "account_number",
    "TransactionNumber": "transaction_number",
    "DesignationNumber": "designation_number",
}


class LoadError(Exception):
    """A data file that cannot be loaded; says which record and why."""


def load_document(store: Store, document: Any) -> dict[str, int]:
    """Add every record of ``document``; returns how many of each kind were loaded."""
    if not isinstance(document, dict):
        raise LoadError('a data file is a JSON object of record lists, e.g. {"Constituent": [...]}')
    unknown = sorted(set(document) - set(ORDER))
    if unknown:
        raise LoadError(f"unknown record kinds: {', '.join(unknown)}; known: {', '.join(ORDER)}")
    loader = _Loader(store)
    loaded: dict[str, int] = {}
    with store.lock, store.transaction():
        for kind in ORDER:
            items = document.get(kind) or []
            if not isinstance(items, list):
                raise LoadError(f"{kind} must be a list of records")
            for index, item in enumerate(items):
                try:
                    loader.load(kind, item)
                except ApiError as error:
                    raise LoadError(f"{kind}[{index}]: {error.message}") from None
            if items:
                loaded[kind] = len(items)
        # Joining households and recording payments stamped records with now: put back
        # the audit trails the file gave.
        for kind, record_id, values in loader.stamps:
            current = store.get(kind, record_id)
            if current is not None and values:
                store.put(kind, {**current, **values})
    return loaded


class _Loader:
    """Loads records one at a time, remembering audit trails and households to join."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stamps: list[tuple[str, int, dict[str, Any]]] = []
        self.pending: dict[int, int] = {}  # constituent id -> household id later in the file

    def audit(self, item: dict[str, Any], number: str | None) -> dict[str, Any]:
        """The audit fields and display number a loaded record asks for."""
        values: dict[str, Any] = {}
        trail = item.get("AuditTrail")
        if isinstance(trail, dict):
            for source, target in (("CreatedDate", "Created"), ("LastModifiedDate", "Modified")):
                if trail.get(source):
                    try:
                        values[target] = parse_timestamp(str(trail[source]))
                    except ValueError:
                        raise ApiError(
                            400, f"AuditTrail.{source} '{trail[source]}' is not a date-time."
                        ) from None
            for source, target in (("CreatedName", "CreatedName"), ("LastModifiedName", "ModifiedName")):
                if trail.get(source):
                    values[target] = str(trail[source])
            if "Created" in values:
                values.setdefault("Modified", values["Created"])
        if number is not None and isinstance(item.get(number), int):
            values[number] = item[number]
            self.store.reserve(SEQUENCES[number], item[number])
        return values

    def load(self, kind: str, item: Any) -> None:
        """Load one record of ``kind``."""
        store = self.store
        if not isinstance(item, dict):
            raise ApiError(400, "a record must be a JSON object")
        record_id = item.get("Id")
        if record_id is not None and (
            not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1
        ):
            raise ApiError(400, f"Id {record_id!r} must be a positive integer.")
        for table in ("Constituent", "Household") if kind in ("Constituent", "Household") else (kind,):
            if record_id is not None and store.get(table, record_id) is not None:
                raise ApiError(400, f"the Id {record_id} is already used by a {table.lower()}.")
        created = self.audit(item, None).get("Created")
        if kind == "Transaction":
            self.transaction(item, record_id, created)
            return
        if kind == "Constituent":
            record = self.constituent(item, record_id, created)
        elif kind == "Household":
            body = dict(item)
            body["Head"] = {"Id": item["HeadId"]} if item.get("HeadId") else item.get("Head")
            if isinstance(item.get("MemberIds"), list):
                body["Members"] = [{"Id": member} for member in item["MemberIds"]]
            record = create_household(store, Fields(body), SCREEN_USER, record_id=record_id, created=created)
            for member_id, household_id in list(self.pending.items()):
                if household_id == record["Id"]:
                    membership.join(store, member_id, household_id, SCREEN_USER)
        elif kind == "SoftCredit":
            record = create_soft_credit(
                store, Fields(item), SCREEN_USER, record_id=record_id, created=created
            )
        else:
            record = create_listed(
                store, kind, Fields(item), SCREEN_USER, record_id=record_id, created=created
            )
        self.stamps.append((kind, int(record["Id"]), self.audit(item, NUMBERS.get(kind))))

    def constituent(self, item: dict[str, Any], record_id: int | None, created: int | None) -> Record:
        """A constituent, joining its household now or when the household is loaded."""
        body = {
            k: v for k, v in item.items() if k not in ("HouseholdId", "CustomValues", "CustomEmailInterests")
        }
        body["CustomValues"] = _custom_values(self.store, item.get("CustomValues"))
        if isinstance(item.get("CustomEmailInterests"), list):
            body["CustomEmailInterestIds"] = [
                i.get("Id") for i in item["CustomEmailInterests"] if isinstance(i, dict)
            ]
        record = create_constituent(
            self.store, Fields(body), SCREEN_USER, record_id=record_id, created=created
        )
        household_id = item.get("HouseholdId")
        if isinstance(household_id, int):
            if self.store.get("Household", household_id) is not None:
                membership.join(self.store, record["Id"], household_id, SCREEN_USER)
            else:
                self.pending[int(record["Id"])] = household_id
        return record

    def transaction(self, item: dict[str, Any], record_id: int | None, created: int | None) -> None:
        """A transaction with its designations, ids and audit trails kept."""
        body = dict(item)
        body["Designations"] = [_designation(self.store, d) for d in item.get("Designations") or []]
        record = create_transaction(
            self.store, Fields(body), SCREEN_USER, record_id=record_id, created=created, keep_ids=True
        )
        own = self.audit(item, "TransactionNumber")
        self.stamps.append(("Transaction", int(record["Id"]), own))
        inherited = {k: v for k, v in own.items() if k != "TransactionNumber"}
        for source, designation_id in zip(
            item.get("Designations") or [], record["DesignationIds"], strict=False
        ):
            trail = self.audit(source, "DesignationNumber") if isinstance(source, dict) else {}
            self.stamps.append(("Designation", designation_id, {**inherited, **trail}))


def _custom_values(store: Store, values: Any) -> list[dict[str, Any]]:
    """Custom values in the output shape, as assignments."""
    result: list[dict[str, Any]] = []
    for entry in values if isinstance(values, list) else []:
        if not isinstance(entry, dict) or "FieldId" not in entry:
            raise ApiError(400, "a custom value needs a FieldId")
        field = store.get("CustomField", entry["FieldId"]) or {}
        value = entry.get("Value")
        if isinstance(value, dict):
            key = "Value" if field.get("PickType", "Freeform") == "Freeform" else "ValueId"
            result.append({"FieldId": entry["FieldId"], key: value.get("Value" if key == "Value" else "Id")})
        elif isinstance(entry.get("Values"), list):
            result.append({"FieldId": entry["FieldId"], "ValueIds": [v.get("Id") for v in entry["Values"]]})
        else:
            result.append(dict(entry))
    return result


def _designation(store: Store, item: Any) -> Any:
    """A designation in the output shape, as a create body (ids and custom values kept)."""
    if not isinstance(item, dict):
        return item
    body: dict[str, Any] = {k: v for k, v in item.items() if k not in ("CustomValues", "SoftCreditIds")}
    body["CustomValues"] = _custom_values(store, item.get("CustomValues"))
    if body.get("Type") == "RecurringDonationPayment":
        body.setdefault("IsExtraPayment", False)
    return body
