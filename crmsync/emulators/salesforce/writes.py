"""Creating and changing records the way Salesforce does: defaults, checks, audit fields.

A write by a user (API or screen) sets ``LastModifiedDate``, ``LastModifiedById`` and
``SystemModstamp``; a *system* change (an automation, a rollup) moves only ``SystemModstamp``.

User writes carry a ``WriteContext`` and go through the org's own logic (``rules``): before-
save automations, validation rules, duplicate rules. API writes (never screen writes) may
also meet an injected per-record error, such as UNABLE_TO_LOCK_ROW (``record_faults``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from crmsync.catalogs import Catalog, FieldDef, ObjectDef

from .clock import Clock
from .context import API_WRITE, Operation, WriteContext
from .errors import ApiError, MultipleMatchesError, bad_request, entity_is_deleted, not_found
from .ids import USER_KEY_PREFIX, make_id, normalize_id
from .records import Row
from .rules import RuleBook
from .store import Journal, RecordStore, key_of
from .unique_keys import derive_keys
from .validation import AUDIT_FIELDS, check_references, check_required, check_unique, prepare
from .values import default_for

# Display formats of NPSP's auto-number Name fields; other objects use their label's initials.
AUTONUMBER_PREFIXES = {
    "npe01__OppPayment__c": "PMT",
    "npsp__Allocation__c": "ALLOC",
    "npsp__Partial_Soft_Credit__c": "PSC",
    "npsp__Account_Soft_Credit__c": "ASC",
}


class RecordFaults(Protocol):
    """Where injected per-record errors come from (the fault rules of kind ``record_error``)."""

    def take_record_error(self, object_name: str) -> tuple[int, str, str] | None:
        """(status, error code, message) when the next API write of ``object_name`` must fail."""


class WritableStore(RecordStore):
    """Records that clients create, change and upsert; the acting user is ``user_id``."""

    def __init__(
        self, catalog: Catalog, *, clock: Clock | None = None, journal: Journal | None = None
    ) -> None:
        super().__init__(catalog, journal)
        self.clock = clock or Clock()
        self.org_id = make_id("00D", 1)
        self.user_id = make_id(USER_KEY_PREFIX, 1)
        self._default_cache: dict[str, tuple[date, dict[str, Any]]] = {}
        self.rules = RuleBook(catalog)
        self.record_faults: RecordFaults | None = None

    # -- bulk loading (trusted data: seeds and validated load files) ------------------------

    def add_complete(self, object_name: str, values: Mapping[str, Any]) -> Row:
        """Store a record from trusted canonical ``values`` (Id included), filling the rest.

        Fields the catalog does not know are dropped, so a seed written for the full NPSP
        catalog still loads into a smaller one.
        """
        obj = self.catalog.objects[object_name]
        fields = obj.fields
        given = {name: value for name, value in values.items() if name in fields}
        return self.add(object_name, self.fill_new(obj, given))

    def fill_new(self, obj: ObjectDef, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` plus what Salesforce fills on create: defaults, owner, full name, auto-number."""
        values = self._defaults(obj) | dict(given)
        if "OwnerId" in obj.fields and values.get("OwnerId") is None:
            values["OwnerId"] = self.user_id
        if values.get("Name") is None:
            self._derive(obj, values)
        self._autonumber(obj, values)
        derive_keys(obj, values, values)
        return values

    def _defaults(self, obj: ObjectDef) -> dict[str, Any]:
        today = self.clock.now().date()
        cached = self._default_cache.get(obj.name)
        if cached is None or cached[0] != today:
            defaults = {name: default_for(fdef, today) for name, fdef in obj.fields.items()}
            defaults["IsDeleted"] = False
            cached = self._default_cache[obj.name] = (today, defaults)
        return cached[1]

    # -- writes ----------------------------------------------------------------------------

    def insert(self, object_name: str, body: Mapping[str, Any], *, context: WriteContext = API_WRITE) -> str:
        """Create a record from a client's fields; returns its id."""
        with self.lock:
            obj = self.object_def(object_name)
            if not obj.createable:
                raise bad_request("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.name}")
            changes = prepare(self, obj, body, "create")
            record_id = self._insert(obj, changes, context)
            self.flush()
            return record_id

    def _insert(self, obj: ObjectDef, changes: dict[str, Any], context: WriteContext | None) -> str:
        values = self.fill_new(obj, changes)
        if context is not None:
            self.inject_record_error(obj, None, changes, context)
            self.rules.automate(obj, "create", values, values)
            # The key flow runs after the configured ones, on what they set.
            derive_keys(obj, values, values)
        check_required(obj, values)
        check_references(self, obj, {k: v for k, v in values.items() if obj.fields[k].type == "reference"})
        if context is not None:
            self._apply_rules(obj, "create", None, values, context)
        check_unique(self, obj, None, values)
        record_id = self.sequences.mint(obj.key_prefix)
        values.update(self._stamp(obj, created=True, system=False))
        values["Id"] = record_id
        values["IsDeleted"] = False
        self.add(obj.name, values)
        return record_id

    def update(
        self,
        object_name: str,
        record_id: str,
        body: Mapping[str, Any],
        *,
        system: bool = False,
        context: WriteContext = API_WRITE,
    ) -> Row:
        """Change a record; ``system`` makes it an automation change (only SystemModstamp moves,
        and the org's rules do not run)."""
        with self.lock:
            obj = self.object_def(object_name)
            row = self.require(obj.name, record_id)
            changes = prepare(self, obj, body, "system" if system else "update")
            self._update(obj, row, changes, system=system, context=None if system else context)
            self.flush()
            return row

    def _update(
        self, obj: ObjectDef, row: Row, changes: dict[str, Any], *, system: bool, context: WriteContext | None
    ) -> None:
        record = dict(row) | changes
        if context is not None:
            self.inject_record_error(obj, row["Id"], changes, context)
            self.rules.automate(obj, "update", record, changes)
        derive_keys(obj, record, changes)
        check_required(obj, changes, changes.keys())
        check_references(self, obj, changes)
        if context is not None:
            self._apply_rules(obj, "update", row["Id"], record, context)
        check_unique(self, obj, row["Id"], changes, record)
        if {"FirstName", "LastName"} & changes.keys():
            self._derive(obj, record)
            if "Name" in record and not obj.fields["Name"].createable:
                changes["Name"] = record["Name"]
        changes.update(self._stamp(obj, created=False, system=system))
        self.change(row, changes)

    def upsert(
        self,
        object_name: str,
        field_name: str,
        value: str,
        body: Mapping[str, Any],
        *,
        context: WriteContext = API_WRITE,
    ) -> tuple[str, bool]:
        """Update the record whose external id ``field_name`` is ``value``, or create it.

        Returns (id, created). Several matches raise MultipleMatchesError (HTTP 300); a field that
        is not an external id raises Salesforce's bare 404.
        """
        with self.lock:
            obj = self.object_def(object_name)
            fdef = obj.field(field_name)
            if fdef is None or not (fdef.external_id or fdef.name == "Id"):
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist", bare=True)
            given = {key: item for key, item in body.items() if key.casefold() != fdef.name.casefold()}
            for key, item in body.items():
                if key.casefold() == fdef.name.casefold() and key_of(item) != key_of(value):
                    raise bad_request(
                        "INVALID_FIELD",
                        f"{fdef.name} is the external id of this upsert ({value}); the body may not "
                        f"give it another value ({item})",
                        [fdef.name],
                    )
            if fdef.name == "Id":
                row = self.get(obj.name, value) if value else None
                matches = [row["Id"]] if row is not None and not row["IsDeleted"] else []
                if value and not matches:
                    raise not_found()
            else:
                matches = self.lookup(obj.name, fdef.name, value)
            if len(matches) > 1:
                raise MultipleMatchesError(obj.name, matches)
            if matches:
                row = self.require(obj.name, matches[0])
                self._update(obj, row, prepare(self, obj, given, "update"), system=False, context=context)
                self.flush()
                return row["Id"], False
            if not obj.createable:
                raise bad_request("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be inserted: {obj.name}")
            changes = prepare(self, obj, given, "create")
            if fdef.name != "Id":
                changes.update(prepare(self, obj, {fdef.name: value}, "create"))
            record_id = self._insert(obj, changes, context)
            self.flush()
            return record_id, True

    # -- the org's own logic -----------------------------------------------------------------

    def _apply_rules(
        self,
        obj: ObjectDef,
        operation: Operation,
        record_id: str | None,
        record: Mapping[str, Any],
        context: WriteContext,
    ) -> None:
        self.rules.validate(obj, operation, record)
        self.rules.check_duplicates(self, obj, operation, record_id, record, context)

    def inject_record_error(
        self, obj: ObjectDef, record_id: str | None, values: Mapping[str, Any], context: WriteContext
    ) -> None:
        """Fail this API write when a ``record_error`` fault says so (never a screen write)."""
        if context.origin != "api" or self.record_faults is None:
            return
        injected = self.record_faults.take_record_error(obj.name)
        if injected is None:
            return
        status, error_code, message = injected
        if not message:
            # The row Salesforce could not lock: the record itself, or the parent of a new one.
            locked = record_id or next(
                (v for k, v in values.items() if v and obj.fields[k].type == "reference"), None
            )
            message = "unable to obtain exclusive access to this record" + (
                f" or 1 records: {locked}" if locked else ""
            )
        raise ApiError(status, error_code, message)

    # -- reading helpers -------------------------------------------------------------------

    def require(self, object_name: str, record_id: str) -> Row:
        """The live row ``record_id`` of ``object_name``; 404 NOT_FOUND or ENTITY_IS_DELETED."""
        full = normalize_id(record_id)
        row = self.get(object_name, full) if full else None
        if row is None:
            raise not_found(f"The requested resource does not exist: {object_name} {record_id}")
        if row["IsDeleted"]:
            raise entity_is_deleted()
        return row

    # -- internals -------------------------------------------------------------------------

    def _stamp(
        self, obj: ObjectDef, *, created: bool, system: bool, now: str | None = None
    ) -> dict[str, Any]:
        moment = now or self.clock.stamp()
        stamp: dict[str, Any] = {"SystemModstamp": moment}
        if not system:
            stamp |= {"LastModifiedDate": moment, "LastModifiedById": self.user_id}
            if created:
                stamp |= {"CreatedDate": moment, "CreatedById": self.user_id}
        return {name: value for name, value in stamp.items() if name in obj.fields}

    def _autonumber(self, obj: ObjectDef, values: dict[str, Any]) -> None:
        """Number records the way an auto-number Name field does (``PMT-000001``)."""
        for name, fdef in obj.fields.items():
            if values.get(name) is None and _is_autonumber(fdef):
                prefix = (
                    AUTONUMBER_PREFIXES.get(obj.name)
                    or "".join(word[0] for word in obj.label.split()).upper()
                )
                values[name] = f"{prefix}-{len(self._rows[obj.name]) + 1:06d}"

    @staticmethod
    def _derive(obj: ObjectDef, values: dict[str, Any]) -> None:
        """Compute the compound Name of people (Contact, Lead, User) from its parts."""
        name_field = obj.fields.get("Name")
        if name_field is None or name_field.createable or "LastName" not in obj.fields:
            return
        parts = [values.get("FirstName"), values.get("LastName")]
        values["Name"] = " ".join(part for part in parts if part) or None


def _is_autonumber(fdef: FieldDef) -> bool:
    return (
        fdef.type == "string"
        and not fdef.nillable
        and not fdef.createable
        and not fdef.updateable
        and not fdef.calculated
        and fdef.name not in AUDIT_FIELDS
    )
