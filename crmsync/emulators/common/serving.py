"""An emulator's app served by uvicorn in a background thread, on 127.0.0.1 and a free port."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

STARTUP_TIMEOUT_SECONDS = 15.0
log = logging.getLogger(__name__)


class ThreadedServer:
    """An ASGI app served by uvicorn in a daemon thread, on a port bound at construction."""

    def __init__(self, app: Any, *, name: str, graceful_shutdown_seconds: int) -> None:
        # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only for sockets whose
        # protocol says TCP, and accepted sockets inherit it. With proto 0 every keep-alive
        # answer waits ~40 ms for the client's delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=graceful_shutdown_seconds,
        )
        self._server = uvicorn.Server(config)
        self._graceful_shutdown_seconds = graceful_shutdown_seconds
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=f"{name}-{self.port}", daemon=True
        )

    def start(self) -> None:
        """Serve in the background; returns once a connection is accepted, RuntimeError if none is in time."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator's server thread stopped while starting; see the log above")
            if self._server.started:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError(
            f"the emulator did not accept connections on port {self.port} within {STARTUP_TIMEOUT_SECONDS} s"
        )

    def stop(self) -> None:
        """Stop serving (requests under way get the graceful shutdown's time) and close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=self._graceful_shutdown_seconds + 5)
            if self._thread.is_alive():
                log.warning("the server thread for %s did not stop; closing its socket anyway", self.url)
        self._sock.close()
