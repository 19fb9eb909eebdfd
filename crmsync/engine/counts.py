"""Per-object counts of a run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class Counts:
    """What happened to the records of one platform type in a run."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    deleted: int = 0
    merged: int = 0
    # Arrived but kept out of the section by a filter (its parent's, the team's): noted, not a problem.
    left_out: int = 0

    def add(self, other: Counts) -> None:
        """Add ``other`` into this."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        """JSON-ready."""
        return asdict(self)

    @property
    def problems(self) -> int:
        """Records that did not make it (each has an error log entry)."""
        return self.skipped + self.failed

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Counts:
        """From a stored run."""
        return cls(**{f.name: int(data.get(f.name, 0)) for f in fields(cls)})
