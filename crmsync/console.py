"""Terminal output: progress bars while a run works, a summary table when it ends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmsync.engine.counts import Counts
from crmsync.engine.pull import RunResult

COLUMNS = ("fetched", "created", "updated", "unchanged", "skipped", "failed", "deleted", "merged")
# Short headers keep the table inside an 80-column terminal.
HEADERS = ("read", "new", "upd", "same", "skip", "fail", "del", "merged")


class ProgressObserver:
    """Shows one progress bar per platform type on a terminal, and the run's waits beside it."""

    def __init__(self, progress: Progress, console: Console) -> None:
        self._progress = progress
        self._console = console
        self._tasks: dict[str, TaskID] = {}
        # The bar showing a wait for a failing CRM; the calls that wait run in other threads.
        self._waiting: TaskID | None = None
        self._lock = threading.Lock()

    def object_started(self, platform_type: str, label: str) -> None:
        """Add a bar for the type."""
        with self._lock:
            self._tasks[platform_type] = self._progress.add_task(label, total=None, wait="")

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        """Advance the type's bar; a page arrived, so no call waits any more."""
        self._stop_waiting()
        task = self._tasks.get(platform_type)
        if task is not None:
            self._progress.update(task, completed=fetched, total=max(total or 0, fetched) or None)

    def object_done(self, platform_type: str, counts: Counts) -> None:
        """Complete the type's bar."""
        self._stop_waiting()
        task = self._tasks.get(platform_type)
        if task is not None:
            self._progress.update(task, completed=counts.fetched, total=max(counts.fetched, 1))

    def note(self, text: str) -> None:
        """Print a line above the bars."""
        self._console.print(f"[dim]{escape(text)}[/dim]")

    def waiting(self, text: str) -> None:
        """Show the wait on the bar of the type being pulled (a line when there is none yet)."""
        with self._lock:
            if not self._tasks:
                self.note(text)
                return
            self._waiting = next(reversed(self._tasks.values()))
            self._progress.update(self._waiting, wait=f"[yellow]{escape(text)}[/yellow]")

    def _stop_waiting(self) -> None:
        with self._lock:
            if self._waiting is not None:
                self._progress.update(self._waiting, wait="")
                self._waiting = None


class WaitLines:
    """For commands without progress bars: a line for each note and each wait."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def object_started(self, platform_type: str, label: str) -> None:
        """Ignore."""

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        """Ignore."""

    def object_done(self, platform_type: str, counts: Counts) -> None:
        """Ignore."""

    def note(self, text: str) -> None:
        """Print the line."""
        self._console.print(f"[dim]{escape(text)}[/dim]")

    def waiting(self, text: str) -> None:
        """Print the wait."""
        self._console.print(f"[yellow]{escape(text)}[/yellow]")


def wait_lines(console: Console) -> WaitLines | None:
    """Lines for a run's waits on ``console`` when a person watches it, else nothing."""
    return WaitLines(console) if console.is_terminal else None


@contextmanager
def progress_bars(console: Console) -> Iterator[ProgressObserver]:
    """Progress bars for the duration of a run."""
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[wait]}"),
        console=console,
        transient=False,
    )
    with progress:
        yield ProgressObserver(progress, console)


def summary_table(result: RunResult, *, title: str) -> Table:
    """Counts per platform type, with totals."""
    table = Table(title=title, title_justify="left", caption=_legend(), caption_justify="left")
    table.add_column("object", no_wrap=True)
    for header in HEADERS:
        table.add_column(header, justify="right", no_wrap=True)
    total = Counts()
    for platform_type, counts in result.counts.items():
        total.add(counts)
        table.add_row(platform_type.replace("_", " "), *_cells(counts))
    table.add_row("[bold]total[/bold]", *_cells(total), end_section=True)
    return table


def _legend() -> str:
    return (
        "read fetched, new created, upd updated, same unchanged, skip missing parent, "
        "fail failed, del deleted"
    )


def _cells(counts: Counts) -> list[str]:
    values = counts.as_dict()
    cells = []
    for name in COLUMNS:
        value = values[name]
        text = str(value) if value else "[dim]0[/dim]"
        if name in ("skipped", "failed") and value:
            text = f"[red]{value}[/red]"
        cells.append(text)
    return cells


def result_json(result: RunResult, **extra: Any) -> str:
    """A run's result as one JSON document."""
    return json.dumps(
        {
            "run_id": result.run_id,
            "status": result.status,
            "message": result.message,
            "api_calls": result.api_calls,
            "counts": {k: v.as_dict() for k, v in result.counts.items()},
            **extra,
        },
        sort_keys=True,
    )
