"""Daily API request allocation: counted per call, reported in ``Sforce-Limit-Info`` and ``/limits``.

Salesforce counts every authenticated REST call against a rolling 24-hour allocation and
refuses calls with ``403 REQUEST_LIMIT_EXCEEDED`` once it is spent. The emulator counts the
same way (without the rolling window: the control API resets or sets the count).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Protocol

DEFAULT_DAILY_API_REQUESTS = 100_000

# The other limits of a Developer Edition org (the shape of Salesforce's /limits answer);
# the emulator does not enforce them, clients only read them.
_STATIC_LIMITS: dict[str, int] = {
    "ConcurrentAsyncGetReportInstances": 200,
    "ConcurrentSyncReportRuns": 20,
    "DailyAsyncApexExecutions": 250_000,
    "DailyBulkApiRequests": 10_000,
    "DailyBulkV2QueryFileStorageMB": 976_562,
    "DailyBulkV2QueryJobs": 10_000,
    "DailyDurableGenericStreamingApiEvents": 10_000,
    "DailyDurableStreamingApiEvents": 10_000,
    "DailyGenericStreamingApiEvents": 10_000,
    "DailyStreamingApiEvents": 10_000,
    "DailyWorkflowEmails": 390,
    "DataStorageMB": 5,
    "DurableStreamingApiConcurrentClients": 20,
    "FileStorageMB": 20,
    "HourlyAsyncReportRuns": 1_200,
    "HourlyDashboardRefreshes": 200,
    "HourlyDashboardResults": 5_000,
    "HourlyDashboardStatuses": 999_999_999,
    "HourlyODataCallout": 10_000,
    "HourlySyncReportRuns": 500,
    "HourlyTimeBasedWorkflow": 50,
    "MassEmail": 10,
    "SingleEmail": 15,
    "StreamingApiConcurrentClients": 20,
}


class MetaStore(Protocol):
    """Where usage survives a restart (the SQLite state file)."""

    def put_meta(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""

    def get_meta(self, key: str) -> Any:
        """The value stored under ``key``, or None."""


class ApiUsage:
    """API calls used today against the daily allocation, and per resource for stats."""

    def __init__(self, daily_max: int = DEFAULT_DAILY_API_REQUESTS, store: MetaStore | None = None) -> None:
        self._lock = threading.Lock()
        self._store = store
        self.daily_max = daily_max
        self.used = 0
        self.by_resource: Counter[str] = Counter()
        saved = store.get_meta("api_usage") if store is not None else None
        if isinstance(saved, dict):
            self.used = int(saved.get("used", 0))
            self.by_resource.update({str(k): int(v) for k, v in dict(saved.get("by_resource", {})).items()})

    def charge(self, resource: str) -> bool:
        """Count one call to ``resource``; False (and nothing counted) when the allocation is spent."""
        with self._lock:
            if self.used >= self.daily_max:
                return False
            self.used += 1
            self.by_resource[resource] += 1
            self._save()
            return True

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` header value."""
        return f"api-usage={self.used}/{self.daily_max}"

    def configure(self, *, daily_max: int | None = None, used: int | None = None) -> None:
        """Set the allocation and/or the calls already used (control API)."""
        with self._lock:
            if daily_max is not None:
                self.daily_max = daily_max
            if used is not None:
                self.used = used
            self._save()

    def reset(self) -> None:
        """Forget every call (a new day, or an org reset)."""
        with self._lock:
            self.used = 0
            self.by_resource.clear()
            self._save()

    def limits(self) -> dict[str, dict[str, int]]:
        """The body of ``GET /limits``."""
        body = {name: {"Max": value, "Remaining": value} for name, value in _STATIC_LIMITS.items()}
        body["DailyApiRequests"] = {"Max": self.daily_max, "Remaining": max(self.daily_max - self.used, 0)}
        return dict(sorted(body.items()))

    def stats(self) -> dict[str, Any]:
        """Calls in total and by resource, for the control API."""
        return {
            "total": self.used,
            "max": self.daily_max,
            "by_resource": dict(sorted(self.by_resource.items())),
        }

    def _save(self) -> None:
        if self._store is not None:
            self._store.put_meta("api_usage", {"used": self.used, "by_resource": dict(self.by_resource)})
