"""Matching on a first pull: a page's cost as the platform table grows, scanned or looked up.

A page of new records of a type with matching rules (supporters, matched by email) is
planned only once the platform is known to hold no row without a link that one of them
would match; its transaction asks again. Asked as "is any row without a link", that is a
scan of the table, and a first pull pays it twice a page while the table grows: its cost
grows with the square of the pull. Asked for the page's keys through the keys crmsync
stores (crmsync.store.match_keys), a page costs the same however large the table. crmsync
scans tables of up to ``SCANNED_UP_TO`` rows (cheaper there) and looks keys up beyond.

For each table size, into a fresh SQLite platform holding that many linked supporters, the
script builds the stored keys (and prints how long that took), then plans the same page of
2,000 new supporters both ways, in rounds that take sizes and ways in turn, and prints the
median time of a page, then the ratios. A page's time is its plan (on a reading
connection) and its plan checked again in a writing transaction, as a pull's writer checks
it: the keys are first brought up to date with the page written before it (2,000 linked
supporters, inserted in that transaction untimed and rolled back after). It is a
measurement, not a test: the exit code is 0 whatever the figures.

    .venv/bin/python benchmarks/matching.py [--sizes 20000 200000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from benchkit import verdict

from crmsync import matchkey
from crmsync.connectors.base import CrmRecord
from crmsync.engine import matching
from crmsync.engine.apply import Scope
from crmsync.engine.plan import plan_page
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.secrets import Vault, generate_key
from crmsync.store import bulk, links, match_keys, records, tenancy
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


def build_seconds(ws: Workspace, scope: Scope) -> float:
    """The time to build the supporters' stored keys in full, as a pull's first need does."""
    started = time.perf_counter()
    with ws.engine.begin() as conn:
        match_keys.refresh(conn, scope.organization_id, "supporters", ["email"], "casefold")
    return time.perf_counter() - started


def page_before(conn: sa.Connection, scope: Scope) -> None:
    """What the page before wrote: 2,000 supporters with their links and stored keys."""
    org, cid = scope.organization_id, scope.connection_id
    rows = [{"last_name": f"B{n}", "email": f"before{n}@example.org"} for n in range(PAGE)]
    ids = records.insert_many(conn, org, "supporters", rows)
    match_keys.note_inserted(conn, org, "supporters", ids, rows)
    made = [links.NewLink("supporters", i, "Contact", f"003B{i:014d}", STAMP, None) for i in ids]
    bulk.run(conn, links.insert_statements(bulk.Target.of(conn), org, cid, made))


def page_round(ws: Workspace, scope: Scope, page: list[CrmRecord]) -> tuple[float, float]:
    """The seconds to plan ``page``, then to check its plan again (as its transaction does)."""
    mapping = scope.profile.mapping("supporters")
    # Each page of a pull brings new values: none of its keys is remembered when it is planned.
    matchkey.fold.cache_clear()
    matchkey.digest.cache_clear()
    started = time.perf_counter()
    with reading(ws.engine) as conn:
        made = plan_page(conn, scope, mapping, page, run_id=None)
    planned = time.perf_counter() - started
    assert made is not None, "the page should be planned: nothing matches its records"
    with ws.engine.connect() as conn:
        transaction = conn.begin()
        page_before(conn, scope)
        started = time.perf_counter()
        waiting = matching.matches_waiting(
            conn, scope, mapping, made.unmatched, size=made.ids[0], refresh=True
        )
        checked = time.perf_counter() - started
        transaction.rollback()
    assert not waiting
    return planned, checked


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    page = [contact(n) for n in range(PAGE)]
    print(f"crmsync matching benchmark: a page of {PAGE} new supporters, tables of {args.sizes} linked ones")
    ways = (("scanned", 10**12), ("keys", 0))
    rounds: dict[tuple[str, int], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        platforms = {size: platform(Path(tmp), size) for size in args.sizes}
        try:
            for size, (ws, scope) in platforms.items():
                print(f"  {size:>9,} rows: stored keys built in {build_seconds(ws, scope):.2f} s")
            # Rounds interleaved, sizes and ways in turn: the machine's speed of the moment
            # (other work shares its cores) weighs on each alike.
            for _ in range(args.repeat):
                for size, (ws, scope) in platforms.items():
                    for way, limit in ways:
                        matching.SCANNED_UP_TO = limit
                        rounds.setdefault((way, size), []).append(page_round(ws, scope, page))
        finally:
            for ws, _ in platforms.values():
                ws.close()
    found: dict[str, dict[int, float]] = {way: {} for way, _ in ways}
    for (way, size), times in rounds.items():
        found[way][size] = statistics.median(p + c for p, c in times)
        check = statistics.median(c for _, c in times)
        print(
            f"  {size:>9,} rows, {way:>7}: {found[way][size] * 1000:8.1f} ms a page "
            f"(its check in the page's transaction {check * 1000:.1f} ms)"
        )
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
