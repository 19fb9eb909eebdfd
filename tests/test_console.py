"""The terminal's progress bars show a run's wait for a failing CRM on the bar being pulled."""

from __future__ import annotations

from rich.console import Console

from crmsync.console import progress_bars, wait_lines

WAIT = "Salesforce unavailable (503), retrying in 24 s, attempt 4"


def _terminal() -> Console:
    return Console(record=True, force_terminal=True, width=160, color_system=None)


def test_a_wait_is_shown_on_the_current_bar_until_the_next_page() -> None:
    waiting, resumed = _terminal(), _terminal()
    with progress_bars(waiting) as observer:
        observer.object_started("supporters", "supporters")
        observer.page_done("supporters", 200, 1000)
        observer.waiting(WAIT)
    with progress_bars(resumed) as observer:
        observer.object_started("supporters", "supporters")
        observer.waiting(WAIT)
        observer.page_done("supporters", 400, 1000)
    shown = [line for line in waiting.export_text().splitlines() if WAIT in line]
    assert shown, waiting.export_text()
    assert all(line.startswith("supporters") for line in shown)
    assert "200/1000" in shown[-1]
    assert WAIT not in resumed.export_text().splitlines()[-1]


def test_a_wait_before_any_bar_and_commands_without_bars_print_a_line() -> None:
    console = _terminal()
    with progress_bars(console) as observer:
        observer.waiting(WAIT)
    lines = wait_lines(console)
    assert lines is not None
    lines.waiting("Bloomerang rate limited (429), retrying in 45 s, attempt 2")
    text = console.export_text()
    assert WAIT in text
    assert "Bloomerang rate limited (429), retrying in 45 s, attempt 2" in text
    assert wait_lines(Console(force_terminal=False)) is None
