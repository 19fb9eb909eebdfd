"""Which way each column of a section flows: its fields' directions under the section's toggles.

A field is two-way only when it says ``both`` and its section both pulls and pushes; in a
section that only receives, its ``both`` fields are receive-only (the CRM owns them, and a
platform edit of one is put right by the next pull); in a section that only sends, they are
send-only. A ``pull`` or ``push`` field flows its one way whenever its section is not off
(a section that only receives still sends its ``push`` fields, by the daily push; one that
only sends still receives its ``pull`` fields, onto the records it linked).
"""

from __future__ import annotations

from collections.abc import Mapping

from crmsync.engine.conflicts import Flow
from crmsync.model.profile import ObjectMapping, Policy
from crmsync.store.tenancy import Toggle

OFF = Toggle(pull=False, push=False)


def toggle_of(mapping: ObjectMapping, toggles: Mapping[str, Toggle]) -> Toggle:
    """The toggles ``mapping`` follows: its own, or its owner's for a part (payments of gifts)."""
    return toggles.get(mapping.part_of or mapping.type, OFF)


def column_flows(mapping: ObjectMapping, toggle: Toggle, policy: Policy) -> dict[str, Flow]:
    """Every field and lookup column of ``mapping`` that moves at all, and which way.

    ``toggle``: the section's (:func:`toggle_of`); ``policy``: the connection's conflict
    policy, for fields that set none of their own.
    """
    if not toggle.pull and not toggle.push:
        return {}
    # A pull-only section (the CRM's users) is never written to the CRM.
    pushes = toggle.push and not mapping.pull_only
    flows: dict[str, Flow] = {}
    for field in mapping.fields:
        sends = not mapping.pull_only and (
            field.direction == "push" or (field.direction == "both" and pushes)
        )
        receives = field.direction == "pull" or (field.direction == "both" and toggle.pull)
        flows[field.column] = Flow(sends, receives, field.conflict_policy or policy)
    for column in mapping.lookup_columns():
        flows[column] = Flow(pushes, toggle.pull, policy)
    return flows


def sending(flows: Mapping[str, Flow]) -> list[str]:
    """The columns that go to the CRM."""
    return [column for column, flow in flows.items() if flow.sends]
