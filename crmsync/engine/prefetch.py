"""Fetch the next page while the current one is applied: the network and the database overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

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


def one_after_another(sources: Sequence[Callable[[], Iterator[T]]]) -> list[Iterator[T]]:
    """One iterator per source, meant to be read in turn; when one runs out, the next source's
    first item is produced in the background.

    A CRM query's first page is its slow one (the CRM runs and sorts the whole query before
    answering), and ``prefetched`` can only start it once the engine asks for it, after the
    previous object's last page is applied. Started here, it overlaps that work instead. At
    most one first item is made ahead, so memory stays bounded as with ``prefetched``.
    """
    lock = threading.Lock()
    started: dict[int, _Started[T]] = {}

    def start(index: int) -> _Started[T]:
        with lock:
            if index not in started:
                started[index] = _Started(sources[index]())
            return started[index]

    def stream(index: int) -> Iterator[T]:
        yield from start(index).items()
        if index + 1 < len(sources):
            start(index + 1)

    return [stream(i) for i in range(len(sources))]


class _Started(Generic[T]):
    """An iterator whose first item is being produced by a background thread."""

    def __init__(self, source: Iterator[T]) -> None:
        self._source = source
        self._first: list[T] = []
        self._error: BaseException | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._produce_first, name="crmsync-read-ahead", daemon=True).start()

    def _produce_first(self) -> None:
        try:
            for item in self._source:
                self._first.append(item)
                break
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            self._error = exc
        finally:
            self._ready.set()

    def items(self) -> Iterator[T]:
        """The first item (or the error that stopped it), then the rest, read in the caller's thread."""
        self._ready.wait()
        if self._error is not None:
            raise self._error
        if not self._first:
            return
        yield self._first.pop()
        yield from self._source
