"""Finding constituents: the quick search, duplicate detection, and its one shared notion of a
possible duplicate ("a name plus one piece of contact info", as the document defines it).

Names and emails compare case-insensitively with surrounding space ignored, phone numbers
by their digits, streets case-insensitively with runs of space collapsed.
"""

from __future__ import annotations

import re

from .store import Record, Store

_DIGITS = re.compile(r"\D+")
_SPACE = re.compile(r"\s+")


def norm(text: object) -> str:
    """Case-folded text with runs of space collapsed."""
    return _SPACE.sub(" ", str(text or "")).strip().casefold()


def digits(text: object) -> str:
    """Only the digits of a phone number."""
    return _DIGITS.sub("", str(text or ""))


def _haystack(record: Record, kind: str) -> str:
    parts = [str(record["AccountNumber"])]
    names = (
        ("FullName", "SortName")
        if kind == "Household"
        else ("FullName", "FirstName", "LastName", "InformalName")
    )
    parts += [str(record.get(name) or "") for name in names]
    for item in record.get("Emails") or ():
        parts.append(str(item.get("Value") or ""))
    for item in record.get("Phones") or ():
        parts.append(digits(item.get("Number")))
    for item in record.get("Addresses") or ():
        parts += [str(item.get("Street") or ""), str(item.get("City") or "")]
    return norm(" ".join(parts))


def search(store: Store, text: str, kind: str | None) -> list[tuple[str, int]]:
    """(kind, id) of the constituents and households whose names, account number, emails,
    phones or addresses contain every word of ``text``; by id."""
    words = [word for word in norm(text.replace("+", " ")).split(" ") if word]

    def compute() -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for table_kind in ("Constituent", "Household"):
            for record in store.tables[table_kind].values():
                record_kind = "Household" if table_kind == "Household" else record["Type"]
                if kind is not None and record_kind != kind:
                    continue
                haystack = _haystack(record, table_kind)
                if all(word in haystack for word in words):
                    found.append((table_kind, record["Id"]))
        return sorted(found, key=lambda pair: pair[1])

    result: list[tuple[str, int]] = store.cached(
        ("search", tuple(words), kind), compute, ("Constituent", "Household")
    )
    return result


def duplicates(
    store: Store,
    *,
    kind: str | None,
    first: str | None,
    last: str | None,
    organization: str | None,
    street: str | None,
    phone: str | None,
    email: str | None,
) -> list[Record]:
    """Constituents with the same name and, when any contact info is given, one piece of it."""
    contact = [value for value in (street, phone, email) if value]
    result = []
    for record in store.tables["Constituent"].values():
        if kind is not None and record["Type"] != kind:
            continue
        if record["Type"] == "Organization":
            if not organization or norm(record.get("FullName")) != norm(organization):
                continue
        elif not (first and last) or (norm(record.get("FirstName")), norm(record.get("LastName"))) != (
            norm(first),
            norm(last),
        ):
            continue
        if contact and not _shares_contact(record, street, phone, email):
            continue
        result.append(record)
    return sorted(result, key=lambda record: record["Id"])


def _shares_contact(record: Record, street: str | None, phone: str | None, email: str | None) -> bool:
    if email and any(norm(item.get("Value")) == norm(email) for item in record.get("Emails") or ()):
        return True
    if (
        phone
        and digits(phone)
        and any(digits(item.get("Number")) == digits(phone) for item in record.get("Phones") or ())
    ):
        return True
    return bool(street) and any(
        norm(item.get("Street")) == norm(street) for item in record.get("Addresses") or ()
    )
