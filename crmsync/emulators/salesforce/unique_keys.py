"""Uniqueness that spans two fields: one campaign member per campaign and person, one
communication subscription per contact and list.

Salesforce itself refuses a second CampaignMember of a campaign for the same contact, or
for the same lead: ``400 [{"message":"Already a campaign member.","errorCode":
"DUPLICATE_VALUE","fields":[]}]``. No field of the member holds that pair, so it is checked
here, with the unique values, on every save that sets a member's campaign or person (its
API fields are create-only, but a system change may move them) and on undelete. Members in
the recycle bin do not count.

Communication_Subscription__c is crmsync's own object, and the org keeps its pair unique
the way admins do it: a unique text field, ``Subscription_Key__c`` (read-only to users),
that a before-save flow fills with ``<Contact__c>:<List_Name__c trimmed>`` (cut to the
field's 255 characters) whenever a save sets either part. A second subscription of a
contact to a list, by any write path, is then refused like any unique value: DUPLICATE_VALUE
"duplicate value found: Subscription_Key__c duplicates value on record with id: a0F...";
unique text is case-insensitive, so list names differing only in case collide. The flow runs
after the org's configured automations, and also for seeds, data files and system changes;
not for the children a merge moves to the master (merges run no flows), whose keys keep
the loser's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.catalogs import ObjectDef

from .errors import bad_request
from .store import RecordStore

SUBSCRIPTION = "Communication_Subscription__c"
SUBSCRIPTION_KEY = "Subscription_Key__c"
SUBSCRIPTION_PAIR = ("Contact__c", "List_Name__c")
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


def derive_keys(obj: ObjectDef, record: dict[str, Any], changes: dict[str, Any]) -> None:
    """Run the org's key flow: when ``changes`` set part of a subscription's pair, fill its key
    in ``changes`` and in ``record`` (the record as it will be saved)."""
    if obj.name != SUBSCRIPTION or SUBSCRIPTION_KEY not in obj.fields:
        return
    if not changes.keys() & set(SUBSCRIPTION_PAIR):
        return
    contact, list_name = (record.get(name) for name in SUBSCRIPTION_PAIR)
    key = None
    if contact and list_name:
        key = f"{contact}:{str(list_name).strip()}"[: obj.fields[SUBSCRIPTION_KEY].length]
    record[SUBSCRIPTION_KEY] = changes[SUBSCRIPTION_KEY] = key
