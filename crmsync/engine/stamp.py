"""Stamp ids: write the platform id onto every linked CRM record that lacks it.

Records that came in by a pull carry no platform id in the CRM. Stamping them makes the
CRM side say which platform record each one is. The writes change no mapped field, so the
next pull sees new versions whose values equal the platform's and applies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.connectors.writes import WriteRecord
from crmsync.engine.apply import Scope
from crmsync.engine.outbound import PLATFORM_ID_FIELD, platform_key
from crmsync.model.profile import Condition
from crmsync.store import links, logs
from crmsync.store.db import reading
from crmsync.store.logs import LogEntry

BATCH = 200


@dataclass
class StampResult:
    """Records stamped and failed per platform type."""

    stamped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0


def stamp_ids(engine: Engine, scope: Scope, connector: Connector) -> StampResult:
    """Write ``Platform_Id__c`` on linked CRM records without it, 200 a call."""
    org, cid = scope.organization_id, scope.connection_id
    result = StampResult()
    before = connector.api_calls
    for mapping in scope.profile.objects:
        info = connector.describe(mapping.object)
        if info.field(PLATFORM_ID_FIELD) is None:
            continue
        request = ReadRequest(
            object=mapping.object,
            fields=(PLATFORM_ID_FIELD,),
            conditions=(*mapping.filter, Condition(field=PLATFORM_ID_FIELD, op="=", value=None)),
        )
        for page in connector.read(request):
            with reading(engine) as conn:
                known = links.by_crm_ids(conn, org, cid, mapping.type, [r.id for r in page.records])
            writes = [
                WriteRecord(
                    key=platform_key(mapping.type, link.platform_id),
                    object=mapping.object,
                    body={PLATFORM_ID_FIELD: platform_key(mapping.type, link.platform_id)},
                    crm_id=crm_id,
                )
                for crm_id, link in known.items()
            ]
            entries: list[LogEntry] = []
            for start in range(0, len(writes), BATCH):
                for outcome, write in zip(
                    connector.write(writes[start : start + BATCH]), writes[start : start + BATCH], strict=True
                ):
                    bucket = result.stamped if outcome.ok else result.failed
                    bucket[mapping.type] = bucket.get(mapping.type, 0) + 1
                    if not outcome.ok:
                        entries.append(
                            LogEntry(
                                data_type=mapping.type,
                                action="update",
                                direction="push",
                                status="error",
                                message=(
                                    f"could not stamp the platform id on {mapping.object} "
                                    f"{write.crm_id}: {outcome.error_text}"
                                ),
                                crm_id=write.crm_id,
                            )
                        )
            count = result.stamped.get(mapping.type, 0)
            if count:
                entries.append(
                    LogEntry(
                        data_type=mapping.type,
                        action="update",
                        direction="push",
                        status="processed",
                        message=f"stamped the platform id on {count} {mapping.object} records so far",
                    )
                )
            with engine.begin() as conn:
                logs.write(conn, org, entries, connection_id=cid, run_id=None)
    result.api_calls = connector.api_calls - before
    return result
