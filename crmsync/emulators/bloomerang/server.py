"""Running the emulator: ``serve`` blocks (the CLI), ``running_emulator`` runs it in a thread (tests).

Both build the same state: a state file when given (loaded, then written through), a seed
(only when the database holds no records yet, so a restarted emulator keeps its data), then
a data file; and the API's settings (page size, latency, rate limit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from crmsync.emulators.common.serving import ThreadedServer

from .app import create_app
from .auth import AuthConfig
from .loader import load_document
from .queries import DEFAULT_MAX_TAKE
from .ratelimit import parse_rate
from .seed import parse_seed_spec, seed_database
from .state import EmulatorState, Settings, build_state
from .store import Store

GRACEFUL_SHUTDOWN_SECONDS = 2
log = logging.getLogger(__name__)


def prepare_state(
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    max_take: int = DEFAULT_MAX_TAKE,
    rate: str | None = None,
    latency_ms: int = 0,
    auth_config: AuthConfig | None = None,
) -> EmulatorState:
    """The emulator's state from the command-line options."""
    if max_take < 1:
        raise ValueError("--max-take must be at least 1")
    if latency_ms < 0:
        raise ValueError("--latency must not be negative")
    emulator = build_state(
        state_file=str(state) if state else None,
        auth_config=auth_config,
        settings=Settings(latency_ms=latency_ms, max_take=max_take),
        rate=parse_rate(rate) if rate else None,
    )
    try:
        if seed:
            _, records = parse_seed_spec(seed)
            if emulator.store.total() == 0:
                seed_database(emulator.store, records)
            else:
                log.info("state file already holds %d records; not seeding", emulator.store.total())
        if load:
            load_document(emulator.store, json.loads(Path(load).read_text(encoding="utf-8")))
    except BaseException:
        emulator.close()
        raise
    return emulator


def serve(
    host: str = "127.0.0.1",
    port: int = 8766,
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    max_take: int = DEFAULT_MAX_TAKE,
    rate: str | None = None,
    latency_ms: int = 0,
    auth_config: AuthConfig | None = None,
    log_level: str = "info",
) -> None:
    """Serve the emulator until interrupted."""
    emulator = prepare_state(
        seed=seed,
        load=load,
        state=state,
        max_take=max_take,
        rate=rate,
        latency_ms=latency_ms,
        auth_config=auth_config,
    )
    try:
        uvicorn.run(
            create_app(emulator),
            host=host,
            port=port,
            log_level=log_level,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    finally:
        emulator.close()


class Emulator:
    """A running emulator: its URL, its in-process state, and a way to stop it."""

    def __init__(self, state: EmulatorState, server: ThreadedServer) -> None:
        self.state = state
        self.port = server.port
        self.base_url = server.url
        self.api_url = f"{self.base_url}/v2"
        self._server = server

    @property
    def store(self) -> Store:
        """The emulated database, for assertions (hold ``store.lock`` for multi-step reads)."""
        return self.state.store

    def stop(self) -> None:
        """Stop serving and release the state file."""
        self._server.stop()
        self.state.close()


@contextmanager
def running_emulator(
    *,
    seed: str | None = None,
    load: str | Path | None = None,
    state: str | Path | None = None,
    max_take: int = DEFAULT_MAX_TAKE,
    rate: str | None = None,
    latency_ms: int = 0,
    auth_config: AuthConfig | None = None,
) -> Iterator[Emulator]:
    """Run the emulator on 127.0.0.1 and a free port in a background thread."""
    emulator_state = prepare_state(
        seed=seed,
        load=load,
        state=state,
        max_take=max_take,
        rate=rate,
        latency_ms=latency_ms,
        auth_config=auth_config,
    )
    server = ThreadedServer(
        create_app(emulator_state), name="bl-emulator", graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS
    )
    emulator = Emulator(emulator_state, server)
    try:
        server.start()
        yield emulator
    finally:
        emulator.stop()
