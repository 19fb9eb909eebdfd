"""Reading Bloomerang's lists: skip/take pages fetched concurrently, shared between objects.

A list answers its first page with ``TotalFiltered``, so every other page is known at once
and fetched by ``concurrency`` threads (the client's rate window paces them). Inside
:meth:`ListReader.shared`, the pages of a list read with the same parameters are kept and
served again: a Sync All reads ``/transactions`` once for transactions, designations,
pledges and recurring donations.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.records import Raw, Source
from crmsync.errors import ProtocolError

TAKE = 50
# Pages kept for sharing, at most (raw JSON bytes): a 100,000-gift database is ~150 MB.
SHARED_BYTES = 1 << 30

Params = tuple[tuple[str, str], ...]


class ListReader:
    """Pages of a list, in order, fetched ``concurrency`` at a time."""

    def __init__(self, client: BloomerangClient, *, concurrency: int = 4, take: int = TAKE) -> None:
        self.client = client
        self.concurrency = concurrency
        self.take = take
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bloomerang-page")
        self._sharing = 0
        self._shared: dict[tuple[str, Params], list[bytes]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def shared(self) -> Iterator[None]:
        """Within the block, a list read twice with the same parameters is fetched once."""
        with self._lock:
            self._sharing += 1
        try:
            yield
        finally:
            with self._lock:
                self._sharing -= 1
                if not self._sharing:
                    self._shared.clear()

    def pages(self, source: Source, params: dict[str, str]) -> Iterator[tuple[list[Raw], int]]:
        """(records, total filtered) per page of ``source`` with ``params``."""
        key = (source.path, tuple(sorted(params.items())))
        kept = self._shared.get(key)
        if kept is not None:
            for body in kept:
                yield _records(json.loads(body))
            return
        keep: list[bytes] | None = [] if self._sharing else None
        for body in self._fetch(source.path, params):
            if keep is not None:
                keep.append(body)
            yield _records(json.loads(body))
        if keep is not None and self._sharing:
            with self._lock:
                if sum(len(b) for pages in self._shared.values() for b in pages) < SHARED_BYTES:
                    self._shared[key] = keep

    def close(self) -> None:
        """Stop the page threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _fetch(self, path: str, params: dict[str, str]) -> Iterator[bytes]:
        first = self._page(path, params, 0)
        yield first
        total = _records(json.loads(first))[1]
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

    def _page(self, path: str, params: dict[str, str], skip: int) -> bytes:
        return self.client.get_raw(path, {**params, "skip": str(skip), "take": str(self.take)})


def _records(body: Any) -> tuple[list[Raw], int]:
    if not isinstance(body, dict) or not isinstance(body.get("Results"), list):
        raise ProtocolError("Bloomerang answered a list without Results; is the API URL right (…/v2)?")
    total = body.get("TotalFiltered", body.get("Total")) or 0
    return body["Results"], int(total)
