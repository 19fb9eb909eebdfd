"""A small Salesforce-like catalog and an in-memory record source for the SOQL engine's tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from crmsync.catalogs import Catalog, FieldDef, ObjectDef
from crmsync.emulators.salesforce.soql import SoqlError, compile_query

NOW = datetime(2024, 5, 15, 13, 30, tzinfo=UTC)  # a Wednesday
API = "61.0"


def _field(name: str, type_: str, **extra: Any) -> FieldDef:
    return FieldDef(name=name, label=name, type=type_, **extra)


def _ref(name: str, targets: tuple[str, ...], relationship: str) -> FieldDef:
    return _field(name, "reference", reference_to=targets, relationship_name=relationship)


def _object(name: str, prefix: str, *fields: FieldDef) -> ObjectDef:
    base = [
        _field("Id", "id", nillable=False),
        _field("IsDeleted", "boolean"),
        _field("CreatedDate", "datetime"),
        _field("SystemModstamp", "datetime"),
    ]
    return ObjectDef(
        name=name,
        label=name,
        label_plural=name + "s",
        key_prefix=prefix,
        fields={f.name: f for f in [*base, *fields]},
    )


def make_catalog() -> Catalog:
    """Account, Contact, Opportunity, User, RecordType and Task, with the usual relationships."""
    objects = [
        _object(
            "Account",
            "001",
            _field("Name", "string", length=255),
            _field("Industry", "picklist", picklist_values=("Banking", "Education")),
            _field("AnnualRevenue", "currency"),
            _field("NumberOfEmployees", "int"),
            _field("Description", "textarea", length=32000),
            _field("Tags__c", "multipicklist", custom=True),
            _ref("ParentId", ("Account",), "Parent"),
            _ref("OwnerId", ("User",), "Owner"),
            _ref("RecordTypeId", ("RecordType",), "RecordType"),
        ),
        _object(
            "Contact",
            "003",
            _field("Name", "string", createable=False, updateable=False),
            _field("FirstName", "string"),
            _field("LastName", "string"),
            _field("Email", "email"),
            _field("Birthdate", "date"),
            _field("HasOptedOutOfEmail", "boolean"),
            _ref("AccountId", ("Account",), "Account"),
            _ref("OwnerId", ("User",), "Owner"),
        ),
        _object(
            "Opportunity",
            "006",
            _field("Name", "string"),
            _field("StageName", "picklist"),
            _field("Amount", "currency"),
            _field("Probability", "percent"),
            _field("CloseDate", "date"),
            _field("IsWon", "boolean"),
            _ref("AccountId", ("Account",), "Account"),
            _ref("RecordTypeId", ("RecordType",), "RecordType"),
            _ref("npsp__Primary_Contact__c", ("Contact",), "npsp__Primary_Contact__r"),
        ),
        _object(
            "User",
            "005",
            _field("Name", "string"),
            _field("Email", "email"),
            _ref("ManagerId", ("User",), "Manager"),
        ),
        _object(
            "RecordType",
            "012",
            _field("Name", "string"),
            _field("DeveloperName", "string"),
            _field("SobjectType", "picklist"),
        ),
        _object(
            "Task",
            "00T",
            _field("Subject", "string"),
            # Lead is not in this catalog: a polymorphic target the catalog lacks is skipped.
            _ref("WhoId", ("Contact", "Lead"), "Who"),
            _ref("WhatId", ("Account", "Opportunity"), "What"),
        ),
    ]
    return Catalog(name="soql-test", objects={obj.name: obj for obj in objects})


CATALOG = make_catalog()


def make_id(prefix: str, n: int) -> str:
    """An 18-character id with ``prefix`` and serial ``n``."""
    return f"{prefix}{n:012d}AAA"


class MemorySource:
    """A RecordSource over dicts: object name -> rows (each with Id and IsDeleted)."""

    def __init__(self, rows: Mapping[str, Iterable[Mapping[str, Any]]] | None = None) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.gets = 0
        for object_name, object_rows in (rows or {}).items():
            for row in object_rows:
                self.add(object_name, row)

    def add(self, object_name: str, row: Mapping[str, Any]) -> dict[str, Any]:
        full = {"IsDeleted": False, **row}
        self.tables.setdefault(object_name, {})[full["Id"]] = full
        return full

    def scan(self, object_name: str) -> Iterable[Mapping[str, Any]]:
        return list(self.tables.get(object_name, {}).values())

    def get(self, object_name: str, record_id: str) -> Mapping[str, Any] | None:
        self.gets += 1
        return self.tables.get(object_name, {}).get(record_id)


def ids(soql: str, source: MemorySource, *, include_deleted: bool = False, now: datetime = NOW) -> list[str]:
    """The Ids ``soql`` returns from ``source``, in order."""
    query = compile_query(soql, CATALOG)
    return [row["Id"] for row in query.run(source, include_deleted=include_deleted, now=now)]


def soql_error(soql: str) -> SoqlError:
    """The SoqlError compiling ``soql`` raises (fails the test when it compiles)."""
    with pytest.raises(SoqlError) as caught:
        compile_query(soql, CATALOG)
    return caught.value


def detail(message: str) -> str:
    """The last line of a positioned Salesforce message (what follows the ERROR at Row line)."""
    return message.rsplit("\n", 1)[-1]
