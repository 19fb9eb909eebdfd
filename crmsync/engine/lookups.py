"""A page's parents, read once, and the lookup columns of its records resolved against them.

A record whose parent is not on the platform is never created incomplete: resolving it
raises a RecordError that names the parent and says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import methodcaller
from typing import Any

import sqlalchemy as sa

from crmsync.connectors.base import CrmRecord
from crmsync.errors import RecordError
from crmsync.model.profile import ObjectMapping
from crmsync.store import links

# What a lookup target type without any linked parent on the page resolves against.
_NO_PARENTS: dict[str, int] = {}


def parents(
    conn: sa.Connection,
    organization_id: int,
    connection_id: int,
    mapping: ObjectMapping,
    page: Sequence[CrmRecord],
    unwritten: Mapping[str, Mapping[str, int]],
    assumed: dict[str, dict[str, int]],
) -> dict[str, dict[str, int]]:
    """For every target type of the mapping's lookups: CRM id -> platform id, for this page.

    A parent is taken from the first target type that has it (see Lookups), so a later
    target type is asked only for the parents the earlier ones lack: an AccountId is looked
    up among organizations only when it is no household. Parents found in ``unwritten``
    rather than the database are added to ``assumed``.
    """
    found: dict[str, dict[str, int]] = {}
    values = [r.values for r in page]
    for lookup in mapping.lookups:
        # The page's distinct parent ids as text, gathered in C (a page has thousands).
        wanted = list(dict.fromkeys(map(str, filter(None, map(methodcaller("get", lookup.crm), values)))))
        for target in lookup.targets:
            if not wanted:
                break
            known = links.platform_ids(conn, organization_id, connection_id, target.type, wanted)
            coming = unwritten.get(target.type)
            if coming:
                later = {
                    crm_id: coming[crm_id] for crm_id in wanted if crm_id not in known and crm_id in coming
                }
                assumed.setdefault(target.type, {}).update(later)
                known.update(later)
            found.setdefault(target.type, {}).update(known)
            if known:
                wanted = [crm_id for crm_id in wanted if crm_id not in known]
    return found


class Lookups:
    """A mapping's lookups with a page's parents (from :func:`parents`), ready to resolve the
    page's records."""

    def __init__(self, mapping: ObjectMapping, parents: dict[str, dict[str, int]]) -> None:
        self._mapping = mapping
        self._unset = {t.column: None for lookup in mapping.lookups for t in lookup.targets}
        self._lookups = [
            (lookup, [(t.column, parents.get(t.type, _NO_PARENTS)) for t in lookup.targets])
            for lookup in mapping.lookups
        ]

    def resolve(self, record: CrmRecord, values: dict[str, Any]) -> None:
        """Set the lookup columns of ``values``; RecordError when a parent is missing."""
        values.update(self._unset)
        for lookup, targets in self._lookups:
            crm_value = record.values.get(lookup.crm)
            if not crm_value:
                if lookup.required:
                    raise RecordError(
                        f"{self._mapping.object} {record.id} has no {lookup.crm}, which "
                        f"{self._mapping.label_text} need; set it in the CRM",
                        code="PARENT_MISSING",
                        fields=(lookup.crm,),
                    )
                continue
            # The first target type that has the parent (platform ids are never None).
            for column, known in targets:
                platform_id = known.get(crm_value)
                if platform_id is not None:
                    values[column] = platform_id
                    break
            else:
                types = " or ".join(t.type.replace("_", " ") for t in lookup.targets)
                raise RecordError(
                    f"skipped {self._mapping.object} {record.id}: its parent {crm_value} ({lookup.crm}) is "
                    f"not in the platform as {types}; pull that record first (check its pull toggle and "
                    "filter). crmsync retries this record on the next pull",
                    code="PARENT_MISSING",
                    fields=(lookup.crm,),
                    details={"parent_id": crm_value, "parent_field": lookup.crm},
                )
