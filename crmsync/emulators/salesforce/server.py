"""Running the emulator: ``serve`` blocks (the CLI), ``running_emulator`` runs it in a thread (tests).

Both build the same state: a state file when given (loaded, then written through), a seed
(only when the org holds no records yet, so a restarted emulator keeps its data), then a
data file.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from crmsync.catalogs import Catalog, load_catalog

from .app import create_app
from .auth import AuthConfig
from .limits import DEFAULT_DAILY_API_REQUESTS
from .loader import load_document
from .org import Org
from .presets import seed_preset
from .seed import parse_seed_spec
from .state import EmulatorState, build_state

CATALOG_NAME = "salesforce_npsp"
STARTUP_TIMEOUT_SECONDS = 15.0
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

    def __init__(
        self, state: EmulatorState, server: uvicorn.Server, thread: threading.Thread, port: int
    ) -> None:
        self.state = state
        self.base_url = f"http://127.0.0.1:{port}"
        self.port = port
        self._server = server
        self._thread = thread

    @property
    def org(self) -> Org:
        """The emulated org, for assertions (hold ``org.lock`` for multi-step reads)."""
        return self.state.org

    def stop(self) -> None:
        """Stop serving and release the state file."""
        # Long polls waiting for change events answer now instead of holding the shutdown up.
        self.state.streaming.clear()
        self._server.should_exit = True
        self._thread.join(timeout=10)
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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(emulator_state),
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sf-emulator-{port}", daemon=True
    )
    thread.start()
    emulator = Emulator(emulator_state, server, thread, port)
    try:
        _wait_until_serving(server, thread, port)
        yield emulator
    finally:
        emulator.stop()
        sock.close()


def _wait_until_serving(server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the emulator's server thread stopped while starting; see the log above")
        if server.started:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                pass
        time.sleep(0.01)
    raise RuntimeError(
        f"the emulator did not accept connections on port {port} within {STARTUP_TIMEOUT_SECONDS} s"
    )
