"""Sync All started from the console: a background thread whose progress pages can poll.

The run itself is stored as usual (crmsync_runs, with counts saved per page); a job adds
the live view of it (object by object, fetched so far) for the process that started it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmsync.engine.commands import run_sync_all
from crmsync.engine.counts import Counts
from crmsync.engine.workspace import Workspace
from crmsync.errors import CrmsyncError
from crmsync.store.types import utcnow

log = logging.getLogger("crmsync.web")
KEEP = 200


@dataclass
class ObjectProgress:
    """One platform type in a job."""

    label: str
    fetched: int = 0
    total: int | None = None
    done: bool = False
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Job:
    """A Sync All in the background."""

    id: str
    organization_id: int
    connection: str
    started_at: datetime
    status: str = "running"
    message: str = "starting"
    run_id: int | None = None
    api_calls: int = 0
    finished_at: datetime | None = None
    objects: dict[str, ObjectProgress] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "id": self.id,
            "connection": self.connection,
            "status": self.status,
            "message": self.message,
            "run_id": self.run_id,
            "api_calls": self.api_calls,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "objects": [
                {
                    "type": t,
                    "label": o.label,
                    "fetched": o.fetched,
                    "total": o.total,
                    "done": o.done,
                    "counts": dict(o.counts),
                }
                for t, o in self.objects.items()
            ],
            "notes": list(self.notes[-20:]),
        }


class _Observer:
    """Feeds a job from the engine's progress callbacks (called from the job's thread)."""

    def __init__(self, job: Job, lock: threading.Lock) -> None:
        self.job = job
        self.lock = lock

    def object_started(self, platform_type: str, label: str) -> None:
        with self.lock:
            self.job.objects[platform_type] = ObjectProgress(label)
            self.job.message = f"pulling {label}"

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        with self.lock:
            progress = self.job.objects.setdefault(platform_type, ObjectProgress(platform_type))
            progress.fetched, progress.total = fetched, total
            # A page arrived: whatever the run waited for has passed.
            self.job.message = f"pulling {progress.label}"

    def object_done(self, platform_type: str, counts: Counts) -> None:
        with self.lock:
            progress = self.job.objects.setdefault(platform_type, ObjectProgress(platform_type))
            progress.done, progress.counts = True, counts.as_dict()

    def note(self, text: str) -> None:
        with self.lock:
            self.job.notes.append(text)

    def waiting(self, text: str) -> None:
        with self.lock:
            self.job.message = text
            self.job.notes.append(text)


class Jobs:
    """The jobs this process started, newest last; old ones are forgotten."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._threads: list[threading.Thread] = []

    def start_sync_all(self, workspace: Workspace, connection: str) -> Job:
        """Start Sync All on ``connection`` in a thread; returns the job at once."""
        job = Job(secrets.token_urlsafe(12), workspace.organization_id, connection, utcnow())
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        thread = threading.Thread(
            target=self._run, args=(workspace, job), name=f"crmsync-web-sync-{connection}", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return job

    def get(self, organization_id: int, job_id: str) -> dict[str, Any] | None:
        """A snapshot of the organization's job, or None (other organizations' are invisible)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.organization_id != organization_id:
                return None
            return job.as_dict()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for running jobs (tests and shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _run(self, workspace: Workspace, job: Job) -> None:
        observer = _Observer(job, self._lock)
        try:
            result = run_sync_all(workspace, job.connection, observer=observer)
        except CrmsyncError as exc:
            self._finish(job, "failed", exc.message)
            return
        except Exception:
            log.exception("Sync All on %s failed unexpectedly", job.connection)
            self._finish(job, "failed", "Sync All stopped on an unexpected error; see the server log")
            return
        with self._lock:
            job.run_id = result.run_id
            job.api_calls = result.api_calls
            for platform_type, counts in result.counts.items():
                progress = job.objects.setdefault(
                    platform_type, ObjectProgress(platform_type.replace("_", " "))
                )
                progress.done, progress.counts = True, counts.as_dict()
        self._finish(job, result.status, result.message)

    def _finish(self, job: Job, status: str, message: str) -> None:
        with self._lock:
            job.status, job.message, job.finished_at = status, message, utcnow()
