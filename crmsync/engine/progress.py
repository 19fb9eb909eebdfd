"""How the engine reports progress to whoever runs it (a terminal, the web UI, nobody)."""

from __future__ import annotations

from typing import Protocol

from crmsync.engine.counts import Counts


class Observer(Protocol):
    """Receives progress of a run; every method must return quickly."""

    def object_started(self, platform_type: str, label: str) -> None:
        """A platform type's pull begins."""

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        """A page was applied; ``fetched`` is the running total for the type."""

    def object_done(self, platform_type: str, counts: Counts) -> None:
        """A platform type's pull ended."""

    def note(self, text: str) -> None:
        """A line for a person (a phase began, something worth knowing)."""

    def waiting(self, text: str) -> None:
        """The run waits before retrying a call the CRM failed; ``text`` says why and how long.

        Called from whichever thread made the call.
        """


class Silent:
    """An observer that ignores everything."""

    def object_started(self, platform_type: str, label: str) -> None:
        """Ignore."""

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        """Ignore."""

    def object_done(self, platform_type: str, counts: Counts) -> None:
        """Ignore."""

    def note(self, text: str) -> None:
        """Ignore."""

    def waiting(self, text: str) -> None:
        """Ignore."""
