"""Query locators: the ids a query matched, kept so later pages are rendered on demand.

Salesforce keeps a server-side cursor per query that has more rows than one batch and hands
out ``nextRecordsUrl``s of the form ``/services/data/vXX.X/query/01g...-2000``. A user may
keep only a few cursors open (the oldest is dropped) and an idle cursor expires after 15
minutes; either way the locator then answers ``400 INVALID_QUERY_LOCATOR``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .ids import QUERY_LOCATOR_PREFIX, IdSequences

DEFAULT_MAX_OPEN = 10
DEFAULT_IDLE_SECONDS = 15 * 60


@dataclass
class Cursor:
    """One open query: the compiled query and the matching ids at the first call."""

    locator: str
    query: Any
    object_name: str
    ids: list[str]
    batch_size: int
    last_used: float = field(default_factory=time.monotonic)


class QueryCursors:
    """Open cursors, newest last; thread-safe."""

    def __init__(self, max_open: int = DEFAULT_MAX_OPEN, idle_seconds: float = DEFAULT_IDLE_SECONDS) -> None:
        self.max_open = max_open
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Cursor] = OrderedDict()
        self._ids = IdSequences()

    def open(self, query: Any, object_name: str, ids: list[str], batch_size: int) -> Cursor:
        """Keep a new cursor, dropping the oldest beyond ``max_open``."""
        with self._lock:
            locator = self._ids.mint(QUERY_LOCATOR_PREFIX)
            cursor = Cursor(locator, query, object_name, ids, batch_size)
            self._open[locator] = cursor
            while len(self._open) > self.max_open:
                self._open.popitem(last=False)
            return cursor

    def get(self, locator: str) -> Cursor | None:
        """The open cursor ``locator``, or None when unknown, dropped or expired."""
        now = time.monotonic()
        with self._lock:
            cursor = self._open.get(locator)
            if cursor is None:
                return None
            if now - cursor.last_used > self.idle_seconds:
                del self._open[locator]
                return None
            cursor.last_used = now
            self._open.move_to_end(locator)
            return cursor

    def clear(self) -> None:
        """Close every cursor (org reset)."""
        with self._lock:
            self._open.clear()

    def __len__(self) -> int:
        return len(self._open)
