"""Serving the web app: in the foreground (``crmsync serve``) or in a thread (``crmsync run``, tests)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from crmsync.engine.workspace import Workspace
from crmsync.web.app import WebConfig, create_app

STARTUP_TIMEOUT_SECONDS = 10.0


class WebServer:
    """The web app served by uvicorn in a background thread."""

    def __init__(
        self, workspace: Workspace, host: str = "127.0.0.1", port: int = 8000, config: WebConfig | None = None
    ) -> None:
        self.app = create_app(workspace, config)
        self.host = host
        self._sock = listening_socket(host, port)
        self.port = int(self._sock.getsockname()[1])
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="off",
                access_log=False,
                proxy_headers=True,
                timeout_graceful_shutdown=5,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="crmsync-web", daemon=True
        )

    @property
    def url(self) -> str:
        """Where the app answers."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Serve in the background; returns when connections are accepted."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("the web server stopped while starting; see the log above")
            if self._server.started:
                return
            time.sleep(0.01)
        raise RuntimeError(f"the web server did not start on {self.url} within {STARTUP_TIMEOUT_SECONDS} s")

    def stop(self) -> None:
        """Stop serving; Sync All jobs started from the console finish their page first."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.app.state.jobs.wait(timeout=30)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0: a free port) for uvicorn to serve on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio turns Nagle's algorithm off only on connections accepted
    # from a socket whose protocol says TCP; with proto 0 a keep-alive answer written in two
    # parts (headers, body) waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(workspace: Workspace, host: str, port: int, config: WebConfig | None = None) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    uvicorn.run(
        create_app(workspace, config),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
        lifespan="off",
    )
