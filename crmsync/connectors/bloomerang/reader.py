"""Reading Bloomerang's lists: skip/take pages fetched concurrently, shared between objects.

A list answers its first page with ``TotalFiltered``, so every other page is known at once
and fetched by ``concurrency`` threads (the client's rate window paces them). Inside
:meth:`ListReader.shared`, the pages of a list read with the same parameters are kept and
served again: a Sync All reads ``/transactions`` once for transactions and fund
allocations. :meth:`ListReader.prefetch` starts fetching the lists a run will read, in
order, while the engine applies what came before: the rate limit, not the engine's work,
then bounds a first sync.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from crmsync import jsontext
from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.records import Raw, Source
from crmsync.errors import ProtocolError

TAKE = 50

Params = dict[str, str]
Key = tuple[str, tuple[tuple[str, str], ...]]


def list_key(source: Source, params: Params) -> Key:
    """What identifies one read of a list."""
    return source.path, tuple(sorted(params.items()))


class _Shared:
    """The pages of one list read, as they arrive; readers wait for the next one."""

    def __init__(self) -> None:
        self.pages: list[bytes] = []
        self.done = False
        self.error: BaseException | None = None
        self.changed = threading.Condition()

    def add(self, page: bytes) -> None:
        with self.changed:
            self.pages.append(page)
            self.changed.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self.changed:
            self.done, self.error = True, error
            self.changed.notify_all()

    def __iter__(self) -> Iterator[bytes]:
        index = 0
        while True:
            with self.changed:
                while index >= len(self.pages) and not self.done:
                    self.changed.wait()
                if index < len(self.pages):
                    page = self.pages[index]
                elif self.error is not None:
                    raise self.error
                else:
                    return
            index += 1
            yield page


class ListReader:
    """Pages of a list, in order, fetched ``concurrency`` at a time."""

    def __init__(self, client: BloomerangClient, *, concurrency: int = 4, take: int = TAKE) -> None:
        self.client = client
        self.concurrency = concurrency
        self.take = take
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bloomerang-page")
        self._sharing = 0
        self._shared: dict[Key, _Shared] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Within the block, a list read twice with the same parameters is fetched once."""
        with self._lock:
            if not self._sharing:
                # A new run: background reads of an earlier one see their own stop.
                self._stop = threading.Event()
            self._sharing += 1
        try:
            yield
        finally:
            with self._lock:
                self._sharing -= 1
                if not self._sharing:
                    self._stop.set()
                    self._shared.clear()

    def prefetch(self, reads: Sequence[tuple[Source, Params]]) -> None:
        """Start fetching these list reads one after another, in the background (when shared)."""
        if not self._sharing or not reads:
            return
        planned = list(dict.fromkeys(list_key(source, params) for source, params in reads))
        threading.Thread(
            target=self._fill_all, args=(planned, self._stop), name="bloomerang-prefetch", daemon=True
        ).start()

    def pages(self, source: Source, params: Params) -> Iterator[tuple[list[Raw], int]]:
        """(records, total filtered) per page of ``source`` with ``params``."""
        key = list_key(source, params)
        if not self._sharing:
            for body in self._fetch(key):
                yield _records(jsontext.loads(body))
            return
        stop = self._stop
        found = self._entry(key, stop)
        if found is None:
            raise ProtocolError("the run ended while its lists were being read")
        entry, mine = found
        if mine:
            # Filled in the background, so the caller applies pages while later ones arrive.
            threading.Thread(
                target=self._fill, args=(key, entry, stop), name="bloomerang-read", daemon=True
            ).start()
        for body in entry:
            yield _records(jsontext.loads(body))

    def close(self) -> None:
        """Stop the page threads."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _entry(self, key: Key, stop: threading.Event) -> tuple[_Shared, bool] | None:
        """The shared read of ``key`` and whether the caller must fill it; None once the run ended."""
        with self._lock:
            if stop.is_set():
                return None
            entry = self._shared.get(key)
            if entry is not None:
                return entry, False
            entry = self._shared[key] = _Shared()
            return entry, True

    def _fill_all(self, planned: list[Key], stop: threading.Event) -> None:
        for key in planned:
            found = self._entry(key, stop)
            if found is None:
                return
            entry, mine = found
            if mine:
                self._fill(key, entry, stop)

    def _fill(self, key: Key, entry: _Shared, stop: threading.Event) -> None:
        # A fill that fails hands its error to every reader of the list: nothing is skipped.
        try:
            for body in self._fetch(key):
                if stop.is_set():
                    raise ProtocolError("the run ended while its lists were being read")
                entry.add(body)
        except BaseException as exc:  # noqa: BLE001 - re-raised in every reader
            entry.finish(exc)
            return
        entry.finish()

    def _fetch(self, key: Key) -> Iterator[bytes]:
        path, items = key
        params = dict(items)
        first = self._page(path, params, 0)
        yield first
        total = _records(jsontext.loads(first))[1]
        skips = list(range(self.take, total, self.take))
        # A window of pages in flight, yielded in order: memory stays bounded.
        window = max(self.concurrency * 2, 2)
        pending: list[Future[bytes]] = []
        try:
            for skip in skips:
                pending.append(self._pool.submit(self._page, path, params, skip))
                if len(pending) >= window:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for future in pending:
                future.cancel()

    def _page(self, path: str, params: Params, skip: int) -> bytes:
        return self.client.get_raw(path, {**params, "skip": str(skip), "take": str(self.take)})


def _records(body: Any) -> tuple[list[Raw], int]:
    if not isinstance(body, dict) or not isinstance(body.get("Results"), list):
        raise ProtocolError("Bloomerang answered a list without Results; is the API URL right (…/v2)?")
    total = body.get("TotalFiltered", body.get("Total")) or 0
    return body["Results"], int(total)
