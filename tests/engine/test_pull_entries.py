"""The log entries a pull writes: the same whether made one by one or column by column."""

from __future__ import annotations

from crmsync.connectors.base import CrmRecord
from crmsync.engine import pull_entries
from crmsync.model.load import load_profile

NPSP = load_profile("npsp")


def test_created_entries_column_by_column_are_those_made_one_by_one() -> None:
    mapping = NPSP.mapping("transactions")
    crm_ids, platform_ids = ["006A", "006B", "006C"], [7, 8, 9]
    same, columns = pull_entries.created_columns(mapping, crm_ids, platform_ids)
    rows = [
        {**same, **dict(zip(columns, values, strict=True))} for values in zip(*columns.values(), strict=True)
    ]
    made = [
        pull_entries.created(mapping, CrmRecord(id=crm_id, modstamp=None, values={}), platform_id)
        for crm_id, platform_id in zip(crm_ids, platform_ids, strict=True)
    ]
    assert rows == [entry._asdict() for entry in made]
    assert rows[1]["message"] == "created transaction 8 from Opportunity 006B"
