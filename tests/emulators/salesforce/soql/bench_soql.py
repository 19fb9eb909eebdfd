"""Time the SOQL engine on a sync engine's incremental query over 40,000 Opportunities.

Run: .venv/bin/python tests/emulators/salesforce/soql/bench_soql.py   (prints numbers; asserts nothing)
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from soql_testkit import MemorySource, make_id

from crmsync.catalogs import Catalog, FieldDef, ObjectDef
from crmsync.emulators.salesforce.soql import compile_query

ROWS = 40_000
EXTRA = [f"Field{i}__c" for i in range(14)]


def _catalog() -> Catalog:
    def f(name: str, type_: str, **extra: Any) -> FieldDef:
        return FieldDef(name=name, label=name, type=type_, **extra)

    opp = [
        f("Id", "id"),
        f("IsDeleted", "boolean"),
        f("Name", "string"),
        f("StageName", "picklist"),
        f("Amount", "currency"),
        f("CloseDate", "date"),
        f("SystemModstamp", "datetime"),
        f("LastModifiedDate", "datetime"),
        f("RecordTypeId", "reference", reference_to=("RecordType",), relationship_name="RecordType"),
        f("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
        *(f(name, "string") for name in EXTRA),
    ]
    rt = [f("Id", "id"), f("IsDeleted", "boolean"), f("DeveloperName", "string")]
    acc = [f("Id", "id"), f("IsDeleted", "boolean"), f("Name", "string")]
    return Catalog(
        name="bench",
        objects={
            "Opportunity": ObjectDef(name="Opportunity", label="O", label_plural="O", key_prefix="006",
                                     fields={x.name: x for x in opp}),
            "RecordType": ObjectDef(name="RecordType", label="R", label_plural="R", key_prefix="012",
                                    fields={x.name: x for x in rt}),
            "Account": ObjectDef(name="Account", label="A", label_plural="A", key_prefix="001",
                                 fields={x.name: x for x in acc}),
        },
    )  # fmt: skip


def _source() -> MemorySource:
    rng = random.Random(7)
    start = datetime(2023, 6, 1, tzinfo=UTC)
    source = MemorySource()
    for n in range(4):
        source.add("RecordType", {"Id": make_id("012", n), "DeveloperName": f"RT{n}"})
    for n in range(2000):
        source.add("Account", {"Id": make_id("001", n), "Name": f"Account {n}"})
    for n in range(ROWS):
        stamp = start + timedelta(seconds=rng.randrange(0, 365 * 86400))
        text = f"{stamp:%Y-%m-%dT%H:%M:%S}.000+0000"
        row: dict[str, Any] = {
            "Id": make_id("006", n),
            "IsDeleted": rng.random() < 0.02,
            "Name": f"Gift {n}",
            "StageName": rng.choice(["Closed Won", "Pledged", "Prospecting"]),
            "Amount": round(rng.uniform(5, 5000), 2),
            "CloseDate": stamp.date().isoformat(),
            "SystemModstamp": text,
            "LastModifiedDate": text,
            "RecordTypeId": make_id("012", rng.randrange(4)),
            "AccountId": make_id("001", rng.randrange(2000)),
        }
        row.update(dict.fromkeys(EXTRA, f"value {n}"))
        source.add("Opportunity", row)
    return source


def _time(label: str, action: Any, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    best, median = min(times), statistics.median(times)
    print(f"{label:<58} best {best * 1000:7.1f} ms   median {median * 1000:7.1f} ms")
    return median


def main() -> None:
    catalog = _catalog()
    source = _source()
    now = datetime(2024, 6, 1, tzinfo=UTC)
    fields = ", ".join(["Id", "Name", "StageName", "Amount", "CloseDate", "SystemModstamp", *EXTRA])
    text = (
        f"SELECT {fields}, RecordType.DeveloperName FROM Opportunity "
        "WHERE (SystemModstamp > 2023-06-02T00:00:00.000Z OR "
        f"(SystemModstamp = 2023-06-02T00:00:00.000Z AND Id > '{make_id('006', 5)}')) "
        "AND StageName != 'Pledged' ORDER BY SystemModstamp, Id"
    )
    _time("compile_query (sync query)", lambda: compile_query(text, catalog), repeat=50)
    query = compile_query(text, catalog)
    rows = query.run(source, include_deleted=True, now=now)
    print(f"matching rows: {len(rows)} of {ROWS}")
    _time(
        "run() sync query over 40,000 rows (queryAll)",
        lambda: query.run(source, include_deleted=True, now=now),
    )
    _time(
        "run() sync query over 40,000 rows (query)", lambda: query.run(source, include_deleted=False, now=now)
    )
    page = rows[:2000]
    _time(
        "render() 2,000 rows (21 fields + RecordType.DeveloperName)",
        lambda: [query.render(row, source, api_version="61.0") for row in page],
    )
    where_parent = compile_query(
        "SELECT Id FROM Opportunity WHERE RecordType.DeveloperName = 'RT1' ORDER BY Account.Name DESC, Id",
        catalog,
    )
    _time(
        "run() filter + sort through parents, 40,000 rows",
        lambda: where_parent.run(source, include_deleted=False, now=now),
    )
    count = compile_query("SELECT COUNT() FROM Opportunity WHERE CloseDate = LAST_N_DAYS:90", catalog)
    _time(
        "run() COUNT() with LAST_N_DAYS:90, 40,000 rows",
        lambda: count.run(source, include_deleted=False, now=now),
    )


if __name__ == "__main__":
    main()
