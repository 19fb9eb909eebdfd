"""The SOQL engine of the Salesforce emulator: parse, check, run and render SELECT queries.

``compile_query`` turns SOQL text into a ``CompiledQuery`` (or raises ``SoqlError`` with the
code and message Salesforce would answer with); the query then runs over any ``RecordSource``
and renders rows in the REST query shape.
"""

from __future__ import annotations

from .compiler import compile_query
from .errors import SoqlError
from .query import CompiledQuery, RecordSource

__all__ = ["CompiledQuery", "RecordSource", "SoqlError", "compile_query"]
