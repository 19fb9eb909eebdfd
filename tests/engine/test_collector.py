"""The pull's larger young generation: raised while any pull runs, then put back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from crmsync.engine.collector import YOUNG_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not enabled:
            gc.disable()


def test_raised_while_any_pull_runs_and_restored_by_the_last() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        # Another pull still runs.
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_pull_fails() -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_larger_threshold_or_a_disabled_collector_is_left_alone() -> None:
    gc.set_threshold(100_000, 5, 5)
    with fewer_collections():
        assert gc.get_threshold() == (100_000, 5, 5)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    with fewer_collections():
        assert gc.get_threshold() == (700, 10, 10)
        assert not gc.isenabled()


def test_a_threshold_the_application_set_meanwhile_is_kept() -> None:
    with fewer_collections():
        gc.set_threshold(5_000, 10, 10)
    assert gc.get_threshold() == (5_000, 10, 10)
