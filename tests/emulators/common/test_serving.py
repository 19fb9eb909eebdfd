"""What the emulators share: it imports nothing of crmsync, and serves without Nagle's delays."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from testkit import foreign_imports

import crmsync.emulators.common as common_package
from crmsync.emulators.common.serving import ThreadedServer

PACKAGE_DIR = Path(common_package.__file__).parent


def test_imports_nothing_of_crmsync_but_itself() -> None:
    assert foreign_imports(PACKAGE_DIR, ("crmsync.emulators.common",)) == []


async def _echo(request: Request) -> Response:
    return Response(b"x" * int(request.query_params["size"]), media_type="application/octet-stream")


def test_keep_alive_answers_come_without_the_delayed_ack_wait() -> None:
    server = ThreadedServer(
        Starlette(routes=[Route("/echo", _echo)]), name="test", graceful_shutdown_seconds=1
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url) as client:
            client.get("/echo", params={"size": 10})
            started = time.perf_counter()
            for _ in range(20):
                # Headers and a small body are two writes: with Nagle on, the second waits for
                # the first's ACK, which the client delays (~40 ms on Linux).
                assert client.get("/echo", params={"size": 100}).status_code == 200
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    # Twenty answers with Nagle's wait take at least 0.8 s; without it, milliseconds each.
    assert elapsed < 0.6, elapsed
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
