"""Matching on a first pull: a page's cost as the platform table grows, scanned or looked up.

A page of new records of a type with matching rules (supporters, matched by email) is
planned only once the platform is known to hold no row without a link that one of them
would match; its transaction asks again. Asked as "is any row without a link", that is a
scan of the table, and a first pull pays it twice a page while the table grows: its cost
grows with the square of the pull. Asked for the page's keys through the match index, a
page costs the same however large the table. crmsync scans tables of up to
``SCANNED_UP_TO`` rows (cheaper there) and looks keys up beyond.

For each table size, into a fresh SQLite platform holding that many linked supporters, the
script plans the same page of 2,000 new supporters both ways and prints the median time of
a page, then the ratios. It is a measurement, not a test: the exit code is 0 whatever the
figures.

    .venv/bin/python benchmarks/matching.py [--sizes 20000 200000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchkit import verdict

from crmsync.connectors.base import CrmRecord
from crmsync.engine import apply
from crmsync.engine.apply import Scope
from crmsync.engine.plan import plan_page
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.secrets import Vault, generate_key
from crmsync.store import bulk, links, records, tenancy
from crmsync.store.db import reading

PAGE = 2000
STAMP = "2026-12-07T10:00:00.000+0000"
# A page's cost at the largest size / at the smallest, keys looked up.
TARGET = 1.5


def contact(n: int) -> CrmRecord:
    """A new Salesforce contact of the page: its email matches no platform row."""
    crm_id = f"003N{n:014d}"
    values = {"Id": crm_id, "FirstName": "Ada", "LastName": f"New {n}", "Email": f"new{n}@example.org"}
    return CrmRecord(id=crm_id, modstamp=STAMP, values=values)


def platform(root: Path, size: int) -> tuple[Workspace, Scope]:
    """A fresh SQLite platform with ``size`` supporters, each linked to a contact."""
    ws = Workspace(f"sqlite:///{root / f'platform-{size}.db'}", vault=Vault(generate_key()))
    org = ws.organization_id
    with ws.engine.begin() as conn:
        cid, _ = tenancy.upsert_connection(
            conn,
            org,
            name="bench",
            crm="salesforce",
            profile="npsp",
            settings_={},
            credentials=None,
            config_hash=None,
        )
        for start in range(0, size, 10_000):
            people = range(start, min(size, start + 10_000))
            ids = records.insert_many(
                conn,
                org,
                "supporters",
                [{"last_name": f"P{i}", "email": f"p{i}@example.org"} for i in people],
            )
            made = [links.NewLink("supporters", i, "Contact", f"003P{i:014d}", STAMP, None) for i in ids]
            bulk.run(conn, links.insert_statements(bulk.Target.of(conn), org, cid, made))
    return ws, Scope(org, cid, load_profile("npsp"))


def page_seconds(ws: Workspace, scope: Scope, page: list[CrmRecord], repeat: int) -> float:
    """The median time to plan ``page`` and check its plan again (as its transaction does)."""
    mapping = scope.profile.mapping("supporters")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with reading(ws.engine) as conn:
            made = plan_page(conn, scope, mapping, page, run_id=None)
            assert made is not None, "the page should be planned: nothing matches its records"
            apply.matches_waiting(conn, scope, mapping, made.unmatched, size=made.ids[0])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    page = [contact(n) for n in range(PAGE)]
    print(f"crmsync matching benchmark: a page of {PAGE} new supporters, tables of {args.sizes} linked ones")
    found: dict[str, dict[int, float]] = {"scanned": {}, "keys": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            ws, scope = platform(Path(tmp), size)
            try:
                for way, limit in (("scanned", 10**12), ("keys", 0)):
                    apply.SCANNED_UP_TO = limit
                    found[way][size] = page_seconds(ws, scope, page, args.repeat)
                    print(f"  {size:>9,} rows, {way:>7}: {found[way][size] * 1000:8.1f} ms a page")
            finally:
                ws.close()
    small, large = min(args.sizes), max(args.sizes)
    grown = {way: times[large] / times[small] for way, times in found.items()}
    print()
    print(f"page cost at {large:,} rows / at {small:,} rows:", end=" ")
    print(f"scanned {grown['scanned']:.2f}, keys {grown['keys']:.2f}")
    print(f"keys / scanned at {large:,} rows: {found['keys'][large] / found['scanned'][large]:.2f}")
    print()
    print(f"{'measure':44} {'value':>6} {'target':>8}  result")
    value = grown["keys"]
    label = "page cost, largest / smallest table (keys)"
    print(f"{label:44} {value:6.2f} {'<= ' + format(TARGET, '.2f'):>8}  {verdict(value, TARGET)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
