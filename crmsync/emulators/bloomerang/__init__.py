"""A local, faithful Bloomerang (REST API v2) for tests and demos: constituents, households,
transactions with designations (donations, pledges, recurring donations and their payments),
soft credits, funds, campaigns, appeals, email interests and custom fields, behind API keys
and OAuth tokens, with Bloomerang's paging, filters and error bodies, a sliding-window rate
limit, latency, scripted faults, the CRM screen's merge, a deterministic seed and an
optional SQLite state file.

Bloomerang's published OpenAPI document validates every answer. It stands for the outside
world, so it imports nothing of crmsync but what the emulators share
(``crmsync.emulators.common``).

    with running_emulator(seed="bloomerang:1000") as emulator:
        ...  # emulator.api_url, headers={"X-API-KEY": DEFAULT_API_KEY}, emulator.store

The control API (``/__emulator__/``) is described in ``CONTROL_API.md`` next to this file.
"""

from __future__ import annotations

from .auth import DEFAULT_API_KEY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN_SECONDS, AuthConfig
from .errors import ApiError
from .queries import DEFAULT_MAX_TAKE
from .server import Emulator, running_emulator, serve
from .state import EmulatorState
from .store import Store

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_MAX_TAKE",
    "DEFAULT_TOKEN_SECONDS",
    "ApiError",
    "AuthConfig",
    "Emulator",
    "EmulatorState",
    "Store",
    "running_emulator",
    "serve",
]
