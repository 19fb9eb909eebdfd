"""What the emulators share: it imports nothing of crmsync, and serves without Nagle's delays."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from testkit import foreign_imports

import crmsync.emulators.common as common_package
from crmsync.emulators.common.serving import ThreadedServer

PACKAGE_DIR = Path(common_package.__file__).parent


def test_imports_nothing_of_crmsync_but_itself() -> None:
    assert foreign_imports(PACKAGE_DIR, ("crmsync.emulators.common",)) == []


async def nodelay_probe(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app answering whether its own connection has Nagle's algorithm off (TCP_NODELAY).

    uvicorn hands the app a bound ``send`` of its request cycle, which holds the transport.
    """
    connection = send.__self__.transport.get_extra_info("socket")
    body = str(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_connections_have_nagle_off_and_the_port_is_released() -> None:
    # Headers and a small body are two writes: with Nagle on, the second waits for the
    # first's ACK, which the client delays (~40 ms on Linux), on every keep-alive answer.
    server = ThreadedServer(nodelay_probe, name="test", graceful_shutdown_seconds=1)
    server.start()
    try:
        answer = httpx.get(f"{server.url}/")
    finally:
        server.stop()
    assert (answer.status_code, answer.text) == (200, "1")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
