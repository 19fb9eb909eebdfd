"""PageWriter: one job at a time in its own thread, outcomes in order, errors where they belong."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from crmsync.engine.writer import SWITCH_INTERVAL, PageWriter


def test_jobs_run_one_at_a_time_in_order_and_outcomes_arrive_in_the_callers_thread() -> None:
    running = threading.Semaphore(1)
    ran: list[int] = []
    outcomes: list[tuple[int, str]] = []

    def job(n: int) -> int:
        assert running.acquire(blocking=False), "two jobs ran at once"
        try:
            time.sleep(0.01)
            ran.append(n)
            return n * 10
        finally:
            running.release()

    caller = threading.current_thread().name
    with PageWriter[int]() as writer:
        for n in range(5):
            writer.submit(
                lambda n=n: job(n), then=lambda v: outcomes.append((v, threading.current_thread().name))
            )
    assert ran == [0, 1, 2, 3, 4]
    assert outcomes == [(n * 10, caller) for n in range(5)]


def test_the_caller_works_while_a_job_runs() -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        assert release.wait(5)

    with PageWriter[None]() as writer:
        writer.submit(slow, then=lambda _: None)
        assert started.wait(5)
        # submit returned while the job runs; the caller goes on (and plans the next page).
        release.set()


def test_light_jobs_do_not_hold_back_the_next_heavy_one() -> None:
    # The last page of an object, then its bookkeeping: the next object's first page is
    # submitted while that last page is still being written.
    release = threading.Event()
    settled: list[str] = []

    def last_page() -> None:
        assert release.wait(5)

    with PageWriter[None]() as writer:
        writer.submit(last_page, then=lambda _: settled.append("page"))
        writer.submit(lambda: None, then=lambda _: settled.append("end of pass"), light=True)
        writer.submit(lambda: None, then=lambda _: settled.append("object done"), light=True)
        assert settled == []
        release.set()
        # One heavy job may wait: submitting the next settles the last page first.
        writer.submit(lambda: None, then=lambda _: settled.append("next page"))
        assert settled == ["page"]
    assert settled == ["page", "end of pass", "object done", "next page"]


def test_a_failed_job_stops_the_caller_at_the_next_submit() -> None:
    ran: list[str] = []

    def fail() -> None:
        raise ValueError("page 1 failed")

    def pull() -> None:
        with PageWriter[None]() as writer:
            writer.submit(fail, then=lambda _: ran.append("then 1"))
            writer.submit(lambda: ran.append("job 2"), then=lambda _: None)

    with pytest.raises(ValueError, match="page 1 failed"):
        pull()
    assert ran == []


def test_the_last_jobs_failure_is_raised_on_leaving() -> None:
    def fail() -> None:
        raise ValueError("the last page failed")

    with pytest.raises(ValueError, match="the last page failed"), PageWriter[None]() as writer:
        writer.submit(fail, then=lambda _: None)


def test_when_the_caller_fails_the_job_in_flight_finishes_before_leaving() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.05)
        finished.set()

    def pull() -> None:
        with PageWriter[None]() as writer:
            writer.submit(slow, then=lambda _: None)
            raise RuntimeError("planning failed")

    with pytest.raises(RuntimeError, match="planning failed"):
        pull()
    # Nothing is left writing behind the caller's back.
    assert finished.is_set()


def test_the_gil_changes_hands_more_often_while_a_writer_is_open() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        with PageWriter[None]():
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            with PageWriter[None]():
                assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert sys.getswitchinterval() == pytest.approx(0.005)
        # An application's shorter interval is its own choice.
        sys.setswitchinterval(0.0001)
        with PageWriter[None]():
            assert sys.getswitchinterval() == pytest.approx(0.0001)
        assert sys.getswitchinterval() == pytest.approx(0.0001)
    finally:
        sys.setswitchinterval(before)
