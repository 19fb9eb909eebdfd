"""Pages written in a thread of their own, strictly in order, while the next one is worked out.

The writer spends most of its time in the database, which lets other threads run, and hands
the GIL back and forth a dozen times a page (once per statement). CPython makes a thread that
wants the GIL back wait for the running thread's switch interval, 5 ms by default, so with
the next page being planned meanwhile, the writer waited longer for the GIL than its
statements took. While a writer is open the interval is 0.5 ms (the application's own, if
shorter; see crmsync.engine.held).
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Container
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

from crmsync.engine.held import HeldSetting

T = TypeVar("T")

SWITCH_INTERVAL = 0.0005


def _shorter(interval: float) -> float | None:
    return SWITCH_INTERVAL if interval > SWITCH_INTERVAL else None


_SWITCHING = HeldSetting(sys.getswitchinterval, sys.setswitchinterval, _shorter)


class PageWriter(Generic[T]):
    """Runs jobs one at a time, in the order given, in a background thread; each outcome is
    handed over in the caller's thread.

    Up to ``depth`` jobs wait or run while the caller prepares the next: submitting one more
    first settles the oldest, re-raising its error. Jobs submitted as ``light`` (bookkeeping
    that holds no page) do not count. A job never runs after one that failed
    (the page after a failed page must not move the cursor past it). Leave the ``with`` block
    to wait for the rest.
    """

    def __init__(self, *, depth: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmsync-writer")
        self._depth = depth
        self._pending: deque[tuple[Future[T], Callable[[T], None], str | None, bool]] = deque()
        self._heavy = 0
        # Set in the writer's thread when a job fails; read there before each job.
        self._failed = False
        self._switching = _SWITCHING.held()

    def submit(
        self, job: Callable[[], T], then: Callable[[T], None], *, tag: str | None = None, light: bool = False
    ) -> None:
        """Run ``job`` after the jobs before it; ``then`` gets its outcome, in this thread.

        ``tag`` names what the job writes, for :meth:`wait`.
        """
        if not light:
            while self._heavy >= self._depth:
                self._settle()
            self._heavy += 1
        self._pending.append((self._pool.submit(self._guarded, job), then, tag, light))

    def wait(self, *, tags: Container[str] | None = None) -> None:
        """Wait for the jobs given so far and hand their outcomes to their ``then``.

        With ``tags``, only up to the last one whose tag is among them: what the caller is
        about to read that those tags write is then written.
        """
        last = len(self._pending)
        if tags is not None:
            last = max((i + 1 for i, (_, _, tag, _) in enumerate(self._pending) if tag in tags), default=0)
        for _ in range(last):
            self._settle()

    def _settle(self) -> None:
        future, then, _, light = self._pending.popleft()
        if not light:
            self._heavy -= 1
        then(future.result())

    def _guarded(self, job: Callable[[], T]) -> T:
        if self._failed:
            raise RuntimeError("not run: a job before it failed")
        try:
            return job()
        except BaseException:
            self._failed = True
            raise

    def __enter__(self) -> PageWriter[T]:
        self._switching.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc is None:
                self.wait()
            else:
                # The caller failed: the jobs given are whole (pages with their checkpoints),
                # so they may finish, but their outcomes, or their own errors, no longer matter.
                for future, _, _, _ in self._pending:
                    future.exception()
                self._pending.clear()
                self._heavy = 0
        finally:
            self._pool.shutdown(wait=True)
            self._switching.__exit__(None, None, None)
