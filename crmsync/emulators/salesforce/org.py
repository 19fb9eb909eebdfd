"""The emulated Salesforce org: records with Salesforce's write, delete and merge semantics.

Audit fields follow Salesforce (see ``writes``); a lookup cleared because its parent was
deleted and a child re-parented by a merge are *system* changes that move only
``SystemModstamp``. Deletes are soft: the row stays, with ``IsDeleted`` true, for
``queryAll`` and the ``deleted/`` resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from crmsync.catalogs import Catalog, ObjectDef

from .clock import Clock, format_datetime, parse_datetime
from .context import WriteContext
from .errors import bad_request, not_found
from .ids import normalize_id
from .records import Row
from .store import Journal
from .validation import check_unique, prepare
from .writes import WritableStore

DEFAULT_ADMIN_USERNAME = "admin@npsp.example.org"
MAX_MERGE_LOSERS = 2


class Org(WritableStore):
    """One org's records, clock and acting user; every public method is atomic and thread-safe."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        clock: Clock | None = None,
        journal: Journal | None = None,
        admin_username: str = DEFAULT_ADMIN_USERNAME,
    ) -> None:
        super().__init__(catalog, clock=clock, journal=journal)
        self.admin_username = admin_username
        # Which delete removed each soft-deleted record, so undelete restores a cascade whole.
        self._deleted_by: dict[str, str] = {}

    # -- users -----------------------------------------------------------------------------

    def ensure_admin(self) -> str:
        """Create the integration user every API and screen change is made as, if missing."""
        with self.lock:
            if "User" not in self.catalog.objects:
                return self.user_id
            if self.get("User", self.user_id) is None:
                local, _, _ = self.admin_username.partition("@")
                now = self.clock.stamp()
                values = {
                    "Id": self.user_id,
                    "Username": self.admin_username,
                    "Email": self.admin_username,
                    "FirstName": "Integration",
                    "LastName": "Admin",
                    "Name": "Integration Admin",
                    "Alias": local[:8],
                    "IsActive": True,
                    "IsDeleted": False,
                    "CreatedDate": now,
                    "CreatedById": self.user_id,
                    "LastModifiedDate": now,
                    "LastModifiedById": self.user_id,
                    "SystemModstamp": now,
                }
                self.add_complete("User", values)
                self.flush()
            return self.user_id

    def reset(self) -> None:
        """Remove every record and start again with only the admin user."""
        with self.lock:
            self.clear()
            self._deleted_by.clear()
            self.rules.clear()
            self.ensure_admin()

    # -- deletes ---------------------------------------------------------------------------

    def delete(self, object_name: str, record_id: str, *, context: WriteContext | None = None) -> list[str]:
        """Soft-delete a record and its cascade children; returns every id deleted.

        With an API ``context`` an injected record error may refuse it.
        """
        with self.lock:
            obj = self.object_def(object_name)
            row = self.require(obj.name, record_id)
            if not obj.deletable:
                raise bad_request("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {obj.name}")
            if context is not None:
                self.inject_record_error(obj, row["Id"], {}, context)
            doomed = self._cascade_set(row["Id"])
            self._check_restrict(row, doomed)
            now = self.clock.stamp()
            for doomed_id in doomed:
                self._soft_delete(self.find(doomed_id), now, root=row["Id"])
            self._clear_lookups(doomed, now)
            self.flush()
            return doomed

    def _cascade_set(self, root_id: str) -> list[str]:
        doomed, queue = [root_id], [root_id]
        seen = {root_id}
        while queue:
            for child_object, child_id, field_name in self.children(queue.pop()):
                fdef = self.catalog.objects[child_object].fields[field_name]
                child = self.get(child_object, child_id)
                live = child is not None and not child["IsDeleted"]
                if fdef.delete_constraint == "Cascade" and live and child_id not in seen:
                    seen.add(child_id)
                    doomed.append(child_id)
                    queue.append(child_id)
        return doomed

    def _check_restrict(self, row: Row, doomed: list[str]) -> None:
        doomed_set = set(doomed)
        blockers: list[tuple[ObjectDef, Row]] = []
        for target in doomed:
            for child_object, child_id, field_name in self.children(target):
                fdef = self.catalog.objects[child_object].fields[field_name]
                restrict = fdef.delete_constraint == "Restrict" or (
                    fdef.delete_constraint is None and not fdef.nillable
                )
                child = self.get(child_object, child_id)
                if restrict and child_id not in doomed_set and child is not None and not child["IsDeleted"]:
                    blockers.append((self.catalog.objects[child_object], child))
        if blockers:
            labels = sorted({obj.label_plural.lower() for obj, _ in blockers})
            names = ", ".join(_display(child) for _, child in blockers[:10])
            raise bad_request(
                "DELETE_FAILED",
                f"Your attempt to delete {_display(row)} could not be completed because it is "
                f"associated with the following {', '.join(labels)}.: {names}",
            )

    def _soft_delete(self, row: Row | None, now: str, *, root: str, master: str | None = None) -> None:
        assert row is not None
        obj = self.catalog.objects[row.layout.object_name]
        changes: dict[str, Any] = {"IsDeleted": True} | self._stamp(obj, created=False, system=False, now=now)
        if master is not None:
            changes["MasterRecordId"] = master
        self.change(row, changes)
        self._set_deleted_by(row["Id"], root)

    def _set_deleted_by(self, record_id: str, root: str | None) -> None:
        """Record (or forget, with None) which delete removed ``record_id``; undone with a rollback."""
        self.remember(partial(_assign, self._deleted_by, record_id, self._deleted_by.get(record_id)))
        _assign(self._deleted_by, record_id, root)

    def _clear_lookups(self, doomed: Iterable[str], now: str) -> None:
        doomed_set = set(doomed)
        for target in doomed_set:
            for child_object, child_id, field_name in self.children(target):
                child = self.get(child_object, child_id)
                if child is None or child["IsDeleted"] or child_id in doomed_set:
                    continue
                obj = self.catalog.objects[child_object]
                stamp = self._stamp(obj, created=False, system=True, now=now)
                self.change(child, {field_name: None} | stamp)

    def undelete(self, object_name: str, record_id: str) -> list[str]:
        """Restore a soft-deleted record and the children its delete cascaded to."""
        with self.lock:
            obj = self.object_def(object_name)
            row = self.get(obj.name, normalize_id(record_id) or record_id)
            if row is None:
                raise not_found()
            if not row["IsDeleted"]:
                raise bad_request("UNDELETE_FAILED", f"Record {row['Id']} is not in the recycle bin")
            root = self._deleted_by.get(row["Id"], row["Id"])
            if root != row["Id"]:
                # Like Salesforce's recycle bin: a cascade child comes back with its parent only.
                raise bad_request(
                    "UNDELETE_FAILED",
                    f"Record {row['Id']} was deleted together with {root}; undelete {root} instead",
                )
            restored = [rid for rid, by in self._deleted_by.items() if by == root] or [row["Id"]]
            now = self.clock.stamp()
            for rid in restored:
                target = self.find(rid)
                if target is None or not target["IsDeleted"]:
                    continue
                target_obj = self.catalog.objects[target.layout.object_name]
                check_unique(self, target_obj, rid, dict(target))
                stamp = self._stamp(target_obj, created=False, system=False, now=now)
                self.change(target, {"IsDeleted": False} | stamp)
                self._set_deleted_by(rid, None)
            self.flush()
            return restored

    # -- merge -----------------------------------------------------------------------------

    def merge(
        self,
        object_name: str,
        master_id: str,
        loser_ids: list[str],
        fields: Mapping[str, Any] | None = None,
    ) -> Row:
        """Merge up to two records into ``master_id`` as Salesforce's merge screen does.

        Every reference to a loser is re-pointed to the master (a system change of each
        child), the losers are soft-deleted with MasterRecordId set, the master is updated once.
        """
        with self.lock:
            obj = self.object_def(object_name)
            if not obj.mergeable:
                raise bad_request("INVALID_OPERATION", f"{obj.name} records cannot be merged")
            if not 1 <= len(loser_ids) <= MAX_MERGE_LOSERS:
                raise bad_request(
                    "INVALID_OPERATION",
                    "A merge needs a master and one or two records to merge into it; "
                    f"got {len(loser_ids)} to merge",
                )
            master = self.require(obj.name, master_id)
            losers = [self.require(obj.name, loser_id) for loser_id in loser_ids]
            loser_set = {loser["Id"] for loser in losers}
            if master["Id"] in loser_set or len(loser_set) != len(losers):
                raise bad_request("INVALID_OPERATION", "The master and the merged records must all differ")
            changes = prepare(self, obj, fields or {}, "update")
            now = self.clock.stamp()
            for loser in losers:
                for child_object, child_id, field_name in self.children(loser["Id"]):
                    child = self.get(child_object, child_id)
                    if child is None or child["IsDeleted"] or child_id in loser_set:
                        continue
                    new_target = None if child_id == master["Id"] else master["Id"]
                    stamp = self._stamp(
                        self.catalog.objects[child_object], created=False, system=True, now=now
                    )
                    self.change(child, {field_name: new_target} | stamp)
                self._soft_delete(loser, now, root=loser["Id"], master=master["Id"])
            self._update(obj, master, changes, system=False, context=None)
            self.flush()
            return master

    # -- reading helpers -------------------------------------------------------------------

    def changed_between(self, object_name: str, start: str, end: str, *, deleted: bool) -> list[Row]:
        """Rows whose SystemModstamp is in [start, end): live ones, or deleted ones."""
        lower = _stamp_key(start)
        upper = _stamp_key(end)
        return [
            row
            for row in self.scan(object_name)
            if bool(row["IsDeleted"]) == deleted and lower <= row["SystemModstamp"] < upper
        ]


def _assign(mapping: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _display(row: Row) -> str:
    return str(row.get("Name") or row["Id"])


def _stamp_key(text: str) -> str:
    return format_datetime(parse_datetime(text))
