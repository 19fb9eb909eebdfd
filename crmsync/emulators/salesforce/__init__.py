"""A local, faithful Salesforce (with NPSP) for tests and demos: OAuth and SOAP login, the REST
API (query, sObjects, describe, limits, and the composite family: composite, batch, graph,
sObject Collections), an org with Salesforce's write, delete and merge semantics and its own
logic (validation rules, before-save automations, duplicate rules), all-or-none transactions
with real rollback, Change Data Capture delivered over the Streaming API (CometD long
polling, with replay), scripted faults, deterministic NPSP and customer-success seeds and an
optional SQLite state file.

Real clients (simple-salesforce) work against it unchanged. It stands for the outside world,
so it imports nothing of crmsync except the catalogs (schemas), its own SOQL engine and what
the emulators share (``crmsync.emulators.common``).

    with running_emulator(seed="npsp:1000") as emulator:
        ...  # emulator.base_url, emulator.org

The control API (``/__emulator__/``) is described in ``CONTROL_API.md`` next to this file.
"""

from __future__ import annotations

from .auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_SESSION_SECONDS,
    DEFAULT_USERNAME,
    AuthConfig,
)
from .errors import ApiError
from .limits import DEFAULT_DAILY_API_REQUESTS
from .org import Org
from .server import Emulator, running_emulator, serve
from .state import EmulatorState

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_DAILY_API_REQUESTS",
    "DEFAULT_PASSWORD",
    "DEFAULT_SECURITY_TOKEN",
    "DEFAULT_SESSION_SECONDS",
    "DEFAULT_USERNAME",
    "ApiError",
    "AuthConfig",
    "Emulator",
    "EmulatorState",
    "Org",
    "running_emulator",
    "serve",
]
