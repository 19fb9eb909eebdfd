"""Bloomerang first sync at scale: API calls, the rate-limit bound, one request at a time.

Vendors of Bloomerang integrations tell their users that a first sync of a large database
can take an hour or more, because the API pages by 50 records at most. This script times a
first Sync All of a seeded database (by default 20,000 constituents, 5,000 households and
80,000 transactions) against the Bloomerang emulator at a rate limit (default 10 calls a
second) and a latency (default 100 ms), and prints three ratios, each against a bound or a
baseline measured in the same run, with the absolute numbers behind them, then a table of
measure, value, target and PASS/MISS:

1. API calls Sync All made (the emulator's own count, 429s included) / the fewest possible:
   ceil(Total / 50) pages (at least one) for each list it reads, plus its fixed calls
   (the "Platform Id" custom field of constituents and of transactions, email interests);
2. Sync All wall time / the rate-limit bound: the calls the emulator admitted (answered
   other than 429) / the rate;
3. Sync All wall time / a one-request-at-a-time client on the same data, two of them:
   (a) crmsync itself with ``concurrency = 1`` and no client-side rate limit (it honours
   429s only) doing the same Sync All, the figure in the table; (b) a plain httpx loop that
   sends the same GETs as Sync All, one after the other, and only json-decodes the answers.

The emulator runs as a separate ``crmsync emulate bloomerang`` process, and every measured
run happens in a fresh subprocess of this script (``--worker``) with a fresh SQLite
platform, so neither the emulator nor an earlier run counts in what is measured. It is a
measurement, not a test: the exit code is 0 whatever the figures. See benchmarks/README.md.

    .venv/bin/python benchmarks/bloomerang.py [--records 105000] [--rate 10/1] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from benchkit import EmulatorChild, crmsync_command, verdict  # noqa: E402

from crmsync.config import BloomerangConfig  # noqa: E402
from crmsync.connectors.bloomerang.reader import TAKE  # noqa: E402
from crmsync.connectors.bloomerang.records import SOURCES  # noqa: E402
from crmsync.emulators.bloomerang import DEFAULT_API_KEY  # noqa: E402
from crmsync.engine.commands import run_sync_all  # noqa: E402
from crmsync.engine.workspace import Workspace  # noqa: E402
from crmsync.secrets import Vault, generate_key  # noqa: E402

CONNECTION = "bench"
FULL = 105_000  # seed size giving 20,000 constituents, 5,000 households, 80,000 transactions
EMULATOR_START_SECONDS = 120.0
TARGETS = {"calls": 1.05, "bound": 1.15}
# The lists Sync All reads, as the emulator's stats name them.
LISTS = {f"GET /v2{source.path}": name for name, source in SOURCES.items()}


# --------------------------------------------------------------------------- the emulator


class EmulatorProcess(EmulatorChild):
    """``crmsync emulate bloomerang`` in its own process, with the rate limit and latency."""

    def __init__(self, rate: str, latency_ms: int, log_dir: Path) -> None:
        self.rate = rate
        options = ["--rate", rate, "--latency", str(latency_ms)]
        super().__init__(
            "emulator",
            lambda port: [*crmsync_command(), "emulate", "bloomerang", "--port", str(port), *options],
            log_dir,
            client_timeout=900,
            start_seconds=EMULATOR_START_SECONDS,
            stop_seconds=15,
        )
        self.api_url = f"{self.base_url}/v2"

    def seed(self, records: int, seed: int) -> dict[str, Any]:
        """The seeded database (control API: not counted, not rate-limited)."""
        response = self.http.post(
            "/__emulator__/seed", json={"preset": "bloomerang", "records": records, "seed": seed}
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def settings(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get("/__emulator__/settings").json()
        return answer

    def clear_window(self) -> None:
        """Set the same rate again: the limiter forgets its window, so runs start alike."""
        self.http.post("/__emulator__/settings", json={"rate": self.rate}).raise_for_status()


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """API calls made between two stats snapshots (non-zero counts only)."""

    def sub(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        return {k: b.get(k, 0) - a.get(k, 0) for k in b if b.get(k, 0) != a.get(k, 0)}

    return {
        "total": after["total"] - before["total"],
        "by_path": sub(before["by_path"], after["by_path"]),
        "by_status": sub(before["by_status"], after["by_status"]),
        "rate_limited": after["rate_limited"] - before["rate_limited"],
    }


def list_params(name: str) -> dict[str, str]:
    """The parameters a first Sync All sends with a list, besides skip and take (as the connector)."""
    return (
        {"orderBy": "LastModifiedDate", "orderDirection": "Asc"} if SOURCES[name].orders_by_modified else {}
    )


def list_totals(api_url: str) -> dict[str, int]:
    """``Total`` of every list Sync All reads (``take=1``, with its order: this also warms the
    emulator's cached sort of each list). These calls are made before the runs and never
    counted in them (stats deltas)."""
    totals = {}
    with httpx.Client(base_url=api_url, headers={"X-API-KEY": DEFAULT_API_KEY}, timeout=120) as http:
        for name, source in SOURCES.items():
            while True:
                response = http.get(source.path, params={**list_params(name), "take": 1})
                if response.status_code != 429:
                    break
                time.sleep(float(response.headers.get("Retry-After", "1")))
            response.raise_for_status()
            totals[name] = int(response.json()["Total"])
    return totals


# --------------------------------------------------------------------------- workers


class RecordingTransport(httpx.HTTPTransport):
    """The default transport, noting each request's path, parameters, status and times."""

    def __init__(self, api_url: str, origin: float) -> None:
        super().__init__()
        self.prefix = httpx.URL(api_url).path.rstrip("/")
        self.origin = origin
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter() - self.origin
        status = 0
        try:
            response = super().handle_request(request)
            status = response.status_code
            return response
        finally:
            path = request.url.path
            entry = {
                "method": request.method,
                "path": path[len(self.prefix) :] if path.startswith(self.prefix) else path,
                "params": dict(request.url.params.multi_items()),
                "status": status,
                "start": start,
                "end": time.perf_counter() - self.origin,
            }
            with self._lock:
                self.requests.append(entry)


def worker_sync(api_url: str, workdir: Path, rate: str | None, concurrency: int) -> dict[str, Any]:
    """Sync All into a fresh SQLite file, as ``crmsync sync`` runs it."""
    workspace = Workspace(f"sqlite:///{workdir / 'platform.db'}", vault=Vault(generate_key()))
    settings: dict[str, Any] = {
        "crm": "bloomerang",
        "api_url": api_url,
        "api_key": DEFAULT_API_KEY,
        "concurrency": concurrency,
        "toggles": {"default": {"pull": True, "push": False}},
    }
    if rate:
        settings["rate_limit"] = rate
    workspace.register(CONNECTION, BloomerangConfig.model_validate(settings))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    recorder = RecordingTransport(api_url, started)
    result = run_sync_all(workspace, CONNECTION, transport=recorder)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workspace.close()
    counts = {name: c.as_dict() for name, c in result.counts.items()}
    return {
        "seconds": seconds,
        "cpu": cpu,
        "status": result.status,
        "message": result.message,
        "counts": counts,
        "records": sum(c["created"] + c["updated"] + c["unchanged"] for c in counts.values()),
        "problems": result.problems,
        "own_api_calls": result.api_calls,
        "maxrss_kb": rss_after,
        "maxrss_before_kb": rss_before,
        "requests": recorder.requests,
    }


def worker_fetch(api_url: str, plan: list[dict[str, Any]]) -> dict[str, Any]:
    """One GET at a time: every page of every list in ``plan``, json-decoded and discarded."""
    records = calls = limited = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    recorder = RecordingTransport(api_url, started)
    with httpx.Client(
        base_url=api_url,
        headers={"X-API-KEY": DEFAULT_API_KEY, "Accept": "application/json"},
        timeout=120,
        transport=recorder,
    ) as http:

        def get(path: str, params: dict[str, str]) -> Any:
            nonlocal calls, limited
            while True:
                calls += 1
                response = http.get(path, params=params)
                if response.status_code != 429:
                    response.raise_for_status()
                    return response.json()
                limited += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))

        for item in plan:
            if not item["paged"]:
                get(item["path"], item["params"])
                continue
            take = item["take"]
            skip, total = 0, 1
            while skip < total:
                body = get(item["path"], {**item["params"], "skip": str(skip), "take": str(take)})
                total = int(body.get("TotalFiltered", body.get("Total", 0)))
                records += len(body["Results"])
                skip += take
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu_started,
        "records": records,
        "calls": calls,
        "rate_limited": limited,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "requests": recorder.requests,
    }


def fetch_plan(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the fetch-only client sends: each distinct GET Sync All sent (path, and parameters
    other than skip and take), in the order Sync All first sent it; paged when it sent skip."""
    plan: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for r in sorted(requests, key=lambda r: r["start"]):
        params = dict(r["params"])
        paged = "skip" in params
        take = None
        if paged:
            take = int(params.pop("take", TAKE))
            params.pop("skip")
        key = (r["path"], tuple(sorted(params.items())))
        if key not in plan:
            plan[key] = {"path": r["path"], "params": params, "paged": paged, "take": take}
    return list(plan.values())


def answered(requests: list[dict[str, Any]]) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """The requests answered other than 429, as (path, sorted parameters), with multiplicity."""
    return Counter(
        (r["path"], tuple(sorted(r["params"].items()))) for r in requests if r["status"] not in (0, 429)
    )


def worker_main(args: argparse.Namespace) -> None:
    """Run one measurement in this (fresh) process and write its JSON answer to ``--out``."""
    if args.worker == "sync":
        answer = worker_sync(args.api_url, Path(args.workdir), args.client_rate or None, args.concurrency)
    else:
        plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
        answer = worker_fetch(args.api_url, plan)
    Path(args.out).write_text(json.dumps(answer), encoding="utf-8")


# --------------------------------------------------------------------------- orchestration


class Runner:
    """Starts workers in fresh subprocesses, each with an empty working directory."""

    def __init__(self, root: Path, emulator: EmulatorProcess, keep: Path | None) -> None:
        self.root = root
        self.emulator = emulator
        self.keep = keep
        self.serial = 0

    def run(self, label: str, kind: str, extra: list[str]) -> dict[str, Any]:
        self.serial += 1
        name = f"{self.serial:02d}-{label}"
        workdir = self.root / name
        workdir.mkdir()
        out = workdir / "answer.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            kind,
            "--api-url",
            self.emulator.api_url,
            "--workdir",
            str(workdir),
            "--out",
            str(out),
            *extra,
        ]
        self.emulator.clear_window()
        time.sleep(1.0)
        before = self.emulator.api_calls()
        started = time.perf_counter()
        subprocess.run(command, check=True)
        elapsed = time.perf_counter() - started
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        answer["api_calls"] = stats_delta(before, self.emulator.api_calls())
        answer["process_seconds"] = elapsed
        if self.keep is not None:
            write_timeline(self.keep / f"{name}-requests.csv", answer["requests"])
        shutil.rmtree(workdir, ignore_errors=True)
        return answer


def write_timeline(path: Path, requests: list[dict[str, Any]]) -> None:
    """One line per request: start and end (s from the run's start), status, path, parameters."""
    with path.open("w", encoding="utf-8") as out:
        out.write("start,end,status,method,path,params\n")
        for r in sorted(requests, key=lambda r: r["start"]):
            params = "&".join(f"{k}={v}" for k, v in r["params"].items())
            out.write(f"{r['start']:.4f},{r['end']:.4f},{r['status']},{r['method']},{r['path']},{params}\n")


def timeline(requests: list[dict[str, Any]], limit: int, seconds: float) -> dict[str, Any]:
    """How the requests of a run lay in time (the client's clock, as the transport sent them).

    ``idle``: time between the first and the last request with none in flight (``longest_idle``
    the longest such stretch); ``max_starts``: the most admitted (non-429) requests sent in any
    window of ``seconds``; ``tightest``: the shortest time in which ``limit`` + 1 consecutive
    requests (429s included) were sent: under ``seconds``, the emulator's limiter can refuse
    the last one, whatever the latency adds evenly to all of them.
    """
    if not requests:
        return {
            "max_in_flight": 0,
            "idle": 0.0,
            "longest_idle": 0.0,
            "first": 0.0,
            "last": 0.0,
            "max_starts": 0,
            "tightest": None,
        }
    events = sorted([(r["start"], 1) for r in requests] + [(r["end"], -1) for r in requests])
    in_flight = peak = 0
    idle = longest = 0.0
    last_time = events[0][0]
    for moment, step in events:
        if in_flight == 0:
            idle += moment - last_time
            longest = max(longest, moment - last_time)
        in_flight += step
        peak = max(peak, in_flight)
        last_time = moment
    admitted = sorted(r["start"] for r in requests if r["status"] != 429)
    most, low = 0, 0
    for high, moment in enumerate(admitted):
        while moment - admitted[low] >= seconds:
            low += 1
        most = max(most, high - low + 1)
    sent = sorted(r["start"] for r in requests)
    spans = [sent[i + limit] - sent[i] for i in range(len(sent) - limit)]
    return {
        "max_in_flight": peak,
        "idle": idle,
        "longest_idle": longest,
        "first": sent[0],
        "last": max(r["end"] for r in requests),
        "max_starts": most,
        "tightest": min(spans) if spans else None,
    }


def parse_rate(text: str) -> tuple[int, float]:
    limit, _, seconds = text.partition("/")
    return int(limit), float(seconds or "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--records",
        type=int,
        default=FULL,
        help="seed size (default 105000: 20,000 constituents, 5,000 households, 80,000 transactions)",
    )
    size.add_argument("--scale", type=float, help="seed size as a fraction of 105000 (0.1: a tenth)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the emulator's database")
    parser.add_argument("--rate", default="10/1", help="LIMIT/SECONDS of the emulator and of the client")
    parser.add_argument("--latency-ms", type=int, default=100, help="latency of every API call")
    parser.add_argument("--concurrency", type=int, default=4, help="list pages Sync All fetches at once")
    parser.add_argument(
        "--baselines",
        choices=["both", "sync", "fetch", "none"],
        default="both",
        help="one-request-at-a-time runs: crmsync at concurrency 1, the httpx loop, both or none",
    )
    parser.add_argument("--keep", type=Path, help="keep the emulator log and per-request timelines here")
    # Internal: one measurement in a fresh process.
    parser.add_argument("--worker", choices=["sync", "fetch"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--client-rate", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args)
        return 0
    if args.scale is not None:
        args.records = max(100, round(FULL * args.scale))
    root = Path(tempfile.mkdtemp(prefix="crmsync-bench-bl-"))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    try:
        benchmark(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def benchmark(args: argparse.Namespace, root: Path) -> None:
    limit, window = parse_rate(args.rate)
    print(
        f"crmsync Bloomerang first-sync benchmark: seed {args.records} records, rate {args.rate} "
        f"({limit / window:g} calls/s), latency {args.latency_ms} ms, concurrency {args.concurrency}, "
        f"baselines {args.baselines}"
    )
    print(
        f"  python {platform.python_version()}, sqlalchemy {sa.__version__}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}"
    )
    began = time.perf_counter()
    emulator = EmulatorProcess(args.rate, args.latency_ms, args.keep or root)
    try:
        emulator.wait()
        seeded = emulator.seed(args.records, args.seed)
        records = seeded["records"]
        print(
            f"  emulator at {emulator.api_url} (separate process), seeded in {seeded['seconds']:.1f} s: "
            + ", ".join(f"{records.get(k, 0)} {k}" for k in ("Constituent", "Household", "Transaction"))
            + f", {records.get('SoftCredit', 0)} SoftCredit, {seeded['total']} records in all"
        )
        settings = emulator.settings()
        totals = list_totals(emulator.api_url)
        runner = Runner(root, emulator, args.keep)

        print(f"Sync All (rate_limit {args.rate}, concurrency {args.concurrency})")
        sync = runner.run(
            "sync", "sync", ["--client-rate", args.rate, "--concurrency", str(args.concurrency)]
        )
        print(f"  {sync['seconds']:.1f} s")
        one_sync = one_fetch = None
        if args.baselines in ("both", "sync"):
            print("one request at a time (a): Sync All, concurrency 1, no client-side rate limit")
            one_sync = runner.run("sync-c1", "sync", ["--client-rate", "", "--concurrency", "1"])
            print(f"  {one_sync['seconds']:.1f} s")
        if args.baselines in ("both", "fetch"):
            print("one request at a time (b): httpx loop over the same GETs, fetch only")
            plan_file = root / "plan.json"
            plan_file.write_text(json.dumps(fetch_plan(sync["requests"])), encoding="utf-8")
            one_fetch = runner.run("fetch", "fetch", ["--plan", str(plan_file)])
            print(f"  {one_fetch['seconds']:.1f} s")
    finally:
        emulator.stop()
    print(f"  (whole benchmark {time.perf_counter() - began:.0f} s)")
    report(args, settings, totals, sync, one_sync, one_fetch)


def expected_platform(totals: dict[str, int], counts: dict[str, dict[str, int]]) -> list[str]:
    """Where the platform's records do not add up to the lists' totals."""

    def got(*types: str) -> int:
        return sum(counts.get(t, {}).get(k, 0) for t in types for k in ("created", "updated", "unchanged"))

    checks = [
        ("supporters + organizations", got("supporters", "organizations"), totals["constituents"]),
        ("households", got("households"), totals["households"]),
        (
            "transactions + pledges + recurring_donations",
            got("transactions", "pledges", "recurring_donations"),
            totals["transactions"],
        ),
        ("soft_credits", got("soft_credits"), totals["softcredits"]),
        ("funds", got("funds"), totals["funds"]),
        ("campaigns", got("campaigns"), totals["campaigns"]),
        ("appeals", got("appeals"), totals["appeals"]),
    ]
    return [
        f"{label}: {value} on the platform, {want} in Bloomerang"
        for label, value, want in checks
        if value != want
    ]


def describe_run(label: str, run: dict[str, Any], limit: int, window: float) -> None:
    """Calls by status, 429s, and the request timeline of one run."""
    calls = run["api_calls"]
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(calls["by_status"].items()))
    t = timeline(run["requests"], limit, window)
    print(
        f"  {label}: {run['seconds']:.1f} s wall, {run['cpu']:.1f} s CPU of its process, "
        f"{calls['total']} calls (by status {statuses}; 429s {calls['rate_limited']})"
    )
    tightest = "-" if t["tightest"] is None else f"{t['tightest']:.3f} s"
    print(
        f"    requests from {t['first']:.1f} s to {t['last']:.1f} s of the run "
        f"({run['seconds'] - t['last']:.1f} s after the last answer), at most {t['max_in_flight']} in "
        f"flight; none in flight for "
        f"{t['idle']:.1f} s in between (longest {t['longest_idle']:.1f} s)"
    )
    print(
        f"    as sent (client clock): at most {t['max_starts']} admitted calls in any {window:g} s; "
        f"{limit + 1} consecutive calls in {tightest} at the tightest (limit {limit} per {window:g} s)"
    )


def report(
    args: argparse.Namespace,
    settings: dict[str, Any],
    totals: dict[str, int],
    sync: dict[str, Any],
    one_sync: dict[str, Any] | None,
    one_fetch: dict[str, Any] | None,
) -> None:
    limit, window = parse_rate(args.rate)
    take = int(settings.get("max_take", TAKE))
    calls = sync["api_calls"]
    by_path: dict[str, int] = calls["by_path"]
    print()
    print(f"lists Sync All reads (Total from the emulator; pages of {take})")
    minimum_pages = 0
    for path, name in LISTS.items():
        pages = max(1, math.ceil(totals[name] / take))
        minimum_pages += pages
        made = by_path.get(path, 0)
        print(f"  {path:28} {totals[name]:>8} records  minimum {pages:>5} pages  Sync All {made:>5} calls")
    fixed = {p: n for p, n in by_path.items() if p not in LISTS}
    fixed_calls = sum(fixed.values())
    print(f"  fixed calls: {fixed_calls} (" + ", ".join(f"{p} {n}" for p, n in sorted(fixed.items())) + ")")
    problems = expected_platform(totals, sync["counts"])
    if sync["status"] != "succeeded" or sync["problems"]:
        print(
            f"  WARNING: Sync All ended {sync['status']} with {sync['problems']} problems: {sync['message']}"
        )
    for line in problems:
        print(f"  WARNING: {line}")
    if not problems and sync["status"] == "succeeded":
        print("  every list's records are on the platform (checked against the totals)")

    print()
    print("1. API calls")
    admitted = calls["total"] - calls["rate_limited"]
    minimum = minimum_pages + fixed_calls
    ratio_calls = calls["total"] / minimum
    print(
        f"  Sync All made {calls['total']} calls (emulator stats delta), of which {calls['rate_limited']} "
        f"answered 429; crmsync's own counter says {sync['own_api_calls']}"
    )
    print(f"  minimum: {minimum_pages} list pages + {fixed_calls} fixed calls = {minimum}")
    print(f"  ratio {ratio_calls:.3f} (without the 429s: {admitted / minimum:.3f})")

    print()
    print(f"2. Sync All wall time / the rate-limit bound ({limit} calls per {window:g} s)")
    bound = admitted * window / limit
    ratio_bound = sync["seconds"] / bound
    print(
        f"  Sync All {sync['seconds']:.1f} s; bound {admitted} admitted calls / {limit / window:g} per s = "
        f"{bound:.1f} s (for the minimum {minimum} calls: {minimum * window / limit:.1f} s, ratio "
        f"{sync['seconds'] / (minimum * window / limit):.3f})"
    )
    print(f"  ratio {ratio_bound:.3f}")
    describe_run("Sync All", sync, limit, window)
    api_rows = sum(totals.values())
    print(
        f"  {sync['records']} platform records ({sync['records'] / sync['seconds']:,.0f}/s), "
        f"{api_rows} list rows ({api_rows / sync['seconds']:,.0f}/s); "
        f"peak RSS of the process {sync['maxrss_kb'] / 1024:.0f} MiB "
        f"({sync['maxrss_before_kb'] / 1024:.0f} MiB before the run)"
    )

    print()
    print("3. Sync All wall time / one request at a time")
    ratio_one = ratio_fetch = None
    if one_sync is not None:
        ratio_one = sync["seconds"] / one_sync["seconds"]
        print("  (a) crmsync Sync All, concurrency 1, no client-side rate limit (honours 429s only)")
        describe_run("(a)", one_sync, limit, window)
        if one_sync["status"] != "succeeded" or one_sync["records"] != sync["records"]:
            print(
                f"    WARNING: ended {one_sync['status']} with {one_sync['records']} records "
                f"(Sync All: {sync['records']}): {one_sync['message']}"
            )
        print(
            f"    {one_sync['records']} platform records "
            f"({one_sync['records'] / one_sync['seconds']:,.0f}/s), "
            f"peak RSS {one_sync['maxrss_kb'] / 1024:.0f} MiB"
        )
        print(f"  ratio (a) {ratio_one:.3f}")
    if one_fetch is not None:
        ratio_fetch = sync["seconds"] / one_fetch["seconds"]
        print(
            "  (b) plain httpx, the same GETs one after the other (429s honoured), fetch and json-decode only"
        )
        describe_run("(b)", one_fetch, limit, window)
        same = answered(one_fetch["requests"]) == answered(sync["requests"])
        print(
            f"    {one_fetch['records']} list rows; "
            + (
                "the same GETs as Sync All, page for page (checked)"
                if same
                else "WARNING: its GETs differ from Sync All's"
            )
        )
        print(f"  ratio (b) {ratio_fetch:.3f}")

    rows: list[tuple[str, float, float | None]] = [
        ("API calls / minimum", ratio_calls, TARGETS["calls"]),
        ("Sync All time / rate-limit bound", ratio_bound, TARGETS["bound"]),
    ]
    if ratio_one is not None:
        rows.append(("Sync All time / one at a time (a: crmsync)", ratio_one, None))
    if ratio_fetch is not None:
        rows.append(("Sync All time / one at a time (b: httpx)", ratio_fetch, None))
    print()
    print(f"{'measure':44} {'value':>7} {'target':>8}  result")
    for label, value, target in rows:
        if target is None:
            print(f"{label:44} {value:7.3f} {'-':>8}  (no target)")
        else:
            print(f"{label:44} {value:7.3f} {'<= ' + format(target, '.2f'):>8}  {verdict(value, target)}")


if __name__ == "__main__":
    sys.exit(main())
