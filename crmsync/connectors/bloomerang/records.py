"""Bloomerang's nested records as flat virtual objects (catalog ``bloomerang``).

Each virtual object comes from one list of the API (its *source*); several objects may share
a source (individuals, organizations and their email-interest subscriptions all come from
``/constituents``; transactions and designations from ``/transactions``), which lets one read
of the list serve them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from crmsync.connectors.base import CrmRecord

Raw = Mapping[str, Any]


@dataclass(frozen=True)
class Source:
    """A list endpoint: its path, whether it filters by ``lastModified``, how it can order."""

    path: str
    modified_filter: bool
    # Lists that order by LastModifiedDate are streamed; the others are read whole and sorted.
    orders_by_modified: bool


SOURCES = {
    "constituents": Source("/constituents", True, True),
    "households": Source("/households", True, False),
    "transactions": Source("/transactions", True, True),
    "softcredits": Source("/softcredits", True, True),
    "funds": Source("/funds", False, False),
    "campaigns": Source("/campaigns", True, False),
    "appeals": Source("/appeals", True, False),
}


@dataclass(frozen=True)
class Context:
    """What flattening needs besides the record: custom field ids, the email interests."""

    platform_id_fields: Mapping[str, int]
    email_interests: tuple[tuple[int, str], ...] = ()


Flattener = Callable[[Raw, Context], Iterator[tuple[str, str | None, dict[str, Any]]]]


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _nested_id(raw: Raw, name: str) -> str | None:
    nested = raw.get(name)
    return _id(nested.get("Id")) if isinstance(nested, Mapping) else None


def modified(raw: Raw) -> str | None:
    """The record's ``AuditTrail.LastModifiedDate`` (None for lists without an audit trail)."""
    audit = raw.get("AuditTrail")
    return (
        str(audit["LastModifiedDate"])
        if isinstance(audit, Mapping) and audit.get("LastModifiedDate")
        else None
    )


def custom_text(raw: Raw, field_id: int | None) -> str | None:
    """The text of a freeform custom value, or None."""
    if field_id is None:
        return None
    for item in raw.get("CustomValues") or ():
        if item.get("FieldId") == field_id:
            value = item.get("Value")
            if isinstance(value, Mapping):
                value = value.get("Value")
            return None if value is None else str(value)
    return None


def _constituent(raw: Raw, ctx: Context) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    email = raw.get("PrimaryEmail") or {}
    phone = raw.get("PrimaryPhone") or {}
    address = raw.get("PrimaryAddress") or {}
    yield (
        str(raw["Id"]),
        modified(raw),
        {
            "Type": raw.get("Type"),
            "Status": raw.get("Status"),
            "FirstName": raw.get("FirstName"),
            "MiddleName": raw.get("MiddleName"),
            "LastName": raw.get("LastName"),
            "FullName": raw.get("FullName"),
            "JobTitle": raw.get("JobTitle"),
            "Birthdate": raw.get("Birthdate"),
            "Website": raw.get("Website"),
            "Email": email.get("Value"),
            "Phone": phone.get("Number"),
            "Street": address.get("Street"),
            "City": address.get("City"),
            "State": address.get("State"),
            "PostalCode": address.get("PostalCode"),
            "Country": address.get("Country"),
            "DoNotCall": "DoNotCall" in (raw.get("CommunicationRestrictions") or ()),
            "EmailOptOut": raw.get("EmailInterestType") == "OptedOut",
            "HouseholdId": _id(raw.get("HouseholdId")),
            "Platform_Id__c": custom_text(raw, ctx.platform_id_fields.get("Constituent")),
            "LastModifiedDate": modified(raw),
        },
    )


def _subscriptions(raw: Raw, ctx: Context) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    if raw.get("Type") != "Individual":
        return
    kind = raw.get("EmailInterestType") or "All"
    chosen = {item.get("Id") for item in raw.get("CustomEmailInterests") or ()}
    chosen.update(raw.get("CustomEmailInterestIds") or ())
    for interest_id, name in ctx.email_interests:
        subscribed = kind == "All" or (kind == "Custom" and interest_id in chosen)
        yield (
            f"{raw['Id']}-{interest_id}",
            modified(raw),
            {
                "ConstituentId": str(raw["Id"]),
                "EmailInterestId": interest_id,
                "Name": name,
                "Channel": "Email",
                "Status": "Subscribed" if subscribed else "Unsubscribed",
            },
        )


def _designation_values(transaction: Raw, item: Raw) -> dict[str, Any]:
    kind = item.get("Type")
    installments = item.get("PledgeInstallments")
    return {
        "TransactionId": _id(transaction.get("Id")),
        "Type": kind,
        "Amount": item.get("Amount"),
        "AccountId": _id(transaction.get("AccountId")),
        "Date": transaction.get("Date"),
        "FundId": _nested_id(item, "Fund"),
        "CampaignId": _nested_id(item, "Campaign"),
        "AppealId": _nested_id(item, "Appeal"),
        "RecurringDonationId": _id(item.get("RecurringDonationId")),
        "PledgeId": _id(item.get("PledgeId")),
        "Frequency": item.get("RecurringDonationFrequency") or item.get("PledgeFrequency"),
        "StartDate": item.get("RecurringDonationStartDate"),
        "EndDate": item.get("RecurringDonationEndDate"),
        "Status": item.get("RecurringDonationStatus") or item.get("PledgeStatus"),
        "NextDate": item.get("RecurringDonationNextInstallmentDate") or item.get("PledgeNextInstallmentDate"),
        "Installments": len(installments) if isinstance(installments, list) else None,
        "AcknowledgementStatus": item.get("AcknowledgementStatus"),
        "Note": item.get("Note"),
    }


def _transaction(raw: Raw, ctx: Context) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    designations = raw.get("Designations") or [{}]
    first = _designation_values(raw, designations[0])
    yield (
        str(raw["Id"]),
        modified(raw),
        {
            "TransactionNumber": raw.get("TransactionNumber"),
            "AccountId": _id(raw.get("AccountId")),
            "Date": raw.get("Date"),
            "Amount": raw.get("Amount"),
            "Method": raw.get("Method"),
            "CheckNumber": raw.get("CheckNumber"),
            "Kind": first["Type"],
            "FundId": first["FundId"],
            "CampaignId": first["CampaignId"],
            "AppealId": first["AppealId"],
            "RecurringDonationId": first["RecurringDonationId"],
            "PledgeId": first["PledgeId"],
            "AcknowledgementStatus": first["AcknowledgementStatus"],
            "Note": first["Note"],
            "Designations": len(raw.get("Designations") or ()),
            "Platform_Id__c": custom_text(designations[0], ctx.platform_id_fields.get("Transaction")),
            "LastModifiedDate": modified(raw),
        },
    )


def _designations(raw: Raw, ctx: Context) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    # A designation changes with its transaction (the API marks both), and the list of
    # designations has no lastModified filter: the transaction's stamp orders them.
    stamp = modified(raw)
    for item in raw.get("Designations") or ():
        yield str(item["Id"]), stamp, {**_designation_values(raw, item), "LastModifiedDate": stamp}


def _plain(*names: str, renames: Mapping[str, str] | None = None) -> Flattener:
    def flatten(raw: Raw, ctx: Context) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        values = {name: raw.get(name) for name in names}
        for flat, nested in (renames or {}).items():
            values[flat] = _id(raw.get(nested))
        stamp = modified(raw)
        if stamp is not None:
            values["LastModifiedDate"] = stamp
        yield str(raw["Id"]), stamp, values

    return flatten


@dataclass(frozen=True)
class VirtualObject:
    """A flat object of the catalog: its source list and how a raw record becomes its records."""

    source: str
    flatten: Flattener


OBJECTS: dict[str, VirtualObject] = {
    "fund": VirtualObject("funds", _plain("Name", "IsActive", "IsDefault")),
    "campaign": VirtualObject("campaigns", _plain("Name", "IsActive", "StartDate", "EndDate", "Goal")),
    "appeal": VirtualObject("appeals", _plain("Name", "IsActive")),
    "household": VirtualObject(
        "households", _plain("FullName", "InformalName", renames={"HeadId": "HeadId"})
    ),
    "constituent": VirtualObject("constituents", _constituent),
    "emailinterestsubscription": VirtualObject("constituents", _subscriptions),
    "transaction": VirtualObject("transactions", _transaction),
    "designation": VirtualObject("transactions", _designations),
    "softcredit": VirtualObject(
        "softcredits",
        _plain(
            "Amount",
            renames={
                "DesignationId": "DesignationId",
                "TransactionId": "TransactionId",
                "AccountId": "AccountId",
            },
        ),
    ),
}


def records_of(
    obj: VirtualObject,
    raws: list[Raw],
    ctx: Context,
    fields: tuple[str, ...],
    keep: Callable[[dict[str, Any]], bool] = lambda _values: True,
) -> list[CrmRecord]:
    """The flat records of ``obj`` that ``keep`` accepts, with exactly the asked ``fields`` as keys."""
    out = []
    for raw in raws:
        for crm_id, stamp, values in obj.flatten(raw, ctx):
            # Conditions on Id (a manual sync of one record, parents a filter keeps out) see it.
            values["Id"] = crm_id
            if keep(values):
                out.append(CrmRecord(crm_id, stamp, {name: values.get(name) for name in fields}))
    return out


def id_key(crm_id: str) -> tuple[int, ...]:
    """Bloomerang ids are numbers (subscriptions: two joined by '-'); order them as such."""
    try:
        return tuple(int(part) for part in crm_id.split("-"))
    except ValueError:
        return (0,)
