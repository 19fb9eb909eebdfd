"""An org's own logic: validation rules, before-save automations and duplicate rules.

They are configured through the control API (``/__emulator__/rules`` and
``/__emulator__/duplicate-rules``) and applied by every API write (REST, sObject Collections,
composite, graph) and every screen write of the control API; never by *system* changes,
merges, undeletes or data loads. On save the org follows Salesforce's order of execution,
simplified: before-save automations change the record, then the system checks (required
fields, references), then validation rules, then duplicate rules, then unique values.

A condition is ``{"field","op","value"}`` (a list of them means all must hold) with ``op``
one of ``=`` ``!=`` ``<`` ``>`` ``contains`` ``blank`` ``not_blank``; it is evaluated on the
record as it would be saved. Values are compared as the field stores them (text is case
sensitive, like a formula).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crmsync.catalogs import Catalog, ObjectDef

from .context import Operation, WriteContext, rule_name, rule_object, rule_on
from .duplicates import DuplicateRule, check_duplicates, parse_duplicate_rule
from .errors import ApiError
from .store import RecordStore
from .validation import AUDIT_FIELDS
from .values import coerce

OPERATORS = ("=", "!=", "<", ">", "contains", "blank", "not_blank")


@dataclass(frozen=True)
class Condition:
    """One test on a field of the record being saved."""

    field: str
    op: str
    value: Any = None

    def holds(self, record: Mapping[str, Any]) -> bool:
        """True when the record as it would be saved passes this test."""
        actual = record.get(self.field)
        blank = actual is None or actual == ""
        if self.op in ("blank", "not_blank"):
            return blank == (self.op == "blank")
        if self.op == "=":
            return bool(actual == self.value)
        if self.op == "!=":
            return bool(actual != self.value)
        if blank or self.value is None:
            return False
        if self.op == "contains":
            return str(self.value) in str(actual)
        try:
            return bool(actual < self.value) if self.op == "<" else bool(actual > self.value)
        except TypeError:
            return False


@dataclass(frozen=True)
class Rule:
    """A validation rule, or a before-save automation (with ``assignments``)."""

    name: str
    object: str
    when: tuple[Condition, ...]
    on: frozenset[str]
    kind: str = "validation"
    message: str = ""
    error_field: str | None = None
    assignments: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)

    def applies(self, operation: Operation, record: Mapping[str, Any]) -> bool:
        """True when this rule acts on ``operation`` of ``record``."""
        return operation in self.on and all(condition.holds(record) for condition in self.when)


def _condition(obj: ObjectDef, data: Any) -> Condition:
    if not isinstance(data, dict) or set(data) - {"field", "op", "value"}:
        raise ValueError('a condition is {"field":..,"op":..,"value":..}')
    fdef = obj.field(str(data.get("field")))
    if fdef is None:
        raise ValueError(f"no field {data.get('field')!r} on {obj.name}")
    op = data.get("op", "=")
    if op not in OPERATORS:
        raise ValueError(f"'op' must be one of {', '.join(OPERATORS)}; got {op!r}")
    value = data.get("value")
    if op in ("=", "!=", "<", ">") and value is not None:
        try:
            value = coerce(fdef, value)
        except ApiError as error:
            raise ValueError(f"condition value for {fdef.name}: {error.message}") from None
    return Condition(fdef.name, op, value)


def _conditions(obj: ObjectDef, data: Any) -> tuple[Condition, ...]:
    items = data if isinstance(data, list) else [data]
    if not items:
        raise ValueError("'when' needs at least one condition")
    return tuple(_condition(obj, item) for item in items)


def parse_rule(catalog: Catalog, data: Any) -> Rule:
    """A validation rule or an automation from control-API JSON; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a rule must be a JSON object")
    kind = data.get("kind", "validation")
    if kind not in ("validation", "automation"):
        raise ValueError(f'\'kind\' must be "validation" or "automation"; got {kind!r}')
    allowed = {"kind", "name", "object", "when", "on"} | (
        {"message", "field"} if kind == "validation" else {"set"}
    )
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(
            f"unknown {kind} rule keys: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    obj = rule_object(catalog, data)
    name, when, on = rule_name(data), _conditions(obj, data.get("when")), rule_on(data)
    if kind == "automation":
        assignments = _assignments(obj, data.get("set"))
        return Rule(name, obj.name, when, on, kind, assignments=assignments, source=dict(data))
    message = data.get("message")
    if not isinstance(message, str) or not message:
        raise ValueError("a validation rule needs the 'message' its users see")
    error_field = data.get("field")
    if error_field is not None:
        fdef = obj.field(str(error_field))
        if fdef is None:
            raise ValueError(f"no field {error_field!r} on {obj.name}")
        error_field = fdef.name
    return Rule(name, obj.name, when, on, kind, message, error_field, source=dict(data))


def _assignments(obj: ObjectDef, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        raise ValueError("an automation needs 'set': {field: value, ...}")
    assignments: dict[str, Any] = {}
    for name, value in data.items():
        fdef = obj.field(name)
        if fdef is None or fdef.name in AUDIT_FIELDS or fdef.calculated:
            raise ValueError(f"an automation cannot set {name!r} on {obj.name}")
        try:
            assignments[fdef.name] = coerce(fdef, value)
        except ApiError as error:
            raise ValueError(f"value for {fdef.name}: {error.message}") from None
    return assignments


class RuleBook:
    """The org's validation rules, automations and duplicate rules, by name.

    The lists are replaced, never changed in place, so a save in progress always sees one
    consistent set.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._rules: dict[str, Rule] = {}
        self._duplicates: dict[str, DuplicateRule] = {}

    # -- configuration ---------------------------------------------------------------------

    def add(self, data: Any) -> Rule:
        """Add (or replace, by name) a validation rule or automation."""
        rule = parse_rule(self.catalog, data)
        self._rules = {**self._rules, rule.name: rule}
        return rule

    def add_duplicate_rule(self, data: Any) -> DuplicateRule:
        """Add (or replace, by name) a duplicate rule."""
        rule = parse_duplicate_rule(self.catalog, data)
        self._duplicates = {**self._duplicates, rule.name: rule}
        return rule

    def remove(self, name: str, *, duplicate: bool = False) -> bool:
        """Remove the rule called ``name``; False when there is none."""
        rules: dict[str, Any] = dict(self._duplicates if duplicate else self._rules)
        found = rules.pop(name, None) is not None
        if duplicate:
            self._duplicates = rules
        else:
            self._rules = rules
        return found

    def clear(self, *, duplicate: bool | None = None) -> int:
        """Remove rules (None: all kinds); returns how many there were."""
        count = 0
        if duplicate in (None, False):
            count += len(self._rules)
            self._rules = {}
        if duplicate in (None, True):
            count += len(self._duplicates)
            self._duplicates = {}
        return count

    def listing(self, *, duplicate: bool = False) -> list[dict[str, Any]]:
        """The rules as they were configured, for the control API."""
        rules = self._duplicates if duplicate else self._rules
        return [dict(rule.source) for rule in rules.values()]

    def to_json(self) -> dict[str, Any]:
        """Every rule, for the state file."""
        return {"rules": self.listing(), "duplicate_rules": self.listing(duplicate=True)}

    def load(self, saved: Any) -> None:
        """Restore rules saved by ``to_json``; rules the catalog no longer accepts are dropped."""
        if not isinstance(saved, dict):
            return
        for data in saved.get("rules") or []:
            try:
                self.add(data)
            except ValueError:
                continue
        for data in saved.get("duplicate_rules") or []:
            try:
                self.add_duplicate_rule(data)
            except ValueError:
                continue

    # -- on save ---------------------------------------------------------------------------

    def automate(
        self, obj: ObjectDef, operation: Operation, record: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """Run before-save automations: each matching one sets its fields in ``changes``."""
        for rule in self._rules.values():
            if rule.kind == "automation" and rule.object == obj.name and rule.applies(operation, record):
                changes.update(rule.assignments)
                record.update(rule.assignments)

    def validate(self, obj: ObjectDef, operation: Operation, record: Mapping[str, Any]) -> None:
        """FIELD_CUSTOM_VALIDATION_EXCEPTION from the first validation rule ``record`` breaks."""
        for rule in self._rules.values():
            if rule.kind == "validation" and rule.object == obj.name and rule.applies(operation, record):
                fields = [rule.error_field] if rule.error_field else []
                raise ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, fields)

    def check_duplicates(
        self,
        store: RecordStore,
        obj: ObjectDef,
        operation: Operation,
        record_id: str | None,
        record: Mapping[str, Any],
        context: WriteContext,
    ) -> None:
        """DUPLICATES_DETECTED when a blocking (or, for API clients, alerting) rule finds a match."""
        for rule in self._duplicates.values():
            if rule.object == obj.name and operation in rule.on:
                check_duplicates(rule, store, obj, record_id, record, context)
