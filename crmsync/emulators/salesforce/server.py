"""Running the emulator: ``serve`` blocks (the CLI), ``running_emulator`` runs it in a thread (tests).

Both build the same state: a state file when given (loaded, then written through), a seed
(only when the org holds no records yet, so a restarted emulator keeps its data), then a
data file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from crmsync.catalogs import Catalog, load_catalog
from crmsync.emulators.common.serving import ThreadedServer

from .app import create_app
from .auth import AuthConfig
from .limits import DEFAULT_DAILY_API_REQUESTS
from .loader import load_document
from .org import Org
from .presets import seed_preset
from .seed import parse_seed_spec
from .state import EmulatorState, build_state

CATALOG_NAME = "salesforce_npsp"
GRACEFUL_SHUTDOWN_SECONDS = 2
log = logging.getLogger(__name__)


def prepare_state(
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    api_limit: int = DEFAULT_DAILY_API_REQUESTS,
    catalog: Catalog | None = None,
    auth_config: AuthConfig | None = None,
) -> EmulatorState:
    """The emulator's state from the command-line options (seed ``PRESET:N``, data file, state file)."""
    emulator = build_state(
        catalog or load_catalog(CATALOG_NAME),
        state_file=str(state) if state else None,
        api_limit=api_limit,
        auth_config=auth_config,
    )
    if seed:
        preset, records = parse_seed_spec(seed)
        # Only the admin user exists in a fresh org; a restarted one keeps its records.
        if emulator.org.total() <= 1:
            seed_preset(emulator.org, preset, records)
        else:
            log.info("state file already holds %d records; not seeding", emulator.org.total())
    if load:
        document = json.loads(Path(load).read_text(encoding="utf-8"))
        load_document(emulator.org, document)
    return emulator


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    api_limit: int = DEFAULT_DAILY_API_REQUESTS,
    catalog: Catalog | None = None,
    auth_config: AuthConfig | None = None,
    log_level: str = "info",
) -> None:
    """Serve the emulator until interrupted."""
    emulator = prepare_state(
        seed=seed, load=load, state=state, api_limit=api_limit, catalog=catalog, auth_config=auth_config
    )
    try:
        uvicorn.run(
            create_app(emulator),
            host=host,
            port=port,
            log_level=log_level,
            lifespan="off",
            # A Streaming API long poll may be waiting (up to 110 s): do not wait for it.
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    finally:
        emulator.close()


class Emulator:
    """A running emulator: its URL, its in-process state, and a way to stop it."""

    def __init__(self, state: EmulatorState, server: ThreadedServer) -> None:
        self.state = state
        self.base_url = server.url
        self.port = server.port
        self._server = server

    @property
    def org(self) -> Org:
        """The emulated org, for assertions (hold ``org.lock`` for multi-step reads)."""
        return self.state.org

    def stop(self) -> None:
        """Stop serving and release the state file."""
        # Long polls waiting for change events answer now instead of holding the shutdown up.
        self.state.streaming.clear()
        self._server.stop()
        self.state.close()


@contextmanager
def running_emulator(
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    api_limit: int = DEFAULT_DAILY_API_REQUESTS,
    catalog: Catalog | None = None,
    auth_config: AuthConfig | None = None,
) -> Iterator[Emulator]:
    """Run the emulator on 127.0.0.1 and a free port in a background thread."""
    emulator_state = prepare_state(
        seed=seed, load=load, state=state, api_limit=api_limit, catalog=catalog, auth_config=auth_config
    )
    server = ThreadedServer(
        create_app(emulator_state), name="sf-emulator", graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS
    )
    emulator = Emulator(emulator_state, server)
    try:
        server.start()
        yield emulator
    finally:
        emulator.stop()
