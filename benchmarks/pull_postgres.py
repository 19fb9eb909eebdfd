"""Sync All into PostgreSQL, against Sync All into SQLite and bare fetching, in one run.

The issue's figures (benchmarks/pull.py) are on SQLite, the demo's database. A production
platform is more often PostgreSQL, where the same pull writes through another driver and
server; this prints, for the same emulated org and each round back to back:

1. Sync All into a fresh PostgreSQL schema / Sync All into a fresh SQLite file;
2. Sync All into PostgreSQL / fetching the same pages with httpx and discarding them.

Workers run in fresh processes, as in benchmarks/pull.py (whose helpers this uses). It is a
measurement with no target: the exit code is 0 whatever the figures.

    .venv/bin/python benchmarks/pull_postgres.py [--records 100000] [--repeat 3]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

from pull import EmulatorProcess, median, per_round, rounds, rounds_text, timed, warmed_up

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=100_000, help="size of the emulated org")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds of each kind; medians are used")
    parser.add_argument("--database", default=DATABASE, help="a PostgreSQL URL (a schema is made per run)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crmsync-bench-pg-") as root:
        benchmark(args, Path(root))
    return 0


def benchmark(args: argparse.Namespace, root: Path) -> None:
    print(f"crmsync pull benchmark on PostgreSQL: {args.records} records, repeat {args.repeat}")
    print("starting the emulator (a separate process; seeding takes a while)")
    emulator = EmulatorProcess(args.records, root)
    try:
        health = emulator.wait()
        print(f"  emulator npsp:{args.records}: {health['records']} records at {emulator.base_url}")
        planned, runner = warmed_up(emulator, root)
        runs = rounds(
            args.repeat,
            {
                "Sync All into PostgreSQL": partial(runner.run, "sync", emulator, database=args.database),
                "Sync All into SQLite": partial(runner.run, "sync", emulator),
                "fetch only": partial(runner.run, "fetch", emulator),
            },
        )
    finally:
        emulator.stop()
    postgres, sqlite = runs["Sync All into PostgreSQL"], runs["Sync All into SQLite"]
    fetches = runs["fetch only"]
    expected = sum(p.count for p in planned)
    for run in [*postgres, *sqlite]:
        if run["status"] != "succeeded" or run["records"] != expected:
            print(f"  WARNING: Sync All ended {run['status']}, {run['records']} records: {run['message']}")
    print()
    pg_s = timed("Sync All into PostgreSQL", postgres)
    sqlite_s = timed("Sync All into SQLite", sqlite)
    fetch_s = timed("fetch only", fetches)
    print(f"  PostgreSQL: {postgres[0]['records']} records, {postgres[0]['records'] / pg_s:,.0f} records/s")
    print()
    figures = (("1. PostgreSQL / SQLite:    ", sqlite), ("2. PostgreSQL / fetch only:", fetches))
    for label, baselines in figures:
        ratios = per_round(postgres, baselines)
        print(f"{label} {median(ratios):.2f} (per round {rounds_text(ratios)})")
    print(f"   (ratio of the medians: {pg_s / sqlite_s:.2f} and {pg_s / fetch_s:.2f})")


if __name__ == "__main__":
    sys.exit(main())
