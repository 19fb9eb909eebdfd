"""Profiles as data: object mappings between platform types and CRM objects.

These models hold only structure; ``crmsync.model.load`` checks them against the CRM's
catalog and derives the pull order.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Direction = Literal["both", "pull", "push"]
# Who wins a field both sides changed since the last sync.
Policy = Literal["crm_wins", "platform_wins", "latest_wins"]
POLICIES: tuple[Policy, ...] = ("crm_wins", "platform_wins", "latest_wins")
# What a record deleted (or merged away) in the CRM does to its platform row: kept and marked
# (restorable), deleted, or kept as a platform record of its own (no longer linked).
OnCrmDelete = Literal["archive", "delete", "unlink"]
Operator = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "like"]
Normalize = Literal["exact", "casefold"]

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldMapping(_Frozen):
    """One platform column <-> one CRM field, with the direction values may flow.

    ``both`` follows the section's toggles. ``pull`` and ``push`` restrict the field to one
    way, and also let it flow that way when its section only flows the other way: a ``push``
    field of a section that only pulls is sent by the daily push (never on a change event);
    a ``pull`` field of a section that only pushes is received onto linked records.
    """

    column: str
    crm: str
    direction: Direction = "both"
    # Overrides the connection's conflict policy for this field (two-way fields only).
    conflict_policy: Policy | None = None

    @property
    def pulls(self) -> bool:
        """Values flow from the CRM to the platform."""
        return self.direction in ("both", "pull")

    @property
    def pushes(self) -> bool:
        """Values flow from the platform to the CRM."""
        return self.direction in ("both", "push")


class LookupTarget(_Frozen):
    """A platform type a CRM reference may point to, and the column that holds its id."""

    type: str
    column: str


class Lookup(_Frozen):
    """A CRM reference field resolved through links to a platform id (a dependency)."""

    crm: str
    targets: tuple[LookupTarget, ...] = Field(min_length=1)
    required: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every platform column this lookup may fill."""
        return tuple(t.column for t in self.targets)


class MatchRule(_Frozen):
    """Platform columns whose values, normalised, identify a record (the duplicate guard)."""

    columns: tuple[str, ...] = Field(min_length=1)
    normalize: Normalize = "casefold"


class Condition(_Frozen):
    """One filter condition on a CRM field (may be a parent path like RecordType.DeveloperName)."""

    field: str
    op: Operator = "="
    value: str | int | float | bool | tuple[str | int | float | bool, ...] | None = None

    @model_validator(mode="after")
    def _list_for_in(self) -> Condition:
        if self.op in ("in", "not in") and not isinstance(self.value, tuple):
            raise ValueError(f"operator {self.op!r} needs a list of values")
        if self.op not in ("in", "not in") and isinstance(self.value, tuple):
            raise ValueError(f"operator {self.op!r} takes one value, not a list")
        return self


class ObjectMapping(_Frozen):
    """A platform type <-> a CRM object: fields, lookups, matching rules and filter."""

    type: str
    object: str
    label: str = ""
    part_of: str | None = None
    # The platform never writes these records to the CRM (a customer-success team: the CRM's users).
    pull_only: bool = False
    filter: tuple[Condition, ...] = ()
    fields: tuple[FieldMapping, ...] = Field(min_length=1)
    lookups: tuple[Lookup, ...] = ()
    match: tuple[MatchRule, ...] = ()
    create_values: dict[str, Any] = Field(default_factory=dict)
    on_crm_delete: OnCrmDelete = "archive"

    @field_validator("type")
    @classmethod
    def _type_is_identifier(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("must be lower_snake_case (it names a platform table)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        """Accept the compact YAML forms: ``column: Field`` and ``Field: {to: type, column: c}``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        fields = data.get("fields")
        if isinstance(fields, dict):
            data["fields"] = [
                {"column": column, "crm": spec} if isinstance(spec, str) else {"column": column, **spec}
                for column, spec in fields.items()
            ]
        lookups = data.get("lookups")
        if isinstance(lookups, dict):
            data["lookups"] = [_expand_lookup(crm, spec) for crm, spec in lookups.items()]
        match = data.get("match")
        if isinstance(match, list):
            data["match"] = [{"columns": rule} if isinstance(rule, list) else rule for rule in match]
        return data

    @property
    def label_text(self) -> str:
        """The human name of the type, e.g. "fund allocations"."""
        return self.label or self.type.replace("_", " ")

    def pulled_fields(self) -> tuple[FieldMapping, ...]:
        """Field mappings whose values flow from the CRM."""
        return tuple(f for f in self.fields if f.pulls)

    def lookup_columns(self) -> tuple[str, ...]:
        """Every platform column filled by a lookup."""
        return tuple(c for lookup in self.lookups for c in lookup.columns)

    def crm_field(self, column: str) -> str:
        """The CRM field ``column`` is mapped to: its field's, or that of the lookup filling it."""
        for fmap in self.fields:
            if fmap.column == column:
                return fmap.crm
        for lookup in self.lookups:
            if column in lookup.columns:
                return lookup.crm
        raise KeyError(column)


def _expand_lookup(crm: str, spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    spec = dict(spec)
    to = spec.pop("to", None)
    column = spec.pop("column", None)
    if isinstance(to, str):
        targets = [{"type": to, "column": column or f"{to.rstrip('s')}_id"}]
    elif isinstance(to, dict):
        targets = [{"type": t, "column": c} for t, c in to.items()]
    else:
        targets = to
    return {"crm": crm, "targets": targets, **spec}


class Profile(_Frozen):
    """A named set of object mappings for one CRM (e.g. ``npsp`` for Salesforce)."""

    name: str
    crm: Literal["salesforce", "bloomerang"]
    catalog: str
    description: str = ""
    objects: tuple[ObjectMapping, ...] = Field(min_length=1)
    # Where a connection's custom-mapped sections go in the order: before this type (None: last).
    custom_sections_before: str | None = None
    # Types the daily push sends in full (with system changes and per-field overrides).
    daily_push: tuple[str, ...] = ()
    # Whether this profile's connections run the incremental jobs (standard or alternative)
    # by default; org syncs are the other way to keep in step.
    incremental_jobs: bool = False

    def mapping(self, platform_type: str) -> ObjectMapping:
        """The object mapping of ``platform_type``; KeyError if the profile has none."""
        for mapping in self.objects:
            if mapping.type == platform_type:
                return mapping
        raise KeyError(platform_type)

    def types(self) -> tuple[str, ...]:
        """Every platform type, in declaration order."""
        return tuple(m.type for m in self.objects)

    def parts_of(self, platform_type: str) -> tuple[ObjectMapping, ...]:
        """Mappings pulled as parts of ``platform_type`` (e.g. payments of transactions)."""
        return tuple(m for m in self.objects if m.part_of == platform_type)
