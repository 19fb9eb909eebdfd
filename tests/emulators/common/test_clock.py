"""The clock both emulators keep: whole seconds, frozen, set, advanced and back to wall time."""

from __future__ import annotations

import time

from crmsync.emulators.common.clock import SecondsClock


def test_frozen_time_stands_and_moves_only_when_told() -> None:
    clock = SecondsClock()
    assert abs(clock.seconds() - time.time()) <= 1
    clock.set_seconds(1_700_000_000)
    clock.freeze()
    assert clock.frozen
    assert clock.seconds() == 1_700_000_000
    clock.advance(1.9)
    assert clock.seconds() == 1_700_000_001
    clock.advance(-61)
    assert clock.seconds() == 1_699_999_940
    clock.unfreeze()
    # Running again from the frozen second, not from wall time.
    assert not clock.frozen
    assert 1_699_999_940 <= clock.seconds() <= 1_699_999_942
    clock.real_time()
    assert abs(clock.seconds() - time.time()) <= 1
