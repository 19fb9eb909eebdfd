"""``crmsync emulate``: each emulator as its own process, answering on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

BLOOMERANG_KEY = {"X-API-KEY": "bloomerang-emulator-key"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _emulate(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "crmsync", "emulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def _get_when_up(url: str, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_emulate_bloomerang_serves_a_seeded_database_with_its_rate_limit() -> None:
    port = _free_port()
    with _emulate("bloomerang", "--port", str(port), "--seed", "bloomerang:60", "--rate", "3/60"):
        first = _get_when_up(f"http://127.0.0.1:{port}/v2/constituents?take=5", BLOOMERANG_KEY)
        assert first.status_code == 200
        page = first.json()
        assert page["ResultCount"] == 5
        assert page["Total"] > 5
        codes = [
            httpx.get(f"http://127.0.0.1:{port}/v2/funds", headers=BLOOMERANG_KEY).status_code
            for _ in range(3)
        ]
        assert codes[-1] == 429


def test_emulate_bloomerang_rejects_a_bad_seed_in_one_line() -> None:
    with _emulate("bloomerang", "--port", str(_free_port()), "--seed", "npsp:10") as process:
        output, _ = process.communicate(timeout=30)
    assert process.returncode != 0
    assert b"bloomerang:1000" in output
    assert b"Traceback" not in output


@pytest.mark.parametrize("seed", ["npsp:40"])
def test_emulate_salesforce_serves_a_seeded_org(seed: str) -> None:
    port = _free_port()
    with _emulate("salesforce", "--port", str(port), "--seed", seed):
        versions = _get_when_up(f"http://127.0.0.1:{port}/services/data/", {})
        assert versions.status_code == 200
        assert any(v["version"].startswith("6") for v in versions.json())
