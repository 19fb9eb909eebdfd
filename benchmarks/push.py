"""Push as it runs in production: latency at a steady change rate, and API calls per record.

One run prints, with the absolute numbers behind each figure, then a table of measure,
value, target and PASS/MISS:

1. latency from the commit of a platform change to its write being committed in the
   emulated org, p50/p99/max, at ``--rate`` changes/s for ``--seconds`` s, per backend;
2. API calls our pusher makes for ``--donations`` new donations by as many new supporters,
   divided by the calls of a one-record-per-request pusher for the same records (measured in
   the same run), and a check that the CRM holds exactly those records, linked right;
3. the cost of merging with the CRM: ``--merge-updates`` updates of linked supporters pushed
   once with no CRM change since the last sync, then again with 10% of those supporters also
   edited in Salesforce meanwhile; the API calls of the second push over the first, and a
   check that no edit of either side was lost.

Three kinds of process: this one (it writes the platform changes and measures), the
emulator (``--role emulator``: the real emulator app, seeded, with a journal that notes the
monotonic time at which each write is committed in the org, plus two read-only
``/__bench__`` routes; the emulator package is not changed), and the pusher (``--role
pusher``: ``crmsync.engine.commands.run_watch``, what ``crmsync push --watch`` runs, with
its own database engine). CLOCK_MONOTONIC is one clock for all processes of a machine, so
times taken in different processes compare. It is a measurement, not a test: the exit code
is 0 whatever the figures. See benchmarks/README.md.

    .venv/bin/python benchmarks/push.py [--backend both] [--seconds 60] [--rate 100]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from benchkit import (
    Child,
    RoleEmulator,
    calls_delta,
    percentile,
    postgres_problem,
    script_command,
)
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from crmsync.config import SalesforceConfig
from crmsync.emulators.salesforce.app import create_app
from crmsync.emulators.salesforce.records import Row
from crmsync.emulators.salesforce.server import prepare_state
from crmsync.emulators.salesforce.state import EmulatorState
from crmsync.engine.commands import run_push, run_sync_all, run_watch
from crmsync.engine.pusher import DrainResult
from crmsync.engine.workspace import Workspace
from crmsync.secrets import KEY_ENV, Vault, generate_key
from crmsync.store import change_batches, push_state, records
from crmsync.store.db import reading
from crmsync.store.tables import links

POSTGRES_URL = os.environ.get("CRMSYNC_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONNECTION = "bench"
API_VERSION = "61.0"
CLIENT_ID = "crmsync-emulator"
CLIENT_SECRET = "emulator-secret"
USERNAME = "admin@npsp.example.org"
PASSWORD = "emulator-password"
SEED = 1  # the seed `crmsync emulate --seed npsp:N` uses
TARGET_P99_MS = 500.0
TARGET_RATIO = 0.05
TARGET_MERGE = 1.1
MERGE_SHARE = 0.10
# Share of each kind of change in the latency run (the rest are updates of linked supporters).
NEW_SUPPORTER_SHARE = 0.55
GIFT_SHARE = 0.15
MARKER = "555-"  # updates write a phone number that carries the change's sequence number
DRAIN_TIMEOUT = 60.0


# --------------------------------------------------------------------------- the emulator process


class CommitLog:
    """A journal for the emulated org: the time each written row is committed in it.

    The org hands its journal every row a write changed, once the write is committed (at the
    end of a composite or graph transaction, right after a single write); only rows carrying
    a platform id are noted, so the seed's records are not.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[float, str, str, str, str | None]] = []

    def save(self, rows: Iterable[Row], sequences: Mapping[str, int], *_more: Any) -> None:
        # ``*_more``: newer emulators also hand over their change events; they are not needed.
        now = time.monotonic()
        for row in rows:
            platform_id = row.get("Platform_Id__c")
            if platform_id:
                phone = row.get("Phone")
                self.entries.append((now, row.layout.object_name, row["Id"], platform_id, phone))

    def clear(self) -> None:
        self.entries.clear()


class BenchApp:
    """The emulator app, plus ``GET /__bench__/commits?since=N`` and ``GET /__bench__/rows?object=X``."""

    def __init__(self, inner: ASGIApp, state: EmulatorState, log: CommitLog) -> None:
        self.inner = inner
        self.state = state
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/__bench__/"):
            await self.inner(scope, receive, send)
            return
        request = Request(scope, receive)
        with self.state.org.lock:
            if request.url.path == "/__bench__/commits":
                since = int(request.query_params.get("since", "0"))
                body: Any = {"entries": self.log.entries[since:], "next": len(self.log.entries)}
            else:
                wanted = request.query_params["fields"].split(",")
                body = [
                    {name: row.get(name) for name in wanted}
                    for row in self.state.org.scan(request.query_params["object"])
                    if row.get("Platform_Id__c") and not row["IsDeleted"]
                ]
        await JSONResponse(body)(scope, receive, send)


def emulator_role(args: argparse.Namespace) -> None:
    """Serve a seeded emulator with the commit log until terminated."""
    state = prepare_state(seed=f"npsp:{args.org_records}")
    log = CommitLog()
    state.org.journal = log
    app = BenchApp(create_app(state), state, log)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off", access_log=False)


class EmulatorProcess(RoleEmulator):
    """The seeded emulator in its own process, and the calls this benchmark makes to it."""

    def __init__(self, org_records: int, log_dir: Path, name: str) -> None:
        super().__init__(__file__, org_records, log_dir, name, stop_seconds=30)
        self._next = 0
        self.entries: list[tuple[float, str, str, str, str | None]] = []

    def commits(self) -> list[tuple[float, str, str, str, str | None]]:
        """Every commit noted so far (fetched incrementally)."""
        body = self.http.get("/__bench__/commits", params={"since": self._next}).raise_for_status().json()
        self.entries.extend((e[0], e[1], e[2], e[3], e[4]) for e in body["entries"])
        self._next = body["next"]
        return self.entries

    def rows(self, object_name: str, fields: list[str]) -> list[dict[str, Any]]:
        """Live rows of ``object_name`` that carry a platform id."""
        response = self.http.get(
            "/__bench__/rows", params={"object": object_name, "fields": ",".join(fields)}
        )
        found: list[dict[str, Any]] = response.raise_for_status().json()
        return found

    def reseed(self) -> None:
        """The org as it was seeded (same preset, size and seed: the same records and ids)."""
        body = {"preset": "npsp", "records": self.org_records, "seed": SEED}
        self.http.post("/__emulator__/seed", json=body).raise_for_status()
        self._next = 0
        self.entries = []

    def exists(self, object_name: str, crm_id: str) -> bool:
        response = self.http.get(f"/__emulator__/records/{object_name}/{crm_id}")
        return response.status_code == 200 and not response.json().get("IsDeleted")


def records_delta(before: dict[str, Any], after: dict[str, Any], object_name: str) -> int:
    return int(after["records"].get(object_name, 0)) - int(before["records"].get(object_name, 0))


# --------------------------------------------------------------------------- the pusher process


def pusher_role(args: argparse.Namespace) -> None:
    """``run_watch`` on the benchmark's connection until SIGTERM, as ``crmsync push --watch`` does."""
    workspace = Workspace(args.database, vault=Vault(os.environ[KEY_ENV]), schema=args.schema or None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    profiler = cProfile.Profile() if args.profile_out else None

    def on_report(result: DrainResult) -> None:
        report = result.report
        print(
            f"{time.monotonic():.3f} drain: {report.count('pushed')} pushed, "
            f"{report.count('failed')} failed, {report.count('skipped')} skipped, "
            f"{report.api_calls} API calls",
            flush=True,
        )

    if profiler is not None:
        profiler.enable()
    try:
        run_watch(workspace, CONNECTION, stop, on_report=on_report)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile_out)
        workspace.close()


class PusherProcess(Child):
    def __init__(self, bench: Platform, log_dir: Path, name: str, profile: Path | None) -> None:
        arguments = ["--role", "pusher", "--database", bench.url, "--schema", bench.schema or ""]
        if profile is not None:
            arguments += ["--profile-out", str(profile)]
        super().__init__(name, script_command(__file__, arguments), log_dir, {KEY_ENV: bench.key})

    def stop(self, timeout: float = 30) -> float:
        return super().stop(timeout)


# --------------------------------------------------------------------------- the platform


@dataclass
class Platform:
    """The platform database of one backend, with the benchmark's connection."""

    backend: str
    url: str
    schema: str | None
    key: str
    workspace: Workspace

    @property
    def engine(self) -> sa.Engine:
        return self.workspace.engine

    @property
    def org(self) -> int:
        return self.workspace.organization_id

    def connection_id(self) -> int:
        return self.workspace.connection(CONNECTION).id

    def crm_ids(self, platform_type: str) -> dict[int, str]:
        """platform id -> CRM id of every linked record of a type."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                sa.select(links.c.platform_id, links.c.crm_id).where(
                    links.c.organization_id == self.org, links.c.platform_type == platform_type
                )
            )
            return {int(r.platform_id): r.crm_id for r in rows}

    def drained(self) -> bool:
        """The pusher took every captured change and its queue is empty."""
        cid = self.connection_id()
        with reading(self.engine) as conn:
            # Drained when every change committed so far is taken and the queue is empty.
            pending = change_batches.pending(conn, self.org, change_batches.mark(conn, cid))
            return not pending and push_state.depth(conn, self.org, cid) == 0


@contextmanager
def platform_db(backend: str, root: Path, emulator: EmulatorProcess) -> Iterator[Platform]:
    """A fresh, migrated platform on ``backend``, connected to the emulator (push on for all)."""
    key = generate_key()
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{root / 'platform.db'}"
    else:
        url = POSTGRES_URL
        schema = f"bench_push_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
    workspace = Workspace(url, vault=Vault(key), schema=schema)
    try:
        workspace.register(
            CONNECTION,
            SalesforceConfig.model_validate(
                {
                    "login_url": emulator.base_url,
                    "auth": "password",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "username": USERNAME,
                    "password": PASSWORD,
                    "toggles": {"default": {"pull": True, "push": True}},
                }
            ),
        )
        yield Platform(backend, url, schema, key, workspace)
    finally:
        workspace.close()
        if schema is not None:
            admin = sa.create_engine(url)
            with admin.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


@dataclass
class Pools:
    """Linked records that changes refer to: supporters (with their household), campaigns, funds."""

    supporters: list[tuple[int, int]]
    campaigns: list[int]
    funds: list[int]


def linked_pools(bench: Platform) -> Pools:
    supporter_links = bench.crm_ids("supporters")
    household_links = bench.crm_ids("households")
    with reading(bench.engine) as conn:
        rows = conn.execute(sa.text("SELECT id, household_id FROM supporters ORDER BY id")).all()
    supporters = [
        (int(r.id), int(r.household_id))
        for r in rows
        if r.id in supporter_links and r.household_id in household_links
    ]
    return Pools(supporters, sorted(bench.crm_ids("campaigns")), sorted(bench.crm_ids("funds")))


# --------------------------------------------------------------------------- platform writes


@dataclass
class Expect:
    """A write the CRM must show: the record's platform id, and for updates the change's number."""

    platform_key: str
    at_least: int | None = None


@dataclass
class Written:
    """One committed platform change and what the CRM must show for it."""

    kind: str
    committed: float
    expects: list[Expect]


class Writer:
    """Writes realistic user changes, each in its own transaction, as the application would."""

    def __init__(self, bench: Platform, pools: Pools, tag: str, rng: random.Random) -> None:
        self.bench = bench
        self.pools = pools
        self.tag = tag
        self.rng = rng
        self._last_fund = self._last_campaign = 0

    def new_supporter(self, n: int) -> Written:
        with self.bench.engine.begin() as conn:
            household, supporter = self._supporter(conn, n)
        return Written(
            "new supporter",
            time.monotonic(),
            [Expect(f"households:{household}"), Expect(f"supporters:{supporter}")],
        )

    def update_supporter(self, n: int) -> Written:
        supporter, _ = self.rng.choice(self.pools.supporters)
        with self.bench.engine.begin() as conn:
            records.update_many(
                conn,
                self.bench.org,
                "supporters",
                [(supporter, {"phone": f"{MARKER}{n:07d}", "city": self.rng.choice(CITIES)})],
            )
        return Written("supporter update", time.monotonic(), [Expect(f"supporters:{supporter}", n)])

    def new_gift(self, n: int) -> Written:
        supporter, household = self.rng.choice(self.pools.supporters)
        with self.bench.engine.begin() as conn:
            gift, allocation = self._gift(conn, n, supporter, household)
        return Written(
            "gift",
            time.monotonic(),
            [Expect(f"transactions:{gift}"), Expect(f"fund_allocations:{allocation}")],
        )

    def donation(self, n: int) -> Donation:
        """A new supporter (with a household) giving for the first time, in one transaction."""
        with self.bench.engine.begin() as conn:
            household, supporter = self._supporter(conn, n)
            gift, allocation = self._gift(conn, n, supporter, household)
        return Donation(household, supporter, gift, allocation, self._last_fund, self._last_campaign)

    def _supporter(self, conn: sa.Connection, n: int) -> tuple[int, int]:
        last = f"{self.rng.choice(SURNAMES)}-{self.tag}{n}"
        city = self.rng.choice(CITIES)
        (household,) = records.insert_many(
            conn, self.bench.org, "households", [{"name": f"{last} Household", "city": city, "country": "US"}]
        )
        (supporter,) = records.insert_many(
            conn,
            self.bench.org,
            "supporters",
            [
                {
                    "first_name": self.rng.choice(FIRST_NAMES),
                    "last_name": last,
                    "email": f"{last.lower()}@example.org",
                    "city": city,
                    "country": "US",
                    "household_id": household,
                }
            ],
        )
        return household, supporter

    def _gift(self, conn: sa.Connection, n: int, supporter: int, household: int) -> tuple[int, int]:
        amount = Decimal(self.rng.choice((10, 25, 50, 100, 250)))
        self._last_fund = self.rng.choice(self.pools.funds)
        self._last_campaign = self.rng.choice(self.pools.campaigns)
        (gift,) = records.insert_many(
            conn,
            self.bench.org,
            "transactions",
            [
                {
                    "name": f"Online gift {self.tag}{n}",
                    "amount": amount,
                    "close_date": date.today(),
                    "stage": "Closed Won",
                    "supporter_id": supporter,
                    "household_id": household,
                    "campaign_id": self._last_campaign,
                }
            ],
        )
        (allocation,) = records.insert_many(
            conn,
            self.bench.org,
            "fund_allocations",
            [{"fund_id": self._last_fund, "transaction_id": gift, "amount": amount}],
        )
        return gift, allocation


FIRST_NAMES = ("Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances", "Niklaus")
SURNAMES = ("Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen", "Wirth")
CITIES = ("Boston", "Denver", "Austin", "Portland", "Madison", "Raleigh", "Tucson", "Omaha")


# --------------------------------------------------------------------------- 1. latency


@dataclass
class Latency:
    backend: str
    written: list[Written]
    latencies_ms: list[float]
    missing: list[Written]
    seconds: float
    api_calls: dict[str, int]
    by_kind: dict[str, list[float]] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of every change; one never seen counts as infinitely late."""
        return percentile(self.latencies_ms + [float("inf")] * len(self.missing), q)


def visible_at(entries: list[tuple[float, str, str, str, str | None]]) -> dict[str, list[tuple[float, int]]]:
    """platform id -> [(commit time, change number carried, or -1)], oldest first."""
    seen: dict[str, list[tuple[float, int]]] = {}
    for at, _object, _id, platform_key, phone in entries:
        number = int(phone[len(MARKER) :]) if phone and phone.startswith(MARKER) else -1
        seen.setdefault(platform_key, []).append((at, number))
    return seen


def shown_at(seen: dict[str, list[tuple[float, int]]], expect: Expect) -> float | None:
    for at, number in seen.get(expect.platform_key, ()):
        if expect.at_least is None or number >= expect.at_least:
            return at
    return None


def stream(writers: list[Writer], count: int, rate: float, first: int) -> list[Written]:
    """``count`` changes at ``rate`` per second on a fixed schedule (late ones go at once),
    change i written by writer thread i mod len(writers), as concurrent requests would."""
    written: list[Written | None] = [None] * count
    start = time.monotonic()

    def work(k: int) -> None:
        writer = writers[k]
        for i in range(k, count, len(writers)):
            pause = start + i / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            draw = writer.rng.random()
            if draw < NEW_SUPPORTER_SHARE:
                written[i] = writer.new_supporter(first + i)
            elif draw < NEW_SUPPORTER_SHARE + GIFT_SHARE:
                written[i] = writer.new_gift(first + i)
            else:
                written[i] = writer.update_supporter(first + i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [w for w in written if w is not None]


def wait_visible(emulator: EmulatorProcess, written: list[Written], timeout: float) -> list[Written]:
    """Wait until every change shows in the org (or ``timeout``); the ones that never did."""
    deadline = time.monotonic() + timeout
    while True:
        seen = visible_at(emulator.commits())
        missing = [w for w in written if any(shown_at(seen, e) is None for e in w.expects)]
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.2)


def measure_latency(
    bench: Platform, emulator: EmulatorProcess, args: argparse.Namespace, log_dir: Path
) -> Latency:
    pools = linked_pools(bench)
    writers = [
        Writer(bench, pools, f"L{bench.backend[0]}", random.Random(7 + k)) for k in range(args.writers)
    ]
    writer = writers[0]
    profile = log_dir / f"pusher-{bench.backend}.prof" if args.profile else None
    pusher = PusherProcess(bench, log_dir, f"pusher-latency-{bench.backend}", profile)
    try:
        # Warm-up, not measured: the pusher logs in, describes the objects, runs its first sweep.
        warm = [writer.new_supporter(0), writer.new_gift(1), writer.update_supporter(2)]
        if wait_visible(emulator, warm, 120):
            raise RuntimeError(f"the pusher did not push the warm-up changes; see {pusher.log_path}")
        time.sleep(1.0)
        before = emulator.stats()
        started = time.monotonic()
        written = stream(writers, int(args.seconds * args.rate), args.rate, first=10)
        seconds = time.monotonic() - started
        missing = wait_visible(emulator, written, DRAIN_TIMEOUT)
        while not bench.drained() and time.monotonic() - started < seconds + DRAIN_TIMEOUT:
            time.sleep(0.2)
        after = emulator.stats()
    finally:
        pusher.stop()
    seen = visible_at(emulator.commits())
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    for w in written:
        times = [shown_at(seen, e) for e in w.expects]
        if any(t is None for t in times):
            continue
        ms = (max(t for t in times if t is not None) - w.committed) * 1000
        latencies.append(ms)
        by_kind.setdefault(w.kind, []).append(ms)
    return Latency(
        bench.backend,
        written,
        latencies,
        missing,
        seconds,
        calls_delta(before["api_calls"], after["api_calls"]),
        by_kind,
    )


# --------------------------------------------------------------------------- 2. API calls


@dataclass(frozen=True)
class Donation:
    household: int
    supporter: int
    gift: int
    allocation: int
    fund: int
    campaign: int


@dataclass
class Efficiency:
    backend: str
    donations: int
    ours: dict[str, int]
    ours_seconds: float
    naive: dict[str, int]
    naive_records: int
    naive_seconds: float
    new_records: dict[str, int]
    problems: list[str]

    @property
    def ratio(self) -> float:
        return self.ours["total"] / self.naive["total"] if self.naive.get("total") else float("nan")


def measure_efficiency(
    bench: Platform, emulator: EmulatorProcess, args: argparse.Namespace, log_dir: Path
) -> Efficiency:
    pools = linked_pools(bench)
    writer = Writer(bench, pools, f"E{bench.backend[0]}", random.Random(11))
    # The donations wait in the platform while no pusher runs; then the pusher starts.
    donations = [writer.donation(n) for n in range(args.donations)]
    before = emulator.stats()
    started = time.monotonic()
    pusher = PusherProcess(bench, log_dir, f"pusher-efficiency-{bench.backend}", None)
    try:
        expected = [
            Written(
                "donation",
                0.0,
                [Expect(f"transactions:{d.gift}"), Expect(f"fund_allocations:{d.allocation}")],
            )
            for d in donations
        ]
        wait_visible(emulator, expected, 300)
        while not bench.drained() and time.monotonic() - started < 300:
            time.sleep(0.2)
        seconds = time.monotonic() - started
        after = emulator.stats()
    finally:
        pusher.stop()
    new_records = {
        name: records_delta(before, after, name)
        for name in ("Account", "Contact", "Opportunity", "npsp__Allocation__c")
    }
    problems = check_crm(bench, emulator, donations, new_records)

    # The baseline, on the org as it was before our push (reseeded: same records and ids).
    emulator.reseed()
    fund_ids, campaign_ids = bench.crm_ids("funds"), bench.crm_ids("campaigns")
    for d in donations:
        for object_name, crm_id in (
            ("npsp__General_Accounting_Unit__c", fund_ids[d.fund]),
            ("Campaign", campaign_ids[d.campaign]),
        ):
            if not emulator.exists(object_name, crm_id):
                raise RuntimeError(f"the reseeded org lacks {object_name} {crm_id}; the baseline cannot run")
    naive_before = emulator.stats()
    naive_started = time.monotonic()
    naive_records = naive_push(bench, emulator.base_url, donations)
    naive_seconds = time.monotonic() - naive_started
    naive = calls_delta(naive_before["api_calls"], emulator.stats()["api_calls"])
    return Efficiency(
        bench.backend,
        len(donations),
        calls_delta(before["api_calls"], after["api_calls"]),
        seconds,
        naive,
        naive_records,
        naive_seconds,
        new_records,
        problems,
    )


def check_crm(
    bench: Platform, emulator: EmulatorProcess, donations: list[Donation], new_records: dict[str, int]
) -> list[str]:
    """What is wrong in the CRM after our push (nothing, when all is well)."""
    problems = []
    for object_name in ("Account", "Contact", "Opportunity", "npsp__Allocation__c"):
        if new_records[object_name] != len(donations):
            problems.append(f"{new_records[object_name]} new {object_name} records, not {len(donations)}")

    def by_key(object_name: str, fields: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for row in emulator.rows(object_name, ["Id", "Platform_Id__c", *fields]):
            if row["Platform_Id__c"] in found:
                problems.append(f"two {object_name} records carry {row['Platform_Id__c']}")
            found[row["Platform_Id__c"]] = row
        return found

    accounts = by_key("Account", [])
    contacts = by_key("Contact", ["AccountId"])
    gifts = by_key("Opportunity", ["AccountId", "npsp__Primary_Contact__c", "CampaignId"])
    allocations = by_key("npsp__Allocation__c", ["npsp__Opportunity__c", "npsp__General_Accounting_Unit__c"])
    funds, campaigns = bench.crm_ids("funds"), bench.crm_ids("campaigns")
    linked = bench.crm_ids("supporters")
    wrong = 0
    for d in donations:
        account = accounts.get(f"households:{d.household}")
        contact = contacts.get(f"supporters:{d.supporter}")
        gift = gifts.get(f"transactions:{d.gift}")
        allocation = allocations.get(f"fund_allocations:{d.allocation}")
        if account is None or contact is None or gift is None or allocation is None:
            wrong += 1
            continue
        ok = (
            contact["AccountId"] == account["Id"]
            and linked.get(d.supporter) == contact["Id"]
            and gift["npsp__Primary_Contact__c"] == contact["Id"]
            and gift["AccountId"] == account["Id"]
            and gift["CampaignId"] == campaigns[d.campaign]
            and allocation["npsp__Opportunity__c"] == gift["Id"]
            and allocation["npsp__General_Accounting_Unit__c"] == funds[d.fund]
        )
        wrong += not ok
    if wrong:
        problems.append(f"{wrong} donations missing or linked to the wrong parents")
    return problems


def naive_push(bench: Platform, base_url: str, donations: list[Donation]) -> int:
    """The baseline: one REST create (POST sobjects/<Object>) per record, parents first.

    Per donation: the household Account, then the Contact (AccountId), the Opportunity
    (contact, account, campaign), the allocation (opportunity, fund), each POST waiting for
    the id its children need. It knows the records are new (no matching queries) and takes
    the existing fund's and campaign's CRM ids from the platform's links; it looks the
    household record type up once, as our pusher does.
    """
    fund_ids, campaign_ids = bench.crm_ids("funds"), bench.crm_ids("campaigns")
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    with reading(bench.engine) as conn:
        for platform_type, ids in (
            ("households", [d.household for d in donations]),
            ("supporters", [d.supporter for d in donations]),
            ("transactions", [d.gift for d in donations]),
            ("fund_allocations", [d.allocation for d in donations]),
        ):
            rows[platform_type] = records.get_many(conn, bench.org, platform_type, ids)
    written = 0
    with httpx.Client(timeout=60) as http:
        token = (
            http.post(
                f"{base_url}/services/oauth2/token",
                data={
                    "grant_type": "password",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "username": USERNAME,
                    "password": PASSWORD,
                },
            )
            .raise_for_status()
            .json()
        )
        root = f"{token['instance_url']}/services/data/v{API_VERSION}"
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        soql = "SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND DeveloperName = 'HH_Account'"
        household_type = http.get(f"{root}/query", params={"q": soql}).raise_for_status().json()
        record_type = household_type["records"][0]["Id"]

        def create(object_name: str, body: dict[str, Any]) -> str:
            nonlocal written
            response = http.post(f"{root}/sobjects/{object_name}", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"the baseline could not create {object_name}: {response.text}")
            written += 1
            return str(response.json()["id"])

        for d in donations:
            household = rows["households"][d.household]
            supporter = rows["supporters"][d.supporter]
            gift = rows["transactions"][d.gift]
            allocation = rows["fund_allocations"][d.allocation]
            account_id = create(
                "Account",
                {
                    "Name": household["name"],
                    "BillingCity": household["city"],
                    "BillingCountry": household["country"],
                    "RecordTypeId": record_type,
                    "npe01__SYSTEM_AccountType__c": "Household Account",
                    "npe01__SYSTEMIsIndividual__c": True,
                    "Platform_Id__c": f"households:{d.household}",
                },
            )
            contact_id = create(
                "Contact",
                {
                    "FirstName": supporter["first_name"],
                    "LastName": supporter["last_name"],
                    "Email": supporter["email"],
                    "MailingCity": supporter["city"],
                    "MailingCountry": supporter["country"],
                    "AccountId": account_id,
                    "Platform_Id__c": f"supporters:{d.supporter}",
                },
            )
            gift_id = create(
                "Opportunity",
                {
                    "Name": gift["name"],
                    "Amount": float(gift["amount"]),
                    "CloseDate": gift["close_date"].isoformat(),
                    "StageName": gift["stage"],
                    "AccountId": account_id,
                    "npsp__Primary_Contact__c": contact_id,
                    "CampaignId": campaign_ids[d.campaign],
                    "npe01__Do_Not_Automatically_Create_Payment__c": True,
                    "Platform_Id__c": f"transactions:{d.gift}",
                },
            )
            create(
                "npsp__Allocation__c",
                {
                    "npsp__Amount__c": float(allocation["amount"]),
                    "npsp__Opportunity__c": gift_id,
                    "npsp__General_Accounting_Unit__c": fund_ids[d.fund],
                    "Platform_Id__c": f"fund_allocations:{d.allocation}",
                },
            )
    return written


# --------------------------------------------------------------------------- 3. merging


@dataclass
class MergeCost:
    backend: str
    updates: int
    crm_edits: int
    plain: dict[str, int]
    merged: dict[str, int]
    seconds: tuple[float, float]
    lost: list[str]

    @property
    def ratio(self) -> float:
        return self.merged["total"] / self.plain["total"] if self.plain.get("total") else float("nan")


def measure_merge(bench: Platform, emulator: EmulatorProcess, args: argparse.Namespace) -> MergeCost:
    """Push ``--merge-updates`` phone edits twice: alone, then with 10% also edited in Salesforce."""
    pools = linked_pools(bench)
    rng = random.Random(13)
    chosen = [s for s, _ in rng.sample(pools.supporters, min(args.merge_updates, len(pools.supporters)))]
    contacts = bench.crm_ids("supporters")

    def push_round(tag: str, crm_edits: list[int]) -> tuple[dict[str, int], float]:
        with bench.engine.begin() as conn:
            records.update_many(
                conn, bench.org, "supporters", [(s, {"phone": f"{MARKER}{tag}{s}"}) for s in chosen]
            )
        for supporter in crm_edits:
            # A person edits the contact in Salesforce: not pulled yet when the push comes.
            body = {"fields": {"Title": f"Salesforce {tag}{supporter}"}}
            emulator.http.patch(
                f"/__emulator__/records/Contact/{contacts[supporter]}", json=body
            ).raise_for_status()
        before = emulator.stats()
        started = time.monotonic()
        report = run_push(bench.workspace, CONNECTION)
        seconds = time.monotonic() - started
        if report.count("pushed") != len(chosen):
            raise RuntimeError(f"the merge round pushed {report.count('pushed')} of {len(chosen)} supporters")
        return calls_delta(before["api_calls"], emulator.stats()["api_calls"]), seconds

    plain, plain_seconds = push_round("A", [])
    edited = rng.sample(chosen, int(len(chosen) * MERGE_SHARE))
    merged, merged_seconds = push_round("B", edited)
    # Nothing lost: every platform phone reached Salesforce, every Salesforce title survived and
    # reached the platform.
    crm = {r["Platform_Id__c"]: r for r in emulator.rows("Contact", ["Platform_Id__c", "Phone", "Title"])}
    with reading(bench.engine) as conn:
        rows = records.get_many(conn, bench.org, "supporters", chosen)
    lost = []
    for supporter in chosen:
        contact = crm.get(f"supporters:{supporter}", {})
        if contact.get("Phone") != f"{MARKER}B{supporter}":
            lost.append(f"supporters:{supporter} phone in Salesforce is {contact.get('Phone')!r}")
    for supporter in edited:
        title = f"Salesforce B{supporter}"
        if crm.get(f"supporters:{supporter}", {}).get("Title") != title:
            lost.append(f"supporters:{supporter}: Salesforce's title was overwritten")
        if rows[supporter]["title"] != title:
            lost.append(f"supporters:{supporter}: Salesforce's title did not reach the platform")
    return MergeCost(
        bench.backend, len(chosen), len(edited), plain, merged, (plain_seconds, merged_seconds), lost
    )


def print_merge(result: MergeCost) -> None:
    for name, calls, seconds in (
        ("no CRM change", result.plain, result.seconds[0]),
        (f"{result.crm_edits} also edited in Salesforce", result.merged, result.seconds[1]),
    ):
        detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if k != "total")
        print(
            f"    {result.updates} updates, {name}: {calls['total']} API calls ({detail}) in {seconds:.1f} s"
        )
    print(f"    ratio {result.merged['total']} / {result.plain['total']} = {result.ratio:.3f}")
    for problem in result.lost[:10]:
        print(f"      LOST: {problem}")
    if not result.lost:
        print(
            "    checked: every platform phone is in Salesforce, every Salesforce title survived and reached "
            "the platform"
        )


# --------------------------------------------------------------------------- orchestration


@dataclass
class BackendResult:
    backend: str
    latency: Latency | None = None
    efficiency: Efficiency | None = None
    merge: MergeCost | None = None
    skipped: str | None = None


def run_backend(backend: str, args: argparse.Namespace, root: Path, log_dir: Path) -> BackendResult:
    print(f"\n== {backend} ==")
    if backend == "postgres":
        problem = postgres_problem(POSTGRES_URL)
        if problem is not None:
            print(f"  PostgreSQL unavailable, skipped: {problem}")
            return BackendResult(backend, skipped=problem)
    emulator = EmulatorProcess(args.org_records, log_dir, f"emulator-{backend}")
    try:
        health = emulator.wait()
        print(f"  emulator (own process): npsp:{args.org_records} seeded, {health['records']} records")
        workdir = root / backend
        workdir.mkdir()
        with platform_db(backend, workdir, emulator) as bench:
            started = time.monotonic()
            pulled = run_sync_all(bench.workspace, CONNECTION)
            if pulled.status != "succeeded":
                raise RuntimeError(f"the setup pull ended {pulled.status}: {pulled.message}")
            pools = linked_pools(bench)
            print(
                f"  setup pull (not measured): {time.monotonic() - started:.1f} s; linked "
                f"{len(pools.supporters)} supporters, {len(pools.campaigns)} campaigns, "
                f"{len(pools.funds)} funds"
            )
            print(f"  latency: {args.rate:g} changes/s for {args.seconds:g} s, pusher in its own process ...")
            latency = measure_latency(bench, emulator, args, log_dir)
            print_latency(latency, args)
            print(
                f"  merging: {args.merge_updates} supporter updates, then again with 10% edited "
                "in Salesforce ..."
            )
            merge = measure_merge(bench, emulator, args)
            print_merge(merge)
            print(f"  API calls: {args.donations} new donations by new supporters ...")
            efficiency = measure_efficiency(bench, emulator, args, log_dir)
            print_efficiency(efficiency)
            return BackendResult(backend, latency, efficiency, merge)
    finally:
        emulator.stop()


def ms(value: float) -> str:
    return "never" if value == float("inf") else f"{value:.0f} ms"


def print_latency(result: Latency, args: argparse.Namespace) -> None:
    count = len(result.written)
    kinds = {
        k: sum(1 for w in result.written if w.kind == k)
        for k in ("new supporter", "supporter update", "gift")
    }
    print(
        f"    wrote {count} changes in {result.seconds:.1f} s ({count / result.seconds:.1f}/s, target "
        f"{args.rate:g}/s), each its own transaction, {args.writers} writer thread(s): "
        + ", ".join(f"{n} {k}s" for k, n in kinds.items())
    )
    print(
        "    (new supporter = household + supporter; gift = transaction + fund allocation for a linked "
        "supporter, linked campaign and fund; update = phone and city of a linked supporter)"
    )
    print(
        "    latency = time the write was committed in the emulated org (its journal, in the emulator "
        "process) - time the platform transaction's commit returned (CLOCK_MONOTONIC in both)"
    )
    print(
        f"    commit -> committed in the emulated org: p50 {ms(result.percentile(50))}, "
        f"p99 {ms(result.percentile(99))}, max {ms(result.percentile(100))}; "
        f"{len(result.missing)} never seen"
    )
    for kind, values in result.by_kind.items():
        print(
            f"      {kind:17} n={len(values):5}  p50 {percentile(values, 50):6.0f} ms  "
            f"p99 {percentile(values, 99):6.0f} ms  max {percentile(values, 100):6.0f} ms"
        )
    calls = result.api_calls
    detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if k != "total")
    print(f"    API calls during the run: {calls['total']} ({detail})")


def print_efficiency(result: Efficiency) -> None:
    ours, naive = result.ours, result.naive
    detail = ", ".join(f"{k} {v}" for k, v in sorted(ours.items()) if k != "total")
    print(
        f"    our pusher (run_watch in its own process, started after the {result.donations} donations "
        f"were committed, one transaction each; {4 * result.donations} records):"
    )
    print(f"      {ours['total']} API calls ({detail}) in {result.ours_seconds:.1f} s")
    print(
        "      new records in the CRM: "
        + ", ".join(f"{name} {count}" for name, count in result.new_records.items())
    )
    if result.problems:
        for problem in result.problems:
            print(f"      PROBLEM: {problem}")
    else:
        print(
            f"      checked: exactly {result.donations} new Contacts and Opportunities (and Accounts, "
            "allocations), each Contact in its household and linked on the platform, each Opportunity "
            "with its contact, household and campaign, each allocation with its Opportunity and fund"
        )
    detail = ", ".join(f"{k} {v}" for k, v in sorted(naive.items()) if k != "total")
    print(
        "    baseline: one POST sobjects/<Object> per record, parents first (Account, Contact, "
        "Opportunity, allocation per donation), plus one RecordType query; on the reseeded org:"
    )
    print(
        f"      {naive['total']} API calls ({detail}) for {result.naive_records} records "
        f"in {result.naive_seconds:.1f} s"
    )
    print(f"    ratio {ours['total']} / {naive['total']} = {result.ratio:.4f}")


def summary(results: list[BackendResult]) -> None:
    def line(measure: str, value: str, target: str, passed: bool) -> None:
        print(f"{measure:46} {value:>26} {target:>10}  {'PASS' if passed else 'MISS'}")

    print()
    print(f"{'measure':46} {'value':>26} {'target':>10}  result")
    for result in results:
        b = result.backend
        if result.skipped is not None:
            line(f"latency p99, {b}", "not measured", "< 500 ms", passed=False)
            continue
        if result.latency is not None:
            p99 = result.latency.percentile(99)
            value = f"{ms(p99)} (p50 {ms(result.latency.percentile(50))})"
            line(f"latency p99, {b}", value, "< 500 ms", passed=p99 < TARGET_P99_MS)
        if result.efficiency is not None:
            eff = result.efficiency
            value = f"{eff.ratio:.4f} ({eff.ours['total']} / {eff.naive['total']})"
            line(f"API calls / one-per-record calls, {b}", value, "<= 0.05", passed=eff.ratio <= TARGET_RATIO)
            value = f"{eff.new_records['Contact']} / {eff.new_records['Opportunity']}"
            line(
                f"CRM: new Contacts / Opportunities, linked, {b}",
                value + ("" if not eff.problems else " (wrong)"),
                f"{eff.donations} each",
                passed=not eff.problems,
            )
        if result.merge is not None:
            cost = result.merge
            value = f"{cost.ratio:.3f} ({cost.merged['total']} / {cost.plain['total']})"
            line(
                f"calls with 10% CRM edits / without, {b}", value, "<= 1.1", passed=cost.ratio <= TARGET_MERGE
            )
            line(f"edits lost (either side), {b}", str(len(cost.lost)), "0", passed=not cost.lost)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the latency run (default 60)")
    parser.add_argument("--rate", type=float, default=100.0, help="platform changes per second (default 100)")
    parser.add_argument(
        "--writers", type=int, default=1, help="threads writing the latency run's changes (default 1)"
    )
    parser.add_argument("--donations", type=int, default=1000, help="donations for the API-call ratio")
    parser.add_argument(
        "--merge-updates", type=int, default=1000, help="supporter updates for the merge cost (default 1000)"
    )
    parser.add_argument(
        "--org-records", type=int, default=10_000, help="size of the seeded org (default 10000)"
    )
    parser.add_argument("--keep", type=Path, help="keep the process logs (and profiles) in this directory")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the latency run's pusher (needs --keep)"
    )
    # Internal: the emulator and pusher processes.
    parser.add_argument("--role", choices=["emulator", "pusher"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile and not args.keep:
        parser.error("--profile needs --keep DIR (the profile is written there)")
    if args.role == "emulator":
        emulator_role(args)
        return 0
    if args.role == "pusher":
        pusher_role(args)
        return 0
    root = Path(tempfile.mkdtemp(prefix="crmsync-push-bench-"))
    log_dir = args.keep or root
    log_dir.mkdir(parents=True, exist_ok=True)
    print("crmsync push benchmark")
    print(
        f"  python {platform.python_version()}, sqlalchemy {sa.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = []
    try:
        for backend in backends:
            try:
                results.append(run_backend(backend, args, root, log_dir))
            except Exception as exc:
                print(f"  {backend} failed: {exc}")
                results.append(BackendResult(backend, skipped=str(exc)))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
