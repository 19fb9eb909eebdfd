"""Uniqueness that spans two fields: one campaign member per campaign and person.

Salesforce itself refuses a second CampaignMember of a campaign for the same contact, or
for the same lead: ``400 [{"message":"Already a campaign member.","errorCode":
"DUPLICATE_VALUE","fields":[]}]``. No field of the member holds that pair, so it is checked
here, with the unique values, on every save that sets a member's campaign or person (its
API fields are create-only, but a system change may move them) and on undelete. Members in
the recycle bin do not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.catalogs import ObjectDef

from .errors import bad_request
from .store import RecordStore

CAMPAIGN_MEMBER = "CampaignMember"
MEMBER_PEOPLE = ("ContactId", "LeadId")
ALREADY_A_MEMBER = "Already a campaign member."

# (campaign id, person field, person id): what makes a member unique.
MemberKey = tuple[str, str, str]


def member_keys(record: Mapping[str, Any]) -> list[MemberKey]:
    """The (campaign, person field, person) pairs a campaign member record holds."""
    campaign = record.get("CampaignId")
    if not campaign:
        return []
    return [(campaign, name, record[name]) for name in MEMBER_PEOPLE if record.get(name)]


def other_member(store: RecordStore, key: MemberKey, record_id: str | None) -> str | None:
    """The id of a live member other than ``record_id`` holding ``key``, or None."""
    campaign, person_field, person = key
    # The person's children are few; the campaign's may be thousands.
    for child_object, child_id, field_name in store.children(person):
        if child_object != CAMPAIGN_MEMBER or field_name != person_field or child_id == record_id:
            continue
        row = store.get(child_object, child_id)
        if row is not None and not row["IsDeleted"] and row["CampaignId"] == campaign:
            return child_id
    return None


def check_membership(
    store: RecordStore,
    obj: ObjectDef,
    record_id: str | None,
    changes: Mapping[str, Any],
    record: Mapping[str, Any],
) -> None:
    """DUPLICATE_VALUE when ``record`` (saved as ``record_id``) would be a second member of its
    campaign for the same contact or lead."""
    if obj.name != CAMPAIGN_MEMBER or not changes.keys() & {"CampaignId", *MEMBER_PEOPLE}:
        return
    if any(other_member(store, key, record_id) for key in member_keys(record)):
        raise bad_request("DUPLICATE_VALUE", ALREADY_A_MEMBER)
