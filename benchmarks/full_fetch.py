"""Full Fetch API calls: 10,000 accounts with 5 contacts each, against the fewest possible.

An emulated org holds ``--accounts`` customer accounts with ``--contacts`` contacts each
(and its integration user); every other section of the ``customer-success`` profile is
empty. A fresh SQLite platform runs **Full Fetch** (every section receiving) and the script
prints the API calls it made, counted by the emulator (the OAuth token call is not API
usage), next to the minimum:

    minimum = describes (one per section's object) + sum over sections of ceil(records / 2000)

with an empty section counted as 0 pages, and, stricter for us, as 1 (a query is needed to
learn that a section is empty, the convention of benchmarks/pull.py). Full Fetch reads the
first page of every section in one Composite Batch call, so it can come in under both.
It is a measurement, not a test: the exit code is 0 whatever the figures.

    .venv/bin/python benchmarks/full_fetch.py [--accounts 10000] [--contacts 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crmsync.config import SalesforceConfig  # noqa: E402
from crmsync.emulators.salesforce.seed import Seeder  # noqa: E402
from crmsync.emulators.salesforce.server import Emulator, running_emulator  # noqa: E402
from crmsync.engine.section_commands import run_fetch  # noqa: E402
from crmsync.engine.workspace import Workspace  # noqa: E402
from crmsync.model.load import load_profile  # noqa: E402
from crmsync.model.order import pull_order  # noqa: E402
from crmsync.secrets import Vault, generate_key  # noqa: E402

PAGE = 2000


def load_org(emulator: Emulator, accounts: int, contacts: int) -> None:
    """``accounts`` customer accounts with ``contacts`` contacts each, owned by the admin user."""
    org = emulator.org
    with org.lock, org.capture_paused():
        org.reset()
        seeder = Seeder(org, accounts * (contacts + 1), seed=1)
        seeder.users = [org.user_id]
        for index in range(accounts):
            created = seeder.moment_after(seeder.start_ms)
            account_id = seeder.add(
                "Account",
                {"Name": f"Customer {index:05d}", "Type": "Customer - Direct", "Industry": "Technology"},
                created,
            )
            for number in range(contacts):
                seeder.add(
                    "Contact",
                    {
                        "FirstName": f"User{number}",
                        "LastName": f"Customer{index:05d}",
                        "Email": f"user{number}.c{index:05d}@example.com",
                        "AccountId": account_id,
                    },
                    seeder.moment_after(created),
                )
        org.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=5, help="contacts per account")
    parser.add_argument("--keep", type=Path, default=None, help="keep the platform database here")
    args = parser.parse_args(argv)
    profile = load_profile("customer-success")
    work = args.keep or Path(tempfile.mkdtemp(prefix="crmsync-full-fetch-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "platform.db"
    database.unlink(missing_ok=True)
    with running_emulator() as emulator:
        started = time.perf_counter()
        load_org(emulator, args.accounts, args.contacts)
        print(f"org: {emulator.org.total():,} records loaded in {time.perf_counter() - started:.1f} s")
        records = {
            m.type: sum(1 for r in emulator.org.scan(m.object) if not r["IsDeleted"]) for m in profile.objects
        }
        config = SalesforceConfig.model_validate(
            {
                "profile": "customer-success",
                "login_url": emulator.base_url,
                "client_id": "crmsync-emulator",
                "client_secret": "emulator-secret",
                "username": "admin@npsp.example.org",
                "password": "emulator-password",
                "sections": {t: {"direction": "receive"} for t in profile.types()},
            }
        )
        workspace = Workspace(f"sqlite:///{database}", vault=Vault(generate_key()))
        try:
            workspace.register("sf", config)
            emulator.state.usage.reset()
            started = time.perf_counter()
            result = run_fetch(workspace, "sf", full=True)
            seconds = time.perf_counter() - started
            by_resource = Counter(emulator.state.usage.by_resource)
        finally:
            workspace.close()
    calls = sum(by_resource.values())
    order = pull_order(profile)
    pages = {t: math.ceil(records[t] / PAGE) for t in order}
    describes = len({profile.mapping(t).object for t in order})
    minimum = describes + sum(pages.values())
    strict = describes + sum(max(1, p) for p in pages.values())
    print(f"\nFull Fetch: {result.status}, {result.message}; {seconds:.1f} s\n")
    print(f"{'section':<14} {'object':<12} {'records':>8} {'pages':>6}")
    for platform_type in order:
        mapping = profile.mapping(platform_type)
        label = mapping.label_text
        print(f"{label:<14} {mapping.object:<12} {records[platform_type]:>8,} {pages[platform_type]:>6}")
    print(f"\nAPI calls (emulator's count): {calls}  by resource: {dict(sorted(by_resource.items()))}")
    print(f"API calls (crmsync's count):  {result.api_calls}")
    print(f"minimum = {describes} describes + {sum(pages.values())} pages = {minimum}")
    print(f"minimum, one query per empty section too = {strict}")
    print(f"\n{'measure':<44} {'value':>8} {'target':>8}")
    for name, value in (
        ("API calls / minimum", calls / minimum),
        ("API calls / strict minimum", calls / strict),
    ):
        verdict = "PASS" if value <= 1.0 else "MISS"
        print(f"{name:<44} {value:>8.2f} {'<= 1.00':>8} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
