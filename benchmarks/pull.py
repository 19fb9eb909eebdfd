"""Sync All at scale: API calls, engine overhead, a straightforward baseline, and memory.

One run prints four ratios, each against a baseline measured in the same run, with the
absolute numbers behind them, then a table of measure, value, target and PASS/MISS:

1. API calls Sync All made (the emulator's own count) / the fewest possible;
2. Sync All wall time / fetching the same pages with httpx and discarding them;
3. Sync All wall time / simple-salesforce ``query_all`` plus one ORM insert and commit per record;
4. Sync All's peak memory (tracemalloc) at ``--records`` / at ``--small`` records.

The emulators run as separate ``crmsync emulate salesforce`` processes, and every measured
run happens in a fresh subprocess of this script (``--worker``), so neither the emulator
nor an earlier run counts in what is measured. It is a measurement, not a test: the exit
code is 0 whatever the figures. See benchmarks/README.md.

    .venv/bin/python benchmarks/pull.py [--records 100000] [--small 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import requests
import sqlalchemy as sa
from benchkit import EmulatorChild, calls_delta, crmsync_command, verdict
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from sqlalchemy.orm import DeclarativeBase, Session

from crmsync.config import SalesforceConfig
from crmsync.connectors.base import FieldInfo, ObjectInfo, ReadRequest
from crmsync.connectors.salesforce.soql import condition, read_query
from crmsync.engine.commands import run_sync_all
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.model.order import pull_steps
from crmsync.model.profile import ObjectMapping
from crmsync.secrets import Vault, generate_key
from crmsync.store.platform import platform_tables
from crmsync.store.tables import metadata, organizations
from crmsync.store.types import UTCDateTime

PROFILE = "npsp"
PAGE_SIZE = 2000  # the connector's default page size, and Salesforce's largest
API_VERSION = "61.0"  # the connector's default
CONNECTION = "bench"
CLIENT_ID = "crmsync-emulator"
CLIENT_SECRET = "emulator-secret"
USERNAME = "admin@npsp.example.org"
PASSWORD = "emulator-password"
EMULATOR_START_SECONDS = 900.0
TARGETS = {"calls": 1.05, "overhead": 2.0, "naive": 0.3, "memory": 1.5}


# --------------------------------------------------------------------------- what to read


@dataclass(frozen=True)
class Planned:
    """One object mapping of the profile: its read query, and how many records match it."""

    type: str
    object: str
    soql: str
    count_soql: str
    count: int = 0


def mappings() -> list[ObjectMapping]:
    """The profile's object mappings in pull order, parts right after their owner."""
    return [m for step in pull_steps(load_profile(PROFILE)) for m in step]


def read_fields(mapping: ObjectMapping) -> tuple[str, ...]:
    """What Sync All asks the connector for: pulled fields, then lookups (as the engine does)."""
    names = [f.crm for f in mapping.pulled_fields()] + [lookup.crm for lookup in mapping.lookups]
    return tuple(dict.fromkeys(names))


def plan_queries(http: httpx.Client, token: dict[str, Any]) -> list[Planned]:
    """The first-run SOQL of every mapping, built as the connector builds it, and its COUNT()."""
    described: dict[str, ObjectInfo] = {}
    planned = []
    for mapping in mappings():
        info = described.get(mapping.object)
        if info is None:
            body = api_get(http, token, f"sobjects/{mapping.object}/describe")
            info = ObjectInfo(
                name=body["name"],
                fields={
                    f["name"]: FieldInfo(name=f["name"], type=f.get("type", "string")) for f in body["fields"]
                },
            )
            described[mapping.object] = info
        fields = read_fields(mapping)
        if info.field("LastModifiedDate") is not None:
            # As the pull does: when the record last changed decides latest_wins conflicts.
            fields = (*fields, "LastModifiedDate")
        request = ReadRequest(object=mapping.object, fields=fields, conditions=mapping.filter)
        # The connector selects Id and the modstamp first, then each asked field once (any case).
        select = ["Id", request.modstamp_field]
        chosen = {name.casefold() for name in select}
        for name in request.fields:
            if name.casefold() not in chosen:
                chosen.add(name.casefold())
                select.append(name)
        where = f"reading {mapping.object}"
        soql = read_query(request, info, select=select, where=where)
        clauses = [condition(c, info, where=where) for c in mapping.filter]
        count_soql = f"SELECT COUNT() FROM {mapping.object}" + (
            " WHERE " + " AND ".join(clauses) if clauses else ""
        )
        planned.append(Planned(mapping.type, mapping.object, soql, count_soql))
    return planned


def count_records(http: httpx.Client, token: dict[str, Any], planned: list[Planned]) -> list[Planned]:
    """Each mapping's matching records, counted by the emulator (COUNT() queries)."""
    return [
        Planned(
            p.type,
            p.object,
            p.soql,
            p.count_soql,
            int(api_get(http, token, "query", q=p.count_soql)["totalSize"]),
        )
        for p in planned
    ]


def minimum_calls(planned: list[Planned]) -> tuple[int, int, int]:
    """(query pages, describes, total): the fewest calls a complete first pull can make."""
    # A mapping with no records still costs one query to learn that.
    pages = sum(max(1, math.ceil(p.count / PAGE_SIZE)) for p in planned)
    describes = len(planned)
    return pages, describes, pages + describes


# --------------------------------------------------------------------------- the emulator


class EmulatorProcess(EmulatorChild):
    """``crmsync emulate salesforce`` in its own process, seeded with an NPSP org."""

    def __init__(self, records: int, log_dir: Path) -> None:
        self.records = records
        super().__init__(
            f"emulator-{records}",
            lambda port: [
                *crmsync_command(),
                "emulate",
                "salesforce",
                "--port",
                str(port),
                "--seed",
                f"npsp:{records}",
            ],
            log_dir,
            client_timeout=60,
            start_seconds=EMULATOR_START_SECONDS,
            stop_seconds=15,
        )


# --------------------------------------------------------------------------- REST helpers


def login(http: httpx.Client, base_url: str) -> dict[str, Any]:
    """An OAuth password-grant token answer (not an API call in Salesforce's count)."""
    response = http.post(
        f"{base_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD,
        },
    )
    response.raise_for_status()
    token: dict[str, Any] = response.json()
    return token


def api_get(http: httpx.Client, token: dict[str, Any], path: str, **params: str) -> Any:
    """GET a REST resource (``path`` relative to the versioned root, or absolute), JSON-decoded."""
    url = path if path.startswith("/") else f"/services/data/v{API_VERSION}/{path}"
    response = http.get(
        token["instance_url"] + url,
        params=params or None,
        headers={
            "Authorization": f"Bearer {token['access_token']}",
            "Sforce-Query-Options": f"batchSize={PAGE_SIZE}",
        },
    )
    response.raise_for_status()
    return response.json()


# --------------------------------------------------------------------------- workers


def worker_sync(base_url: str, workdir: Path, *, trace: bool, database: str | None = None) -> dict[str, Any]:
    """Sync All into a fresh SQLite file, or a fresh schema of the PostgreSQL ``database``; with
    ``trace``, also tracemalloc (slower: not timed)."""
    schema = None
    if database is not None:
        schema = f"crmsync_bench_{workdir.name.replace('-', '_')}_{os.getpid()}"
        with sa.create_engine(database).begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = database or f"sqlite:///{workdir / 'platform.db'}"
    workspace = Workspace(url, vault=Vault(generate_key()), schema=schema)
    workspace.register(
        CONNECTION,
        SalesforceConfig.model_validate(
            {
                "login_url": base_url,
                "auth": "password",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "username": USERNAME,
                "password": PASSWORD,
                "toggles": {"default": {"pull": True, "push": False}},
            }
        ),
    )
    recorder = RecordingTransport() if trace else None
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_sync_all(workspace, CONNECTION, transport=recorder)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workspace.close()
    if database is not None:
        with sa.create_engine(database).begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    return {
        "seconds": seconds,
        "cpu": cpu,
        "status": result.status,
        "message": result.message,
        "records": sum(c.created + c.updated + c.unchanged for c in result.counts.values()),
        "problems": result.problems,
        "own_api_calls": result.api_calls,
        "peak_bytes": peak,
        "maxrss_before_kb": rss_before,
        "maxrss_delta_kb": rss_after - rss_before,
        "queries": recorder.queries if recorder else [],
    }


class RecordingTransport(httpx.HTTPTransport):
    """The default transport, noting each query's SOQL (used only in untimed runs)."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        soql = request.url.params.get("q")
        if soql is not None:
            self.queries.append(soql)
        return super().handle_request(request)


def worker_fetch(base_url: str, queries: list[str]) -> dict[str, Any]:
    """Log in, then fetch every page of every query with httpx, json-decode it, and discard it."""
    records = calls = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with httpx.Client(timeout=120) as http:
        token = login(http, base_url)
        for soql in queries:
            body = api_get(http, token, "query", q=soql)
            calls += 1
            records += len(body["records"])
            while not body.get("done", True):
                body = api_get(http, token, body["nextRecordsUrl"])
                calls += 1
                records += len(body["records"])
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu_started,
        "records": records,
        "calls": calls,
    }


class ToEmulator(HTTPAdapter):
    """simple-salesforce always builds https:// URLs: send them to the emulator over plain HTTP."""

    def __init__(self, netloc: str) -> None:
        super().__init__()
        self.netloc = netloc

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = urlunsplit(("http", self.netloc, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


def convert(value: Any, column: sa.Column[Any]) -> Any:
    """A CRM value as the platform column stores it (the few conversions anyone would write)."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(str(value)[:10])
    if isinstance(kind, sa.Boolean):
        return bool(value)
    if isinstance(kind, sa.Integer):
        return int(value)
    if isinstance(kind, sa.Numeric):
        return Decimal(str(value))
    return str(value)


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """The pragmas crmsync uses, so that the comparison is not about fsync settings."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def worker_naive(base_url: str, workdir: Path, queries: list[str]) -> dict[str, Any]:
    """The straightforward approach: simple-salesforce query_all per object, then per record
    one ORM insert and commit; lookups resolved through in-memory dicts (CRM id -> platform id)."""
    engine = sa.create_engine(f"sqlite:///{workdir / 'naive.db'}")
    sa.event.listen(engine, "connect", sqlite_pragmas)
    tables = platform_tables()
    metadata.create_all(engine, tables=[organizations, *tables.values()])
    with engine.begin() as conn:
        org_id = conn.execute(
            organizations.insert()
            .values(name="bench", created_at=datetime.now(UTC))
            .returning(organizations.c.id)
        ).scalar_one()

    class Base(DeclarativeBase):
        pass

    classes: dict[str, type[Base]] = {
        name: type(f"Platform_{name}", (Base,), {"__table__": table}) for name, table in tables.items()
    }
    steps = mappings()
    assert len(steps) == len(queries)
    inserted = skipped = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    session_http = requests.Session()
    session_http.mount("https://", ToEmulator(urlsplit(base_url).netloc))
    sf = Salesforce(
        username=USERNAME,
        password=PASSWORD,
        consumer_key=CLIENT_ID,
        consumer_secret=CLIENT_SECRET,
        session=session_http,
        version=API_VERSION,
    )
    crm_to_platform: dict[str, dict[str, int]] = {name: {} for name in tables}
    with Session(engine) as session:
        for mapping, soql in zip(steps, queries, strict=True):
            table, cls = tables[mapping.type], classes[mapping.type]
            fields = [(f.column, f.crm, table.c[f.column]) for f in mapping.pulled_fields()]
            for record in sf.query_all(soql)["records"]:
                values = {column: convert(record.get(crm), col) for column, crm, col in fields}
                complete = True
                for lookup in mapping.lookups:
                    parent = record.get(lookup.crm)
                    for target in lookup.targets:
                        values[target.column] = crm_to_platform[target.type].get(parent) if parent else None
                    found = any(values[t.column] is not None for t in lookup.targets)
                    if (parent and not found) or (lookup.required and not parent):
                        complete = False
                if not complete:
                    skipped += 1
                    continue
                now = datetime.now(UTC)
                row = cls(**values, organization_id=org_id, created_at=now, updated_at=now)
                session.add(row)
                # The id after a flush, before the commit expires the object (no extra SELECT).
                session.flush()
                crm_to_platform[mapping.type][record["Id"]] = row.id  # type: ignore[attr-defined]
                session.commit()
                inserted += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "records": inserted, "skipped": skipped}


def worker_main(args: argparse.Namespace) -> None:
    """Run one measurement in this (fresh) process and write its JSON answer to ``--out``."""
    workdir = Path(args.workdir)
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8")) if args.queries else []
    if args.worker == "sync":
        answer = worker_sync(args.base_url, workdir, trace=args.trace, database=args.database)
    elif args.worker == "fetch":
        answer = worker_fetch(args.base_url, queries)
    else:
        answer = worker_naive(args.base_url, workdir, queries)
    Path(args.out).write_text(json.dumps(answer), encoding="utf-8")


# --------------------------------------------------------------------------- orchestration


class Runner:
    """Starts workers in fresh subprocesses, each with an empty working directory."""

    def __init__(self, root: Path, queries_file: Path) -> None:
        self.root = root
        self.queries_file = queries_file
        self.serial = 0

    def run(
        self, kind: str, emulator: EmulatorProcess, *, trace: bool = False, database: str | None = None
    ) -> dict[str, Any]:
        self.serial += 1
        workdir = self.root / f"{self.serial:02d}-{kind}"
        workdir.mkdir()
        out = workdir / "answer.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            "--base-url",
            emulator.base_url,
            "--workdir",
            str(workdir),
            "--queries",
            str(self.queries_file),
            "--out",
            str(out),
        ]
        if trace:
            command.append("--trace")
        if database:
            command += ["--database", database]
        before = emulator.api_calls()
        subprocess.run(command, check=True)
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        answer["api_calls"] = calls_delta(before, emulator.api_calls())
        shutil.rmtree(workdir, ignore_errors=True)
        return answer


@contextmanager
def emulators(records: int, small: int, log_dir: Path) -> Iterator[tuple[EmulatorProcess, EmulatorProcess]]:
    """Both orgs, seeded concurrently, stopped at the end."""
    large = EmulatorProcess(records, log_dir)
    little = EmulatorProcess(small, log_dir)
    try:
        for emulator in (large, little):
            health = emulator.wait()
            print(f"  emulator npsp:{emulator.records}: {health['records']} records at {emulator.base_url}")
        yield large, little
    finally:
        large.stop()
        little.stop()


def warmed_up(emulator: EmulatorProcess, root: Path) -> tuple[list[Planned], Runner]:
    """The queries Sync All will send to ``emulator`` (with their counts), and a runner whose
    workers know them, after one untimed fetch of every page."""
    with httpx.Client(timeout=120) as http:
        token = login(http, emulator.base_url)
        planned = count_records(http, token, plan_queries(http, token))
    queries_file = root / "queries.json"
    queries_file.write_text(json.dumps([p.soql for p in planned]), encoding="utf-8")
    runner = Runner(root, queries_file)
    print("warming up (one untimed fetch of every page)")
    runner.run("fetch", emulator)
    return planned, runner


def rounds(repeat: int, kinds: dict[str, Callable[[], dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The runs of each kind: ``repeat`` rounds of one run of each, back to back in the given order."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in kinds}
    for i in range(repeat):
        print(f"timed round {i + 1} of {repeat}: {', '.join(kinds)}")
        for name, run in kinds.items():
            runs[name].append(run())
    return runs


def per_round(runs: list[dict[str, Any]], baselines: list[dict[str, Any]]) -> list[float]:
    """Each round's wall time of ``runs`` / of ``baselines``, timed back to back in that round.

    Where the machine's speed drifts over minutes (a shared VM), the ratio within a round is
    steadier than the ratio of medians over all rounds.
    """
    return [r["seconds"] / b["seconds"] for r, b in zip(runs, baselines, strict=True)]


def rounds_text(ratios: list[float]) -> str:
    """Per-round ratios as printed: two decimals, comma-separated."""
    return ", ".join(f"{r:.2f}" for r in ratios)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def timed(label: str, runs: list[dict[str, Any]]) -> float:
    """Print each run's wall seconds (and CPU seconds of its process) and return the median wall time."""
    seconds = [r["seconds"] for r in runs]
    each = ", ".join(f"{r['seconds']:.2f} ({r['cpu']:.2f})" for r in runs)
    print(f"  {label}: median {median(seconds):.2f} s wall (runs, wall (CPU of the process): {each})")
    return median(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--records", type=int, default=100_000, help="size of the emulated org (default 100000)"
    )
    parser.add_argument("--small", type=int, default=10_000, help="size of the org for the memory ratio")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds of each kind; medians are used")
    parser.add_argument("--keep", type=Path, help="keep emulator logs in this directory")
    # Internal: one measurement in a fresh process.
    parser.add_argument("--worker", choices=["sync", "fetch", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--queries", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    root = Path(tempfile.mkdtemp(prefix="crmsync-bench-"))
    try:
        benchmark(args, root, args.keep or root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def benchmark(args: argparse.Namespace, root: Path, log_dir: Path) -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"crmsync pull benchmark: profile {PROFILE}, {args.records} records (memory also at {args.small}), "
        f"repeat {args.repeat}"
    )
    print(
        f"  python {platform.python_version()}, sqlalchemy {sa.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    print("starting the emulators (separate processes; seeding takes a while)")
    with emulators(args.records, args.small, log_dir) as (large, little):
        planned, runner = warmed_up(large, root)
        runs = rounds(
            args.repeat,
            {
                "Sync All": partial(runner.run, "sync", large),
                "fetch only": partial(runner.run, "fetch", large),
                "straightforward": partial(runner.run, "naive", large),
            },
        )
        syncs, fetches, naives = runs["Sync All"], runs["fetch only"], runs["straightforward"]
        print("memory: Sync All with tracemalloc, one fresh process per org size")
        memory_large = runner.run("sync", large, trace=True)
        memory_small = runner.run("sync", little, trace=True)
    report(args, planned, syncs, fetches, naives, memory_large, memory_small)


def report(
    args: argparse.Namespace,
    planned: list[Planned],
    syncs: list[dict[str, Any]],
    fetches: list[dict[str, Any]],
    naives: list[dict[str, Any]],
    memory_large: dict[str, Any],
    memory_small: dict[str, Any],
) -> None:
    expected = sum(p.count for p in planned)
    print()
    print("records matching each object mapping (COUNT() on the emulator)")
    for p in planned:
        print(f"  {p.type:22} {p.object:34} {p.count:>8}  pages {max(1, math.ceil(p.count / PAGE_SIZE)):>3}")
    print(f"  {'total':57} {expected:>8}")
    for run in [*syncs, memory_large]:
        if run["status"] != "succeeded" or run["records"] != expected:
            print(
                f"  WARNING: a Sync All ended {run['status']} with {run['records']} records: {run['message']}"
            )
    if memory_large["queries"] and memory_large["queries"] != [p.soql for p in planned]:
        print("  WARNING: the baselines' SOQL differs from what Sync All sent; figures 2 and 3 are suspect")
    elif memory_large["queries"]:
        print("  the baselines use the very SOQL Sync All sent (checked)")

    print()
    print("1. API calls")
    pages, describes, minimum = minimum_calls(planned)
    made = syncs[0]["api_calls"]
    ratio_calls = made["total"] / minimum
    by_resource = ", ".join(f"{k} {v}" for k, v in sorted(made.items()) if k != "total")
    print(f"  Sync All made {made['total']} calls ({by_resource}; emulator stats delta)")
    print(f"  crmsync's own counter says {syncs[0]['own_api_calls']}")
    print(
        f"  minimum: {pages} query pages of {PAGE_SIZE} + {describes} describes "
        f"(one per object mapping) = {minimum}"
    )
    others = {r["api_calls"]["total"] for r in syncs[1:]}
    if others - {made["total"]}:
        print(f"  note: other rounds made {sorted(others)} calls")
    print(f"  ratio {ratio_calls:.3f}")

    print()
    print("2. engine overhead: Sync All / fetching the same pages with httpx and discarding them")
    sync_s = timed("Sync All", syncs)
    fetch_s = timed("fetch only", fetches)
    print(
        f"  fetch only: {fetches[0]['calls']} GETs, {fetches[0]['records']} records; Sync All: "
        f"{syncs[0]['records']} records, {syncs[0]['records'] / sync_s:,.0f} records/s"
    )
    paired = per_round(syncs, fetches)
    ratio_overhead = median(paired)
    print(f"  ratio per round: {rounds_text(paired)}")
    print(f"  ratio {ratio_overhead:.2f} (median per round; ratio of the medians {sync_s / fetch_s:.2f})")

    print()
    print(
        "3. Sync All / the straightforward approach (simple-salesforce query_all + one ORM insert and commit"
    )
    print("   per record into a fresh SQLite file with the platform tables and crmsync's pragmas;")
    print("   lookups resolved through an in-memory dict of CRM id -> platform id, the generous choice)")
    naive_s = timed("straightforward", naives)
    print(
        f"  straightforward: {naives[0]['records']} rows inserted, {naives[0]['skipped']} skipped, "
        f"{naives[0]['api_calls'].get('total', 0)} API calls, {naives[0]['records'] / naive_s:,.0f} records/s"
    )
    ratio_naive = sync_s / naive_s
    print(f"  ratio {ratio_naive:.3f}")

    print()
    print("4. peak memory of Sync All (fresh process each, tracemalloc on: that run is not timed)")
    for label, run in ((f"{args.records} records", memory_large), (f"{args.small} records", memory_small)):
        print(
            f"  {label:>16}: tracemalloc peak {run['peak_bytes'] / 2**20:7.1f} MiB, ru_maxrss delta "
            f"{run['maxrss_delta_kb'] / 1024:7.1f} MiB "
            f"(process before: {run['maxrss_before_kb'] / 1024:.0f} MiB), "
            f"{run['records']} records, {run['seconds']:.1f} s traced"
        )
    ratio_memory = memory_large["peak_bytes"] / memory_small["peak_bytes"]
    rss_small = max(memory_small["maxrss_delta_kb"], 1)
    print(
        f"  ratio {ratio_memory:.2f} (tracemalloc peak); ru_maxrss delta ratio "
        f"{memory_large['maxrss_delta_kb'] / rss_small:.2f}"
    )

    rows: list[tuple[str, float, float]] = [
        ("API calls / minimum", ratio_calls, TARGETS["calls"]),
        ("Sync All time / fetch-only time", ratio_overhead, TARGETS["overhead"]),
        ("Sync All time / straightforward time", ratio_naive, TARGETS["naive"]),
        (f"peak memory {args.records} / {args.small} records", ratio_memory, TARGETS["memory"]),
    ]
    print()
    print(f"{'measure':42} {'value':>7} {'target':>8}  result")
    for label, value, target in rows:
        print(f"{label:42} {value:7.2f} {'<= ' + format(target, '.2f'):>8}  {verdict(value, target)}")


if __name__ == "__main__":
    sys.exit(main())
