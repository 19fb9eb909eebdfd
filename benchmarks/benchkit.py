"""What the benchmark scripts share: child processes, waiting for an emulator, and the arithmetic
of their reports. Not a benchmark itself."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import httpx
import sqlalchemy as sa


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def crmsync_command() -> list[str]:
    """The ``crmsync`` command of this interpreter's environment."""
    script = Path(sys.executable).parent / "crmsync"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "crmsync"]


def script_command(script: str, arguments: list[str]) -> list[str]:
    """The command that runs the Python ``script`` (a benchmark in another role) with ``arguments``."""
    return [sys.executable, str(Path(script).resolve()), *arguments]


class Child:
    """A subprocess started by a benchmark, its output in a log file, stopped with SIGTERM, only by us."""

    def __init__(
        self, name: str, command: list[str], log_dir: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.log_path = log_dir / f"{name}.log"
        self._log: TextIO = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )

    @classmethod
    def script(
        cls, name: str, script: str, arguments: list[str], log_dir: Path, env: Mapping[str, str] | None = None
    ) -> Child:
        """The Python ``script`` (a benchmark in another role) with ``arguments``."""
        return cls(name, script_command(script, arguments), log_dir, env)

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> float:
        """SIGTERM, wait (SIGKILL after ``timeout``); the seconds it took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return time.monotonic() - started

    def lines(self) -> list[dict[str, Any]]:
        """The JSON lines it printed so far."""
        texts = self.log_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(text) for text in texts if text.startswith("{")]


def wait_healthy(child: Child, client: httpx.Client, path: str, timeout: float) -> dict[str, Any]:
    """Poll ``path`` until it answers 200 (its JSON), while ``child`` runs; RuntimeError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"the emulator stopped while starting; see {child.log_path}")
        try:
            response = client.get(path)
            if response.status_code == 200:
                health: dict[str, Any] = response.json()
                return health
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the emulator did not start within {timeout:.0f} s; see {child.log_path}")


class EmulatorChild(Child):
    """An emulator process a benchmark started on a free loopback port, with a client for it
    (``http``, rooted at its base URL) that stopping the process closes."""

    def __init__(
        self,
        name: str,
        command: Callable[[int], list[str]],
        log_dir: Path,
        *,
        client_timeout: float,
        start_seconds: float,
        stop_seconds: float = 60,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        super().__init__(name, command(self.port), log_dir)
        self.http = httpx.Client(base_url=self.base_url, timeout=client_timeout)
        self._start_seconds = start_seconds
        self._stop_seconds = stop_seconds

    def wait(self) -> dict[str, Any]:
        """Block until it is seeded and serving; its health answer."""
        return wait_healthy(self, self.http, "/__emulator__/health", self._start_seconds)

    def stats(self) -> dict[str, Any]:
        """``GET /__emulator__/stats`` (the control API is not counted as API usage)."""
        body: dict[str, Any] = self.http.get("/__emulator__/stats").raise_for_status().json()
        return body

    def api_calls(self) -> dict[str, Any]:
        """API calls so far, as the emulator counts them (``total``, and by resource or path)."""
        return dict(self.stats()["api_calls"])

    def stop(self, timeout: float | None = None) -> float:
        """Close the client, then stop the process (see :meth:`Child.stop`)."""
        self.http.close()
        return super().stop(self._stop_seconds if timeout is None else timeout)


class RoleEmulator(EmulatorChild):
    """``script`` run as its own seeded emulator (``--role emulator``) of ``org_records`` records;
    seeding a large org takes minutes, hence the generous client and start timeouts."""

    def __init__(
        self, script: str, org_records: int, log_dir: Path, name: str, *, stop_seconds: float
    ) -> None:
        self.org_records = org_records
        super().__init__(
            name,
            lambda port: script_command(
                script, ["--role", "emulator", "--port", str(port), "--org-records", str(org_records)]
            ),
            log_dir,
            client_timeout=600,
            start_seconds=600,
            stop_seconds=stop_seconds,
        )


def calls_delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, int]:
    """API calls between two answers of the Salesforce emulator's stats (``total`` and
    ``by_resource``): by resource where it changed, and ``total``."""
    old, new = before["by_resource"], after["by_resource"]
    delta = {k: new[k] - old.get(k, 0) for k in new if new[k] != old.get(k, 0)}
    delta["total"] = after["total"] - before["total"]
    return delta


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (100: the largest value)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def verdict(value: float, target: float) -> str:
    """PASS when ``value`` is within ``target`` (lower is better)."""
    return "PASS" if value <= target else "MISS"


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used (the first line of the error), or None."""
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip that backend, and say why
        return str(exc).splitlines()[0]
    return None
