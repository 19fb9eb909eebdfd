"""What a push is asked to do and what became of each record: items, outcomes, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from crmsync.engine.push_plan import Key
from crmsync.store.logs import LogEntry

Status = Literal["pushed", "failed", "skipped"]


@dataclass(frozen=True)
class PushItem:
    """A platform record to push (or whose CRM record to delete)."""

    platform_type: str
    platform_id: int
    operation: Literal["upsert", "delete"] = "upsert"
    crm_id: str | None = None

    @property
    def key(self) -> Key:
        """(platform type, platform id)."""
        return self.platform_type, self.platform_id


@dataclass
class Outcome:
    """What happened to one requested record."""

    status: Status
    message: str
    code: str | None = None
    locked: bool = False
    crm_id: str | None = None


@dataclass
class PushReport:
    """Outcomes by requested record, and the API calls the push made."""

    outcomes: dict[Key, Outcome] = field(default_factory=dict)
    api_calls: int = 0
    # Records that had failed because of one pushed now, queued to be pushed again.
    released: list[Key] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """How many requested records ended with ``status``."""
        return sum(1 for o in self.outcomes.values() if o.status == status)


def skip(report: PushReport, entries: list[LogEntry], item: PushItem, message: str) -> None:
    """Record ``item`` as skipped, with a log entry saying why."""
    report.outcomes[item.key] = Outcome("skipped", message)
    entries.append(
        LogEntry(
            data_type=item.platform_type,
            action="delete" if item.operation == "delete" else "push",
            direction="push",
            status="skipped",
            message=message,
            platform_id=item.platform_id,
        )
    )
