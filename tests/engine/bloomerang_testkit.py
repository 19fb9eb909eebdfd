"""Helpers for engine tests against the Bloomerang emulator: its control API, a connection
named ``bl``, and the platform state the emulated database should produce."""

from __future__ import annotations

import math
from typing import Any

import httpx
import sqlalchemy as sa

from crmsync.config import BloomerangConfig
from crmsync.connectors.retry import RetryPolicy
from crmsync.emulators.bloomerang import DEFAULT_API_KEY, Emulator
from crmsync.engine.commands import run_push, run_sync_all
from crmsync.engine.pull import RunResult
from crmsync.engine.push import PushReport
from crmsync.engine.workspace import Workspace
from crmsync.model.load import load_profile
from crmsync.store.platform import platform_table
from crmsync.store.tables import archived, links

CONNECTION = "bl"
FAST = RetryPolicy(attempts=4, base_delay=0.0, max_delay=2.0)
GIFT_KINDS = ("Donation", "PledgePayment", "RecurringDonationPayment")
PULL_ALL = {"default": {"pull": True, "push": False}}
BOTH_WAYS = {"default": {"pull": True, "push": True}}


class Control:
    """The emulator's control API (``/__emulator__``): Bloomerang's screens, clock and faults."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__emulator__", timeout=120)

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def reset(self) -> None:
        self.call("POST", "/reset")
        self.call("POST", "/settings", {"rate": None, "latency_ms": 0, "max_take": 50})
        self.call("POST", "/clock", {"real_time": True})

    def seed(self, records: int, seed: int = 1) -> dict[str, int]:
        counts: dict[str, int] = self.call("POST", "/seed", {"records": records, "seed": seed})["records"]
        return counts

    def api_calls(self) -> int:
        return int(self.call("GET", "/stats")["api_calls"]["total"])

    def get(self, kind: str, record_id: int | str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/records/{kind}/{record_id}")
        return found

    def exists(self, kind: str, record_id: int | str) -> bool:
        return self.http.get(f"/records/{kind}/{record_id}").status_code == 200

    def create(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.call("POST", f"/records/{kind}", {"fields": fields}, expect=201)
        return created

    def update(self, kind: str, record_id: int | str, fields: dict[str, Any]) -> dict[str, Any]:
        changed: dict[str, Any] = self.call("PUT", f"/records/{kind}/{record_id}", {"fields": fields})
        return changed

    def delete(self, kind: str, record_id: int | str) -> None:
        self.call("DELETE", f"/records/{kind}/{record_id}")

    def merge(self, survivor: int | str, loser: int | str) -> None:
        self.call("POST", "/merge", {"survivor": int(survivor), "loser": int(loser)})

    def load(self, document: dict[str, Any]) -> None:
        self.call("POST", "/load", document)

    def fault(self, **rule: Any) -> None:
        self.call("POST", "/faults", rule, expect=201)

    def close(self) -> None:
        self.http.close()


def connect(workspace: Workspace, emulator: Emulator, **overrides: Any) -> None:
    """Register the emulator as connection ``bl`` (every object pulled unless overridden)."""
    data: dict[str, Any] = {
        "crm": "bloomerang",
        "api_url": emulator.api_url,
        "api_key": DEFAULT_API_KEY,
        "toggles": PULL_ALL,
    }
    data.update(overrides)
    workspace.register(CONNECTION, BloomerangConfig.model_validate(data))


def sync(workspace: Workspace) -> RunResult:
    """Sync All on ``bl`` (all history the first time, since the cursors afterwards)."""
    return run_sync_all(workspace, CONNECTION, retry=FAST)


def push(workspace: Workspace) -> PushReport:
    return run_push(workspace, CONNECTION, retry=FAST)


def expected_ids(emulator: Emulator) -> dict[str, set[str]]:
    """CRM ids each platform type of the bloomerang profile should link after a complete pull."""
    store = emulator.store
    with store.lock:
        tables = {kind: dict(rows) for kind, rows in store.tables.items()}
    people = tables["Constituent"].values()
    individuals = {str(c["Id"]) for c in people if c["Type"] == "Individual"}
    designations = tables["Designation"]
    kinds = {i: d["Type"] for i, d in designations.items()}
    interests = [i for i, e in tables["EmailInterest"].items() if e.get("IsActive", True)]
    return {
        "funds": {str(i) for i in tables["Fund"]},
        "households": {str(i) for i in tables["Household"]},
        "supporters": individuals,
        "organizations": {str(c["Id"]) for c in people if c["Type"] == "Organization"},
        "campaigns": {str(i) for i in tables["Campaign"]},
        "appeals": {str(i) for i in tables["Appeal"]},
        "recurring_donations": {str(i) for i, k in kinds.items() if k == "RecurringDonation"},
        "pledges": {str(i) for i, k in kinds.items() if k == "Pledge"},
        "transactions": {
            str(i) for i, t in tables["Transaction"].items() if kinds[t["DesignationIds"][0]] in GIFT_KINDS
        },
        "fund_allocations": {str(i) for i, k in kinds.items() if k in GIFT_KINDS},
        "soft_credits": {str(i) for i in tables["SoftCredit"]},
        "subscriptions": {f"{c}-{i}" for c in individuals for i in interests},
    }


def minimum_calls(emulator: Emulator) -> int:
    """The fewest API calls a complete pull can make: each list once, 50 a page, plus the few
    fixed calls (the two "Platform Id" custom fields and the email interests)."""
    store = emulator.store
    with store.lock:
        sizes = [
            store.count("Constituent"),
            store.count("Household"),
            store.count("Transaction"),
            store.count("SoftCredit"),
            store.count("Fund"),
            store.count("Campaign"),
            store.count("Appeal"),
        ]
    return sum(max(1, math.ceil(n / 50)) for n in sizes) + 3


def linked_ids(workspace: Workspace) -> dict[str, set[str]]:
    """CRM ids linked per platform type of the bloomerang profile (empty sets included)."""
    found: dict[str, set[str]] = {m.type: set() for m in load_profile("bloomerang").objects}
    with workspace.engine.connect() as conn:
        for row in conn.execute(sa.select(links.c.platform_type, links.c.crm_id)):
            found.setdefault(row.platform_type, set()).add(row.crm_id)
    return found


def row_counts(workspace: Workspace) -> dict[str, int]:
    """Platform rows per type of the bloomerang profile."""
    profile = load_profile("bloomerang")
    with workspace.engine.connect() as conn:
        return {
            m.type: conn.execute(sa.select(sa.func.count()).select_from(platform_table(m.type))).scalar_one()
            for m in profile.objects
        }


def platform_state(workspace: Workspace) -> dict[str, dict[str, dict[str, Any]]]:
    """Every platform row by type and CRM id, lookups as parent CRM ids (comparable across runs)."""
    profile = load_profile("bloomerang")
    with workspace.engine.connect() as conn:
        crm_of: dict[tuple[str, int], str] = {
            (r.platform_type, r.platform_id): r.crm_id
            for r in conn.execute(sa.select(links.c.platform_type, links.c.platform_id, links.c.crm_id))
        }
        kept = {(r.platform_type, r.platform_id) for r in conn.execute(sa.select(archived))}
        state: dict[str, dict[str, dict[str, Any]]] = {}
        for mapping in profile.objects:
            table = platform_table(mapping.type)
            targets = {t.column: t.type for lookup in mapping.lookups for t in lookup.targets}
            rows: dict[str, dict[str, Any]] = {}
            for row in conn.execute(sa.select(table)):
                values = dict(row._mapping)
                if (mapping.type, values["id"]) in kept:
                    continue  # deleted in the CRM: archived, not part of what the CRM holds
                crm_id = crm_of.get((mapping.type, values.pop("id")), f"<unlinked {len(rows)}>")
                for column in ("organization_id", "created_at", "updated_at"):
                    values.pop(column)
                for column, target in targets.items():
                    if values.get(column) is not None:
                        values[column] = crm_of.get((target, values[column]), "<dangling>")
                rows[crm_id] = {k: str(v) if v is not None else None for k, v in values.items()}
            state[mapping.type] = rows
    return state


def platform_id(workspace: Workspace, platform_type: str, crm_id: str | int) -> int | None:
    """The platform row linked to a CRM id, or None."""
    with workspace.engine.connect() as conn:
        found = conn.execute(
            sa.select(links.c.platform_id).where(
                links.c.platform_type == platform_type, links.c.crm_id == str(crm_id)
            )
        ).scalar_one_or_none()
    return None if found is None else int(found)
