"""An emulator's clock in whole epoch seconds: wall time unless frozen, set or advanced.

CRMs stamp records to the whole second, so records written within one second share a
timestamp: exactly the case that breaks naive cursors. Tests also freeze the clock to make
many records share one. Each emulator words the time as its API does.
"""

from __future__ import annotations

import threading
import time


class SecondsClock:
    """Current emulated time in whole epoch seconds; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: int | None = None

    def seconds(self) -> int:
        """The current emulated time, epoch seconds."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return int(time.time() + self._offset)

    @property
    def frozen(self) -> bool:
        """True while time stands still."""
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop time at the current second."""
        current = self.seconds()
        with self._lock:
            self._frozen_at = current

    def unfreeze(self) -> None:
        """Let time run again from the frozen second (no jump back to wall time)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def set_seconds(self, epoch: int) -> None:
        """Jump to ``epoch``; time keeps running from there unless frozen."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = epoch
            else:
                self._offset = epoch - time.time()

    def advance(self, seconds: float) -> None:
        """Move time forward (or back, when negative) by ``seconds``."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = int(self._frozen_at + seconds)
            else:
                self._offset += seconds

    def real_time(self) -> None:
        """Back to wall-clock time."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
