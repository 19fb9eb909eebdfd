"""Terminal output: progress bars while a run works, a summary table when it ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmsync.engine.counts import Counts
from crmsync.engine.pull import RunResult

COLUMNS = ("fetched", "created", "updated", "unchanged", "skipped", "failed", "deleted", "merged")
# Short headers keep the table inside an 80-column terminal.
HEADERS = ("read", "new", "upd", "same", "skip", "fail", "del", "merged")


class ProgressObserver:
    """Shows one progress bar per platform type on a terminal."""

    def __init__(self, progress: Progress, console: Console) -> None:
        self._progress = progress
        self._console = console
        self._tasks: dict[str, TaskID] = {}

    def object_started(self, platform_type: str, label: str) -> None:
        """Add a bar for the type."""
        self._tasks[platform_type] = self._progress.add_task(label, total=None)

    def page_done(self, platform_type: str, fetched: int, total: int | None) -> None:
        """Advance the type's bar."""
        task = self._tasks.get(platform_type)
        if task is not None:
            self._progress.update(task, completed=fetched, total=max(total or 0, fetched) or None)

    def object_done(self, platform_type: str, counts: Counts) -> None:
        """Complete the type's bar."""
        task = self._tasks.get(platform_type)
        if task is not None:
            self._progress.update(task, completed=counts.fetched, total=max(counts.fetched, 1))

    def note(self, text: str) -> None:
        """Print a line above the bars."""
        self._console.print(f"[dim]{text}[/dim]")


@contextmanager
def progress_bars(console: Console) -> Iterator[ProgressObserver]:
    """Progress bars for the duration of a run."""
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
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
