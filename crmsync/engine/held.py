"""A process-wide setting changed while any pull needs it, and put back by the last one.

crmsync runs inside the application's process, so what it changes for itself (the garbage
collector's young generation, the interpreter's thread switch interval) must stay out of the
application's way: the setting is only ever moved in one direction (never made worse than
the application's own choice), held while any holder is inside, and put back by the last
one to leave unless something else changed it meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class HeldSetting(Generic[T]):
    """One setting, read with ``get`` and written with ``put``; ``wanted`` says what it should be
    while held given its current value, or None to leave it alone."""

    def __init__(
        self, get: Callable[[], T], put: Callable[[T], None], wanted: Callable[[T], T | None]
    ) -> None:
        self._get, self._put, self._wanted = get, put, wanted
        self._lock = threading.Lock()
        self._count = 0
        self._saved: T | None = None
        self._changed: T | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Within the block (in any thread), the setting is as wanted."""
        self._enter()
        try:
            yield
        finally:
            self._leave()

    def _enter(self) -> None:
        with self._lock:
            if self._count == 0:
                current = self._get()
                changed = self._wanted(current)
                if changed is not None and changed != current:
                    self._saved, self._changed = current, changed
                    self._put(changed)
            self._count += 1

    def _leave(self) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0 and self._saved is not None:
                if self._get() == self._changed:
                    self._put(self._saved)
                self._saved = self._changed = None
