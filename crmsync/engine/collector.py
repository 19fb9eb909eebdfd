"""Fewer garbage collections while a pull runs: a larger young generation for its duration.

A pull makes several objects per record (the record, its row, link and log entry) that live
as long as their page. CPython looks for reference cycles every 700 net allocations, so a
page's objects go through several young collections while it is applied, reach the oldest
generation, and every few pages trigger a full collection, which walks every object of the
process (the application's too): that was about a fifth of Sync All's CPU time. With a young
generation larger than a page's objects, reference counting frees them before a collection
sees them. Cycles are still collected, a little later.

The threshold is process-wide. It is only ever raised (never lowered, and left alone when the
application turned the collector off), held while any pull runs, and put back by the last
one to finish unless something else changed it meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Net allocations between young collections while a pull runs: above what a page of 2,000
# records keeps alive, small enough that a young collection stays a matter of milliseconds.
YOUNG_THRESHOLD = 20_000


class _Holder:
    """Who holds the raised threshold, and what to put back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.saved: tuple[int, int, int] | None = None
        self.raised: tuple[int, int, int] | None = None

    def enter(self) -> None:
        with self.lock:
            if self.count == 0:
                young, middle, old = gc.get_threshold()
                if gc.isenabled() and 0 < young < YOUNG_THRESHOLD:
                    self.saved = (young, middle, old)
                    self.raised = (YOUNG_THRESHOLD, middle, old)
                    gc.set_threshold(*self.raised)
            self.count += 1

    def leave(self) -> None:
        with self.lock:
            self.count -= 1
            if self.count == 0 and self.saved is not None:
                if gc.get_threshold() == self.raised:
                    gc.set_threshold(*self.saved)
                self.saved = self.raised = None


_HOLDER = _Holder()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within the block (in any thread), the young generation is at least YOUNG_THRESHOLD."""
    _HOLDER.enter()
    try:
        yield
    finally:
        _HOLDER.leave()
