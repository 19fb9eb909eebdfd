"""Everything one running emulator holds, shared by the API routes, the gate and the control API."""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .auth import AuthConfig, AuthService
from .clock import Clock
from .faults import FaultInjector
from .persistence import SqliteState, restore
from .queries import DEFAULT_MAX_TAKE
from .ratelimit import RateLimiter
from .store import Store

_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


@dataclass
class Settings:
    """Tunable behaviour of the API (set from the command line or the control API)."""

    latency_ms: int = 0
    max_take: int = DEFAULT_MAX_TAKE


class CallStats:
    """API calls by method and path template, by status, and the 429s; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.total = 0

    def call(self, method: str, path: str) -> None:
        """Count one API call."""
        with self._lock:
            self.total += 1
            self.by_path[f"{method} {_ID_SEGMENT.sub('/{id}', path)}"] += 1

    def status(self, status: int) -> None:
        """Count one answer's status (0: the connection was dropped)."""
        with self._lock:
            self.by_status[str(status)] += 1

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.by_path.clear()
            self.by_status.clear()
            self.total = 0

    def describe(self) -> dict[str, Any]:
        """The counts for the control API."""
        with self._lock:
            return {
                "total": self.total,
                "by_path": dict(sorted(self.by_path.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "rate_limited": self.by_status.get("429", 0),
            }


@dataclass
class EmulatorState:
    """The database and the services around it."""

    store: Store
    auth: AuthService
    settings: Settings = field(default_factory=Settings)
    faults: FaultInjector = field(default_factory=FaultInjector)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    stats: CallStats = field(default_factory=CallStats)
    persistence: SqliteState | None = None

    def close(self) -> None:
        """Release the state file, if any."""
        if self.persistence is not None:
            self.persistence.close()

    def describe(self) -> dict[str, Any]:
        """API calls and record counts for the control API."""
        with self.store.lock:
            records = dict(self.store.snapshot_counts())
        return {"api_calls": self.stats.describe(), "records": records, "faults_fired": self.faults.fired}


def build_state(
    *,
    state_file: str | None = None,
    auth_config: AuthConfig | None = None,
    clock: Clock | None = None,
    settings: Settings | None = None,
    rate: tuple[int, float] | None = None,
) -> EmulatorState:
    """A fresh emulator state, loaded from ``state_file`` when it exists."""
    persistence = SqliteState(state_file) if state_file else None
    store = Store(clock or Clock(), persistence)
    if persistence is not None:
        restore(store, persistence)
    limiter = RateLimiter(*rate) if rate is not None else RateLimiter()
    return EmulatorState(
        store=store,
        auth=AuthService(auth_config or AuthConfig(), store.clock),
        settings=settings or Settings(),
        limiter=limiter,
        persistence=persistence,
    )
