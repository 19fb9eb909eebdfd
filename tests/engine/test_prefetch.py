"""Prefetching pages: order, errors, early close, and how far ahead the producer runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from crmsync.engine.prefetch import one_after_another, prefetched


def test_yields_every_item_in_order() -> None:
    assert list(prefetched(iter(range(50)))) == list(range(50))


def test_an_error_of_the_source_is_raised_where_it_happened() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    pages = prefetched(source())
    assert [next(pages), next(pages)] == [1, 2]
    with pytest.raises(ValueError, match="page 3 failed"):
        next(pages)


def test_the_producer_stays_one_item_ahead_of_the_one_being_applied() -> None:
    produced: list[int] = []
    lock = threading.Lock()

    def source() -> Iterator[int]:
        for i in range(20):
            with lock:
                produced.append(i)
            yield i

    ahead = []
    for item in prefetched(source()):
        time.sleep(0.01)  # applying: the producer has had time to run as far as it may
        with lock:
            ahead.append(len(produced) - 1 - item)
    # Only the page being applied and the next are alive, however long the source.
    assert max(ahead) == 1


def test_closing_early_stops_the_producer() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    pages = prefetched(source())
    assert next(pages) == 0
    pages.close()
    time.sleep(0.3)
    assert len(produced) <= 3


def test_one_after_another_starts_the_next_source_when_the_previous_runs_out() -> None:
    started: list[int] = []

    def source(index: int, items: list[int]) -> Iterator[int]:
        started.append(index)
        yield from items

    streams = one_after_another([lambda i=i: source(i, [i * 10, i * 10 + 1]) for i in range(3)])
    assert list(streams[0]) == [0, 1]
    time.sleep(0.2)
    # The second source's first item is made in the background; the third waits its turn.
    assert started == [0, 1]
    assert list(streams[1]) == [10, 11]
    assert list(streams[2]) == [20, 21]
    assert started == [0, 1, 2]


def test_one_after_another_raises_a_first_item_error_where_that_source_is_read() -> None:
    def failing() -> Iterator[int]:
        raise ValueError("object 2 cannot be read")
        yield 0  # pragma: no cover - makes this a generator

    streams = one_after_another([lambda: iter([1]), failing, lambda: iter([3])])
    assert list(streams[0]) == [1]
    with pytest.raises(ValueError, match="object 2 cannot be read"):
        next(streams[1])
    # A failed source does not stop the next one from being read on its own.
    assert list(streams[2]) == [3]
