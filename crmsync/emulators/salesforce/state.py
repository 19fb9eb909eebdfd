"""Everything one running emulator holds, shared by the REST, auth and control routes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmsync.catalogs import Catalog

from .auth import AuthConfig, AuthService
from .cdc_bus import ChangeEventBus
from .clock import Clock
from .cursors import QueryCursors
from .faults import FaultInjector
from .limits import DEFAULT_DAILY_API_REQUESTS, ApiUsage
from .org import Org
from .persistence import SqliteState, restore
from .streaming_clients import StreamingClients

# API versions this emulator answers (Summer '14 to Winter '25); simple-salesforce uses 59.0.
MIN_API_VERSION = 31
MAX_API_VERSION = 62
SUPPORTED_VERSIONS = tuple(f"{major}.0" for major in range(MIN_API_VERSION, MAX_API_VERSION + 1))


def version_label(version: str) -> str:
    """Salesforce's release name of an API version, e.g. ``Winter '24`` for 59.0."""
    index = int(float(version)) - MIN_API_VERSION
    season = ("Summer", "Winter", "Spring")[index % 3]
    return f"{season} '{14 + (index + 2) // 3:02d}"


@dataclass
class EmulatorState:
    """The org and the services around it."""

    org: Org
    auth: AuthService
    usage: ApiUsage
    cdc: ChangeEventBus
    streaming: StreamingClients
    faults: FaultInjector = field(default_factory=FaultInjector)
    cursors: QueryCursors = field(default_factory=QueryCursors)
    persistence: SqliteState | None = None

    @property
    def catalog(self) -> Catalog:
        """The schema of the org."""
        return self.org.catalog

    def save_rules(self) -> None:
        """Keep the org's rules in the state file, if any, so a restarted emulator has them."""
        if self.persistence is not None:
            self.persistence.put_meta("rules", self.org.rules.to_json())

    def reset_change_capture(self) -> None:
        """Change Data Capture back to off: no object enabled, no event retained, no client."""
        self.cdc.reset()
        self.streaming.clear()

    def close(self) -> None:
        """Release the state file, if any."""
        if self.persistence is not None:
            self.persistence.close()

    def stats(self) -> dict[str, Any]:
        """API calls and record counts for the control API."""
        records: dict[str, int] = {}
        deleted: dict[str, int] = {}
        with self.org.lock:
            for name in self.catalog.objects:
                records[name], deleted[name] = self.org.count(name)
        return {"api_calls": self.usage.stats(), "records": records, "deleted": deleted}


def build_state(
    catalog: Catalog,
    *,
    state_file: str | None = None,
    api_limit: int = DEFAULT_DAILY_API_REQUESTS,
    auth_config: AuthConfig | None = None,
    clock: Clock | None = None,
) -> EmulatorState:
    """A fresh emulator state, loaded from ``state_file`` when it exists."""
    config = auth_config or AuthConfig()
    persistence = SqliteState(state_file) if state_file else None
    org = Org(catalog, clock=clock, journal=persistence, admin_username=config.username)
    if persistence is not None:
        restore(org, persistence)
        org.rules.load(persistence.get_meta("rules"))
    org.ensure_admin()
    faults = FaultInjector()
    org.record_faults = faults
    auth = AuthService(config=config, clock=org.clock, org_id=org.org_id, user_id=org.user_id)
    usage = ApiUsage(api_limit, persistence)
    # Attached after the restore: restored rows are not changes.
    cdc = ChangeEventBus(catalog, org.clock, org.user_id, persistence)
    org.capture = cdc
    return EmulatorState(
        org=org,
        auth=auth,
        usage=usage,
        cdc=cdc,
        streaming=StreamingClients(org.clock, cdc),
        faults=faults,
        persistence=persistence,
    )
