"""Household membership: a constituent's ``HouseholdId`` and the household's head.

Joining or leaving changes both records' representations (the constituent's
``HouseholdId``/``IsHeadOfHousehold``, the household's ``MemberIds``/``HeadId``), so both
are marked modified. A household left without members is removed, as the CRM does when its
last member leaves; a head who leaves hands the headship to the lowest remaining member id.
"""

from __future__ import annotations

from .errors import bad_request
from .records import touch
from .store import Store


def join(store: Store, constituent_id: int, household_id: int, actor: str, *, head: bool = False) -> None:
    """Put a constituent in a household (leaving any other one first)."""
    constituent = store.get("Constituent", constituent_id)
    household = store.get("Household", household_id)
    if constituent is None or household is None:
        raise bad_request(f"The household {household_id} or constituent {constituent_id} does not exist.")
    now = store.clock.now()
    if constituent.get("HouseholdId") not in (None, household_id):
        leave(store, constituent_id, actor)
        constituent = store.get("Constituent", constituent_id) or constituent
    changed = constituent.get("HouseholdId") != household_id
    if changed:
        store.put(
            "Constituent",
            {**constituent, "HouseholdId": household_id, "Modified": now, "ModifiedName": actor},
        )
    if head and household.get("HeadId") != constituent_id:
        previous = household.get("HeadId")
        store.put(
            "Household", {**household, "HeadId": constituent_id, "Modified": now, "ModifiedName": actor}
        )
        if previous is not None:
            touch(store, "Constituent", previous, actor)  # IsHeadOfHousehold changed
        if not changed:
            touch(store, "Constituent", constituent_id, actor)
    elif changed:
        touch(store, "Household", household_id, actor)


def leave(store: Store, constituent_id: int, actor: str) -> None:
    """Take a constituent out of its household, if any."""
    constituent = store.get("Constituent", constituent_id)
    if constituent is None or constituent.get("HouseholdId") is None:
        return
    household_id = int(constituent["HouseholdId"])
    now = store.clock.now()
    store.put("Constituent", {**constituent, "HouseholdId": None, "Modified": now, "ModifiedName": actor})
    household = store.get("Household", household_id)
    if household is None:
        return
    remaining = store.related("household_members", household_id)
    if not remaining:
        store.delete("Household", household_id)
        return
    head = household.get("HeadId")
    if head == constituent_id or head not in remaining:
        head = remaining[0]
        touch(store, "Constituent", head, actor)
    store.put("Household", {**household, "HeadId": head, "Modified": now, "ModifiedName": actor})


def dissolve(store: Store, household_id: int, actor: str) -> None:
    """Every member leaves and the household is removed."""
    now = store.clock.now()
    for member_id in store.related("household_members", household_id):
        member = store.get("Constituent", member_id)
        if member is not None:
            store.put("Constituent", {**member, "HouseholdId": None, "Modified": now, "ModifiedName": actor})
    store.delete("Household", household_id)
