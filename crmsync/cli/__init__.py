"""The ``crmsync`` command: one Typer app; each module adds its commands."""

from __future__ import annotations

from crmsync.cli import datasource, keep, pull, push, sections, setup, web
from crmsync.cli.common import EXIT_FAILED, EXIT_PARTIAL, app

__all__ = [
    "EXIT_FAILED",
    "EXIT_PARTIAL",
    "app",
    "datasource",
    "keep",
    "main",
    "pull",
    "push",
    "sections",
    "setup",
    "web",
]


def main() -> None:
    """Entry point of the console script."""
    app()
