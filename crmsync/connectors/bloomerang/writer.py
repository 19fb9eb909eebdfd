"""Writing flat records back as Bloomerang's bodies: one call per record, parents first.

Bloomerang has no batch or upsert endpoint. A create is made idempotent by looking first
for a record that already carries the platform id (the "Platform Id" custom field): a
constituent through ``customFieldId``/``customFieldValue``, a gift among its donor's
latest transactions. A retry after a lost answer therefore updates instead of duplicating.
Transactions are designation-aware: an update keeps the designation's id (a PUT without it
would replace the designation), and a gift split over several designations is only
updated where that cannot change the split.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.records import custom_text
from crmsync.connectors.writes import Ref, WriteRecord, WriteResult
from crmsync.errors import RecordError

PLATFORM_ID = "Platform_Id__c"
_ADDRESS = ("Street", "City", "State", "PostalCode", "Country")
# Records written as they are: funds, campaigns and appeals by POST and PUT (matched by name
# before a create, so a retry finds the first), households by PUT only: a household is made
# of its members, which Bloomerang's household screen brings together.
_LIST_SEGMENTS = {"fund": "fund", "campaign": "campaign", "appeal": "appeal", "household": "household"}


class BloomerangWriter:
    """Creates and updates records through the REST API."""

    def __init__(self, client: BloomerangClient, platform_id_field: Callable[[str], int | None]) -> None:
        self.client = client
        self._field_id = platform_id_field
        self._default_fund: str | None = None

    def write(self, records: Sequence[WriteRecord]) -> list[WriteResult]:
        """Write in order; a record whose parent failed in this request is not attempted."""
        done: dict[str, WriteResult] = {}
        for record in records:
            failed = [d for d in record.depends_on if d in done and not done[d].ok]
            if failed:
                done[record.key] = WriteResult(
                    record.key, False, halted=True, message=f"not sent: its parent {failed[0]} failed"
                )
                continue
            body = {
                name: _typed(
                    name, done[value.key].crm_id if isinstance(value, Ref) and value.key in done else value
                )
                for name, value in record.body.items()
            }
            # Parents created by this very request: they can have no gifts to look among yet.
            fresh = {
                name
                for name, value in record.body.items()
                if isinstance(value, Ref) and value.key in done and done[value.key].created
            }
            try:
                done[record.key] = self._one(record, body, fresh)
            except RecordError as exc:
                done[record.key] = WriteResult(
                    record.key, False, code=exc.code, message=exc.message, details=exc.details
                )
        return [done[r.key] for r in records]

    def delete(self, targets: Sequence[tuple[str, str, str]]) -> list[WriteResult]:
        """Delete (key, object, id) triples; a record already gone counts as deleted."""
        results = []
        for key, object_name, crm_id in targets:
            kind = object_name.casefold()
            if kind not in ("constituent", "transaction", "softcredit", "household"):
                results.append(
                    WriteResult(
                        key,
                        False,
                        crm_id,
                        code="CANNOT_DELETE",
                        message=f"Bloomerang's API cannot delete {object_name} records",
                    )
                )
                continue
            try:
                self.client.request("DELETE", f"/{kind}/{crm_id}")
                results.append(WriteResult(key, True, crm_id))
            except RecordError as exc:
                if exc.code == "NOT_FOUND":
                    results.append(WriteResult(key, True, crm_id, message="already deleted in Bloomerang"))
                else:
                    results.append(WriteResult(key, False, crm_id, code=exc.code, message=exc.message))
        return results

    # -- one record -----------------------------------------------------------------------

    def _one(self, record: WriteRecord, body: dict[str, Any], fresh: set[str]) -> WriteResult:
        kind = record.object.casefold()
        platform_id = record.external_id or body.get(PLATFORM_ID)
        if kind == "constituent":
            payload = self._constituent(body, platform_id)
            crm_id = record.crm_id or self._constituent_with(platform_id)
            return self._save(record.key, "constituent", crm_id, payload)
        if kind == "transaction":
            return self._transaction(record, body, platform_id, fresh)
        if kind == "softcredit":
            return self._soft_credit(record, body)
        if kind in _LIST_SEGMENTS:
            if record.crm_id is None and kind == "household":
                raise RecordError(
                    "crmsync does not create Bloomerang households: a household is made of its members; "
                    "group them in Bloomerang (a constituent's Household section) and the next pull links it",
                    code="CANNOT_CREATE",
                )
            return self._save(record.key, _LIST_SEGMENTS[kind], record.crm_id, _plain(body))
        raise RecordError(
            f"{record.object} records are read from Bloomerang only; they cannot be written",
            code="READ_ONLY",
        )

    def _save(self, key: str, segment: str, crm_id: str | None, payload: dict[str, Any]) -> WriteResult:
        if crm_id is not None:
            answer = self.client.request("PUT", f"/{segment}/{crm_id}", body=payload)
            return WriteResult(key, True, str(answer.get("Id", crm_id)))
        answer = self.client.request("POST", f"/{segment}", body=payload)
        return WriteResult(key, True, str(answer["Id"]), created=True)

    def _constituent(self, body: Mapping[str, Any], platform_id: str | None) -> dict[str, Any]:
        payload = _plain(body, skip={"Email", "Phone", "EmailOptOut", "DoNotCall", "HouseholdId", *_ADDRESS})
        if "Email" in body:
            payload["PrimaryEmail"] = {"Type": "Home", "Value": body["Email"]} if body["Email"] else None
        if "Phone" in body:
            payload["PrimaryPhone"] = {"Type": "Home", "Number": body["Phone"]} if body["Phone"] else None
        address = {name: body[name] for name in _ADDRESS if name in body}
        # An update sends only what changed (a city cleared on the platform too); Bloomerang
        # keeps the address's other parts.
        if address:
            payload["PrimaryAddress"] = {"Type": "Home", **address}
        field_id = self._field_id("Constituent")
        if field_id is not None and platform_id:
            payload["CustomValues"] = [{"FieldId": field_id, "Value": platform_id}]
        return payload

    def _constituent_with(self, platform_id: str | None) -> str | None:
        field_id = self._field_id("Constituent")
        if field_id is None or not platform_id:
            return None
        found = self.client.get(
            "/constituents", {"customFieldId": field_id, "customFieldValue": platform_id, "take": 1}
        )
        results = found.get("Results") or []
        return str(results[0]["Id"]) if results else None

    def _transaction(
        self, record: WriteRecord, body: dict[str, Any], platform_id: str | None, fresh: set[str]
    ) -> WriteResult:
        field_id = self._field_id("Transaction")
        gift = {
            k: v for k, v in body.items() if k in ("AccountId", "Date", "Amount", "Method", "CheckNumber")
        }
        if gift.get("Method") is None and "Method" in gift:
            gift["Method"] = "None"
        line: dict[str, Any] = {}
        for flat in ("FundId", "CampaignId", "AppealId", "RecurringDonationId", "PledgeId", "Note"):
            if flat in body:
                line[flat] = body[flat]
        if "Amount" in body:
            line["Amount"] = body["Amount"]
        if field_id is not None and platform_id:
            line["CustomValues"] = [{"FieldId": field_id, "Value": platform_id}]
        crm_id = record.crm_id
        if crm_id is None and gift.get("AccountId") and "AccountId" not in fresh:
            crm_id = self._gift_with(str(gift["AccountId"]), platform_id, field_id)
        if crm_id is None:
            gift.setdefault("Method", "None")
            line["Type"] = body.get("Kind") or "Donation"
            if not line.get("FundId"):
                line["FundId"] = int(self._fund())
            answer = self.client.request("POST", "/transaction", body={**gift, "Designations": [line]})
            return WriteResult(record.key, True, str(answer["Id"]), created=True)
        current = self.client.get(f"/transaction/{crm_id}")
        designations = current.get("Designations") or []
        if len(designations) > 1:
            if "Amount" in gift and float(gift["Amount"]) != float(current.get("Amount") or 0):
                raise RecordError(
                    f"transaction {crm_id} is split over {len(designations)} designations in Bloomerang; "
                    "crmsync does not change the amount of a split gift: change it in Bloomerang",
                    code="SPLIT_GIFT",
                    fields=("Amount",),
                )
            line.pop("Amount", None)
        for empty in [k for k, v in line.items() if v is None and k.endswith("Id")]:
            line.pop(empty)
        line["Id"] = designations[0]["Id"] if designations else None
        payload = {**gift, "Designations": [line, *[{"Id": d["Id"]} for d in designations[1:]]]}
        answer = self.client.request("PUT", f"/transaction/{crm_id}", body=payload)
        return WriteResult(record.key, True, str(answer.get("Id", crm_id)))

    def _gift_with(self, account_id: str, platform_id: str | None, field_id: int | None) -> str | None:
        if field_id is None or not platform_id:
            return None
        latest = self.client.get(
            "/transactions",
            {"accountId": account_id, "orderBy": "CreatedDate", "orderDirection": "Desc", "take": 50},
        )
        for gift in latest.get("Results") or []:
            designations = gift.get("Designations") or [{}]
            if custom_text(designations[0], field_id) == platform_id:
                return str(gift["Id"])
        return None

    def _soft_credit(self, record: WriteRecord, body: dict[str, Any]) -> WriteResult:
        payload: dict[str, Any] = {k: body[k] for k in ("AccountId", "Amount") if k in body}
        if record.crm_id is None:
            transaction_id = body.get("TransactionId")
            if not transaction_id:
                raise RecordError("a soft credit needs its transaction", code="REQUIRED_FIELD_MISSING")
            gift = self.client.get(f"/transaction/{transaction_id}")
            payload["DesignationId"] = (gift.get("Designations") or [{}])[0].get("Id")
        return self._save(record.key, "softcredit", record.crm_id, payload)

    def _fund(self) -> str:
        """The database's default fund, for a gift the platform did not allocate."""
        if self._default_fund is None:
            funds = self.client.get("/funds", {"isActive": "true", "take": 50}).get("Results") or []
            chosen = next((f for f in funds if f.get("IsDefault")), funds[0] if funds else None)
            if chosen is None:
                raise RecordError(
                    "Bloomerang has no active fund to record the gift in; add one", code="NO_FUND"
                )
            self._default_fund = str(chosen["Id"])
        return self._default_fund


def _plain(body: Mapping[str, Any], skip: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in skip and k not in (PLATFORM_ID, "Kind")}


def _typed(name: str, value: Any) -> Any:
    """Links keep ids as text; Bloomerang's bodies take them as numbers."""
    if name.endswith("Id") and isinstance(value, str) and value.isdigit():
        return int(value)
    return value
