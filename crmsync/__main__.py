"""``python -m crmsync``: the same as the ``crmsync`` command."""

from crmsync.cli import main

main()
