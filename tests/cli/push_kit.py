"""A project an operator would have for push tests: a platform database (a SQLite file, or
a PostgreSQL database of its own), a crmsync.toml for an emulator, the CLI run as a command,
and plain SQL as the application writes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import crmsync
from crmsync.emulators.salesforce.server import Emulator
from crmsync.secrets import generate_key

SECRETS = {"SF_CLIENT_SECRET": "emulator-secret", "SF_PASSWORD": "emulator-password"}
POSTGRES_ADMIN = os.environ.get("CRMSYNC_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Project:
    """A crmsync project directory with its platform database."""

    directory: Path
    url: str
    backend: str
    env: dict[str, str]
    engine: sa.Engine
    children: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        """The project's crmsync.toml."""
        return self.directory / "crmsync.toml"

    def write_config(self, login_url: str, *, toggles: str, extra: str = "") -> None:
        """Point the project at an emulator with these toggles (a TOML inline table per type)."""
        self.config.write_text(
            f'database_url = "{self.url}"\n\n[connections.sf]\nlogin_url = "{login_url}"\n'
            'client_id = "crmsync-emulator"\nclient_secret = "env:SF_CLIENT_SECRET"\n'
            'username = "admin@npsp.example.org"\npassword = "env:SF_PASSWORD"\n'
            f"{extra}\n[connections.sf.toggles]\n{toggles}\n",
            encoding="utf-8",
        )

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run ``crmsync ARGS`` to the end, as a command."""
        return subprocess.run(
            [sys.executable, "-m", "crmsync", "--config", str(self.config), *args],
            env=self.env,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``crmsync ARGS``, which must succeed (its output shown if it does not)."""
        done = self.cli(*args)
        assert done.returncode == 0, (
            f"crmsync {' '.join(args)} exited {done.returncode}: {done.stdout}{done.stderr}"
        )
        return done

    def json(self, *args: str) -> Any:
        """The one JSON document ``crmsync ARGS --json`` prints."""
        done = self.cli(*args, "--json")
        assert done.returncode in (0, 3), done.stderr
        return json.loads(done.stdout)

    def json_lines(self, *args: str) -> list[Any]:
        """The JSON lines ``crmsync ARGS --json`` prints (logs, locks)."""
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """Start ``crmsync ARGS`` in the background (stopped when the test ends)."""
        child = subprocess.Popen(
            [sys.executable, "-m", "crmsync", "--config", str(self.config), *args],
            env=self.env,
            cwd=self.directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.children.append(child)
        return child

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run one statement as the application would (in its own transaction); its rows."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.text(statement), params)
            return list(result) if result.returns_rows else []

    def sign_up(self, prefix: str, count: int) -> list[str]:
        """New supporters as the application inserts them; their emails."""
        emails = [f"{prefix}{n}@example.org" for n in range(count)]
        for email in emails:
            self.sql(
                "INSERT INTO supporters (organization_id, first_name, last_name, email, created_at, "
                f"updated_at) VALUES (1, 'New', 'Supporter', :email, '{self.now()}', '{self.now()}')",
                email=email,
            )
        return emails

    def crm_id(self, platform_type: str, platform_id: int) -> str:
        """The CRM id the record is linked to."""
        rows = self.sql(
            "SELECT crm_id FROM crmsync_links WHERE platform_type = :t AND platform_id = :i",
            t=platform_type,
            i=platform_id,
        )
        return str(rows[0][0])

    def now(self) -> str:
        """A timestamp literal both backends take for created_at and updated_at."""
        return "2026-01-01 00:00:00" if self.backend == "sqlite" else "2026-01-01T00:00:00Z"

    def stop_children(self) -> None:
        """Kill whatever the test left running."""
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.communicate(timeout=30)


def postgres_problem() -> str | None:
    """Why the PostgreSQL server cannot be used, or None."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as exc:
        return str(exc.orig or exc).splitlines()[0]
    return None


def open_project(backend: str, directory: Path) -> Iterator[Project]:
    """A fresh project on ``backend`` (sqlite or postgres), torn down afterwards."""
    key = directory / "key"
    key.write_text(generate_key(), encoding="utf-8")
    env = {**os.environ, **SECRETS, "CRMSYNC_SECRET_KEY_FILE": str(key)}
    # The commands run the crmsync under test, whatever the directory they start in.
    source = str(Path(crmsync.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    env.pop("CRMSYNC_SECRET_KEY", None)
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'platform.db'}"
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        name = f"crmsync_t_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        url = sa.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
            admin.dispose()

    engine = sa.create_engine(url)
    if backend == "sqlite":
        # As an application would have it: its foreign keys act (SET NULL, CASCADE).
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    project = Project(directory, url, backend, env, engine)
    try:
        yield project
    finally:
        project.stop_children()
        project.engine.dispose()
        drop()


def crm_record(emulator: Emulator, object_name: str, crm_id: str) -> dict[str, Any]:
    """One record of the emulated org, deleted or not."""
    return next(dict(r) for r in emulator.org.scan(object_name) if r["Id"] == crm_id)
