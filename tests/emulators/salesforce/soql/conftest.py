"""Make ``soql_testkit`` (the shared catalog and in-memory source) importable by these tests.

The suite runs with ``--import-mode=importlib``, which keeps test folders off ``sys.path``, and
test folders have no ``__init__.py``; so this folder is put on the path here, once.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
