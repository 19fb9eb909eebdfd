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
from collections.abc import Iterator
from contextlib import contextmanager

from crmsync.engine.held import HeldSetting

# Net allocations between young collections while a pull runs: above what a page of 2,000
# records keeps alive, small enough that a young collection stays a matter of milliseconds.
YOUNG_THRESHOLD = 20_000


def _raised(threshold: tuple[int, int, int]) -> tuple[int, int, int] | None:
    young, middle, old = threshold
    if gc.isenabled() and 0 < young < YOUNG_THRESHOLD:
        return (YOUNG_THRESHOLD, middle, old)
    return None


def _set_threshold(threshold: tuple[int, int, int]) -> None:
    gc.set_threshold(*threshold)


_THRESHOLD = HeldSetting(gc.get_threshold, _set_threshold, _raised)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within the block (in any thread), the young generation is at least YOUNG_THRESHOLD."""
    with _THRESHOLD.held():
        yield
