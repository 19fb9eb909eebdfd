"""Daily API request allocation: counted per call, reported in ``Sforce-Limit-Info`` and ``/limits``.

Salesforce counts every authenticated REST call against a rolling 24-hour allocation and
refuses calls with ``403 REQUEST_LIMIT_EXCEEDED`` once it is spent. The emulator counts the
same way (without the rolling window: the control API resets or sets the count).

Change events delivered over the Streaming API count against ``DailyDurableStreamingApiEvents``
instead (one per event per subscription that receives it); its handshakes and connects are
not API calls.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Protocol

DEFAULT_DAILY_API_REQUESTS = 100_000
DEFAULT_DAILY_STREAMING_EVENTS = 10_000
STREAMING_LIMIT = "DailyDurableStreamingApiEvents"

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
        self.streaming_max = DEFAULT_DAILY_STREAMING_EVENTS
        self.streaming_used = 0
        saved = store.get_meta("api_usage") if store is not None else None
        if isinstance(saved, dict):
            self.used = int(saved.get("used", 0))
            self.by_resource.update({str(k): int(v) for k, v in dict(saved.get("by_resource", {})).items()})
            self.streaming_used = int(saved.get("streaming_used", 0))
            self.streaming_max = int(saved.get("streaming_max", DEFAULT_DAILY_STREAMING_EVENTS))

    def charge(self, resource: str) -> bool:
        """Count one call to ``resource``; False (and nothing counted) when the allocation is spent."""
        with self._lock:
            if self.used >= self.daily_max:
                return False
            self.used += 1
            self.by_resource[resource] += 1
            self._save()
            return True

    def deliver_events(self, count: int) -> int:
        """Count up to ``count`` delivered change events; returns how many the allocation allows."""
        with self._lock:
            allowed = max(0, min(count, self.streaming_max - self.streaming_used))
            if allowed:
                self.streaming_used += allowed
                self._save()
            return allowed

    def streaming_spent(self) -> bool:
        """True once no more change events may be delivered today."""
        return self.streaming_used >= self.streaming_max

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` header value."""
        return f"api-usage={self.used}/{self.daily_max}"

    def configure(
        self,
        *,
        daily_max: int | None = None,
        used: int | None = None,
        streaming_max: int | None = None,
        streaming_used: int | None = None,
    ) -> None:
        """Set the allocations and/or what was used of them (control API)."""
        with self._lock:
            if daily_max is not None:
                self.daily_max = daily_max
            if used is not None:
                self.used = used
            if streaming_max is not None:
                self.streaming_max = streaming_max
            if streaming_used is not None:
                self.streaming_used = streaming_used
            self._save()

    def reset(self) -> None:
        """Forget every call (a new day, or an org reset)."""
        with self._lock:
            self.used = 0
            self.by_resource.clear()
            self.streaming_used = 0
            self._save()

    def limits(self) -> dict[str, dict[str, int]]:
        """The body of ``GET /limits``."""
        body = {name: {"Max": value, "Remaining": value} for name, value in _STATIC_LIMITS.items()}
        body["DailyApiRequests"] = {"Max": self.daily_max, "Remaining": max(self.daily_max - self.used, 0)}
        remaining = max(self.streaming_max - self.streaming_used, 0)
        body[STREAMING_LIMIT] = {"Max": self.streaming_max, "Remaining": remaining}
        return dict(sorted(body.items()))

    def stats(self) -> dict[str, Any]:
        """Calls in total and by resource, for the control API."""
        return {
            "total": self.used,
            "max": self.daily_max,
            "by_resource": dict(sorted(self.by_resource.items())),
            "streaming_events": {"used": self.streaming_used, "max": self.streaming_max},
        }

    def _save(self) -> None:
        if self._store is not None:
            self._store.put_meta(
                "api_usage",
                {
                    "used": self.used,
                    "by_resource": dict(self.by_resource),
                    "streaming_used": self.streaming_used,
                    "streaming_max": self.streaming_max,
                },
            )
