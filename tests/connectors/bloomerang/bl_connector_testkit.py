"""Helpers for the Bloomerang connector's tests: the emulator's control API and a few bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.connectors.retry import RetryPolicy
from crmsync.emulators.bloomerang import DEFAULT_API_KEY

# Transient failures retried at once; a 429's Retry-After is still honoured (really slept).
MakeConnector = Callable[..., BloomerangConnector]
QUICK = RetryPolicy(attempts=8, base_delay=0.01, max_delay=5.0)


class Control:
    """The emulator's control API (``/__emulator__``), failing loudly on an unexpected status."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__emulator__", timeout=120)

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def reset(self) -> None:
        """Empty database, no faults, no limit, no latency, the default key, real time."""
        self.call("POST", "/reset")
        self.call("POST", "/settings", {"rate": None, "latency_ms": 0, "max_take": 50})
        self.call("POST", "/auth", {"api_keys": [DEFAULT_API_KEY]})
        self.call("POST", "/clock", {"real_time": True})

    def seed(self, records: int, seed: int = 1) -> dict[str, int]:
        counts: dict[str, int] = self.call(
            "POST", "/seed", {"preset": "bloomerang", "records": records, "seed": seed}
        )["records"]
        return counts

    def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", "/stats")
        return found

    def api_calls(self) -> int:
        """API calls the emulator answered (or dropped) so far."""
        return int(self.stats()["api_calls"]["total"])

    def fault(self, **rule: Any) -> None:
        self.call("POST", "/faults", rule, expect=201)

    def settings(self, **values: Any) -> dict[str, Any]:
        found: dict[str, Any] = self.call("POST", "/settings", values)
        return found

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

    def merge(self, survivor: int | str, loser: int | str) -> dict[str, Any]:
        merged: dict[str, Any] = self.call("POST", "/merge", {"survivor": int(survivor), "loser": int(loser)})
        return merged

    def close(self) -> None:
        self.http.close()


def make_connector(
    api_url: str,
    *,
    key: str = DEFAULT_API_KEY,
    rate: str | None = None,
    concurrency: int = 4,
    retry: RetryPolicy | None = None,
) -> BloomerangConnector:
    """crmsync's connector for the emulated database."""
    client = BloomerangClient(api_url, key, rate=rate, retry=retry or QUICK)
    return BloomerangConnector(client, concurrency=concurrency)


def person(
    first: str = "Ada", last: str = "Lovelace", email: str | None = None, **more: Any
) -> dict[str, Any]:
    """A create body for an individual."""
    body: dict[str, Any] = {"Type": "Individual", "FirstName": first, "LastName": last, **more}
    if email is not None:
        body["PrimaryEmail"] = {"Type": "Home", "Value": email}
    return body


def gift(account_id: int | str, *lines: tuple[float, int], **more: Any) -> dict[str, Any]:
    """A create body for a donation over designations of (amount, fund id)."""
    return {
        "AccountId": int(account_id),
        "Date": "2025-03-01",
        "Amount": sum(amount for amount, _fund in lines),
        "Method": "Check",
        "Designations": [{"Type": "Donation", "Amount": amount, "FundId": fund} for amount, fund in lines],
        **more,
    }
