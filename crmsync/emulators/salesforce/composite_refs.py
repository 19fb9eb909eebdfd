"""References between composite subrequests: ``@{refId.field}``, ``@{refId.records[0].Id}``.

A reference names the ``referenceId`` of an earlier, successful subrequest and a path into
its response body: ``.name`` for a key of an object (case sensitive: a create answers
``id``, a read answers ``Id``), ``[n]`` for an element of an array. A string that is
exactly one reference takes the referenced value with its JSON type; references inside a
longer string are replaced by their text. A reference that names no earlier successful
subrequest, or whose path leads nowhere or to null, cannot be resolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REFERENCE = re.compile(r"@\{(?P<ref>[A-Za-z0-9_]+)(?P<path>(?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_STEP = re.compile(r"\.(?P<key>[A-Za-z0-9_]+)|\[(?P<index>\d+)\]")


class UnresolvedReferenceError(Exception):
    """A reference without a value; ``message`` is Salesforce's PROCESSING_HALTED text."""

    def __init__(self, ref: str, path: str) -> None:
        expression = f"{ref}{path}"
        self.message = (
            f"Invalid reference specified. No value for {expression} found in {ref}. "
            f"Provided referenceId ('{expression}') must start with a letter or a number, "
            "and it can contain only letters, numbers and underscores ('_')."
        )
        super().__init__(self.message)


def lookup(results: Mapping[str, Any], ref: str, path: str) -> Any:
    """The scalar value ``path`` names in the body of subrequest ``ref``."""
    if ref not in results:
        raise UnresolvedReferenceError(ref, path)
    current = results[ref]
    for step in _STEP.finditer(path):
        if step["key"] is not None:
            if not isinstance(current, dict) or step["key"] not in current:
                raise UnresolvedReferenceError(ref, path)
            current = current[step["key"]]
        else:
            index = int(step["index"])
            if not isinstance(current, list) or index >= len(current):
                raise UnresolvedReferenceError(ref, path)
            current = current[index]
    if current is None or isinstance(current, dict | list):
        raise UnresolvedReferenceError(ref, path)
    return current


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resolve(value: Any, results: Mapping[str, Any]) -> Any:
    """``value`` (a URL or a JSON body) with every reference replaced; raises UnresolvedReferenceError."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole is not None:
            return lookup(results, whole["ref"], whole["path"])
        return REFERENCE.sub(lambda found: _text(lookup(results, found["ref"], found["path"])), value)
    if isinstance(value, dict):
        return {key: resolve(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, results) for item in value]
    return value
