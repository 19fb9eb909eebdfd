"""Fetch the next page while the current one is applied: the network and the database overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(source: Iterator[T], *, depth: int = 1) -> Iterator[T]:
    """Yield ``source``'s items, producing up to ``depth`` ahead in a background thread.

    "Ahead" counts from the item the consumer holds: the producer starts on another item
    only when the consumer takes one, so with ``depth`` 1 at most two pages are alive (the
    one being applied and the next), however long the source.

    Exceptions raised by ``source`` are re-raised in the consumer at the same position;
    closing the consumer early stops the producer after its current item.
    """
    items: queue.Queue[object] = queue.Queue()
    # One permit per item the producer may hold beyond the consumer's; the queue is bounded by it.
    room = threading.Semaphore(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                while not room.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                item = next(source, _DONE)
                items.put(item)
                if item is _DONE:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            items.put(exc)

    worker = threading.Thread(target=produce, name="crmsync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            # The consumer now holds this item: the producer may fetch the next meanwhile.
            room.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)
