"""A connection's own sections: direction, filter, custom-mapped fields and custom-mapped sections.

A profile says which fields sync by default. A connection may, per section (platform type):
- set its direction (``receive``, ``send``, ``both``, ``off``), which becomes the type's toggles;
- give a filter that every pull respects (and that sections needing a parent there inherit);
- change the direction of a default field, point it at another CRM field, or switch it off;
- custom-map more fields (platform columns the profile leaves unmapped onto fields of its org);
- custom-map a whole section: a platform table the profile leaves unmapped onto any object,
  placed where the profile keeps custom sections (before tickets in ``customer-success``).

Only what the profile and these settings name syncs, never all fields of an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from crmsync.catalogs import load_catalog
from crmsync.errors import ProfileError
from crmsync.model.load import check_profile
from crmsync.model.order import pull_order
from crmsync.model.profile import (
    Condition,
    Direction,
    FieldMapping,
    ObjectMapping,
    OnCrmDelete,
    Policy,
    Profile,
)

SectionDirection = Literal["receive", "send", "both", "off"]
# A section's direction as (pull, push) toggles.
TOGGLES: dict[SectionDirection, tuple[bool, bool]] = {
    "receive": (True, False),
    "send": (False, True),
    "both": (True, True),
    "off": (False, False),
}
_FIELD_DIRECTIONS: dict[SectionDirection, Direction | None] = {
    "receive": "pull",
    "send": "push",
    "both": "both",
    "off": None,
}


class FieldSetting(BaseModel):
    """A default field's override, or a custom-mapped field (``crm`` is then required)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    crm: str | None = Field(None, description="the CRM field; default: the profile's")
    direction: SectionDirection | None = Field(
        None, description="receive, send, both (as the section) or off; default: the profile's (both)"
    )
    conflict_policy: Policy | None = Field(
        None, description="who wins when both sides changed the field: crm_wins, platform_wins, latest_wins"
    )


class SectionSetting(BaseModel):
    """One section of a connection: direction, filter, fields; ``object`` makes it custom-mapped."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    direction: SectionDirection | None = Field(None, description="receive, send, both or off")
    filter: tuple[Condition, ...] = Field((), description="conditions every pull of the section respects")
    fields: dict[str, FieldSetting] = Field(default_factory=dict, description="column -> field setting")
    object: str | None = Field(None, description="the CRM object of a custom-mapped section")
    label: str = ""
    lookups: dict[str, Any] = Field(default_factory=dict, description="as in a profile (custom sections)")
    match: tuple[tuple[str, ...], ...] = ()
    on_crm_delete: OnCrmDelete | None = Field(
        None,
        description="a record deleted or merged away in the CRM: archive (default, restorable), delete "
        "the platform row, or unlink it",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """``column = "Field__c"`` is short for ``column = {crm = "Field__c"}``."""
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            data = dict(data)
            data["fields"] = {
                column: {"crm": spec} if isinstance(spec, str) else spec
                for column, spec in data["fields"].items()
            }
        return data


def parse_sections(raw: Any, *, where: str = "sections") -> dict[str, SectionSetting]:
    """Section settings from stored (JSON) data; ProfileError naming the section when malformed."""
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where}: expected a table of sections by platform type")
    found: dict[str, SectionSetting] = {}
    for name, value in raw.items():
        if isinstance(value, SectionSetting):
            found[str(name)] = value
            continue
        try:
            found[str(name)] = SectionSetting.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            place = ".".join(str(p) for p in first["loc"])
            raise ProfileError(f"{where}.{name}: {place}: {first['msg']}") from None
    return found


def customized(profile: Profile, sections: Mapping[str, SectionSetting] | Any) -> Profile:
    """``profile`` with a connection's field overrides and custom sections, validated."""
    settings = parse_sections(sections)
    known = set(profile.types())
    for platform_type, setting in settings.items():
        if platform_type not in known and setting.object is None:
            _custom_section(profile, platform_type, setting)  # raises: says how to custom-map it
    if not any(s.fields or s.object or s.on_crm_delete for s in settings.values()):
        return profile
    objects = [_with_fields(m, settings[m.type]) if m.type in settings else m for m in profile.objects]
    custom = [_custom_section(profile, t, s) for t, s in settings.items() if t not in known]
    slot = profile.custom_sections_before
    at = next((i for i, m in enumerate(objects) if m.type == slot), len(objects))
    objects[at:at] = custom
    result = profile.model_copy(update={"objects": tuple(objects)})
    check_profile(result, load_catalog(profile.catalog))
    return result


def section_toggles(sections: Mapping[str, SectionSetting]) -> dict[str, tuple[bool, bool]]:
    """(pull, push) toggles of the sections that set a direction."""
    return {t: TOGGLES[s.direction] for t, s in sections.items() if s.direction is not None}


def _with_fields(mapping: ObjectMapping, setting: SectionSetting) -> ObjectMapping:
    place = f"section {mapping.type}"
    if setting.object is not None and setting.object != mapping.object:
        raise ProfileError(f"{place}: the profile maps it to {mapping.object}; object cannot change")
    if setting.on_crm_delete is not None:
        mapping = mapping.model_copy(update={"on_crm_delete": setting.on_crm_delete})
    if not setting.fields:
        return mapping
    fields = {f.column: f for f in mapping.fields}
    for column, override in setting.fields.items():
        default = fields.get(column)
        if default is None and override.crm is None:
            raise ProfileError(f"{place}, column {column}: a custom-mapped field needs crm = FIELD")
        if override.direction is None:
            direction: Direction | None = default.direction if default else "both"
        else:
            direction = _FIELD_DIRECTIONS[override.direction]
        if direction is None:
            fields.pop(column, None)
            continue
        crm = override.crm or (default.crm if default else "")
        policy = override.conflict_policy or (default.conflict_policy if default else None)
        fields[column] = FieldMapping(column=column, crm=crm, direction=direction, conflict_policy=policy)
    if not fields:
        raise ProfileError(f"{place}: every field is off; set the section's direction to off instead")
    return mapping.model_copy(update={"fields": tuple(fields.values())})


def _custom_section(profile: Profile, platform_type: str, setting: SectionSetting) -> ObjectMapping:
    place = f"section {platform_type}"
    if setting.object is None:
        known = ", ".join(profile.types())
        raise ProfileError(
            f"{place}: profile {profile.name} does not map it; name its object to custom-map it "
            f"(or use one of {known})"
        )
    fields: dict[str, Any] = {}
    for column, override in setting.fields.items():
        direction = _FIELD_DIRECTIONS[override.direction or "both"]
        if override.crm is None:
            raise ProfileError(f"{place}, column {column}: a custom-mapped field needs crm = FIELD")
        if direction is not None:
            fields[column] = {
                "crm": override.crm,
                "direction": direction,
                "conflict_policy": override.conflict_policy,
            }
    try:
        return ObjectMapping.model_validate(
            {
                "type": platform_type,
                "object": setting.object,
                "label": setting.label,
                "fields": fields,
                "lookups": setting.lookups,
                "match": [list(rule) for rule in setting.match],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProfileError(f"{place}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def inherited_filters(
    profile: Profile, filters: Mapping[str, tuple[Condition, ...]]
) -> dict[str, tuple[Condition, ...]]:
    """Configured filters plus those that sections needing a parent inherit from the parent's.

    A record whose required lookup points into a filtered section could never be applied (its
    parent is never pulled), so its section gets the parent's conditions through the
    relationship: end users of a companies section filtered by ``Type = Customer`` are read
    with ``Account.Type = Customer``. Only single-object references carry them (SOQL cannot
    filter through a polymorphic one such as Task.WhatId).
    """
    catalog = load_catalog(profile.catalog)
    result: dict[str, tuple[Condition, ...]] = {t: tuple(c) for t, c in filters.items() if c}
    order = [m.type for step in pull_order(profile) for m in (profile.mapping(step), *profile.parts_of(step))]
    for platform_type in order:
        mapping = profile.mapping(platform_type)
        obj = catalog.object(mapping.object)
        assert obj is not None
        inherited: list[Condition] = []
        for lookup in mapping.lookups:
            field = obj.field(lookup.crm)
            if not lookup.required or len(lookup.targets) != 1 or field is None:
                continue
            if len(field.reference_to) != 1 or field.relationship_name is None:
                continue
            for cond in result.get(lookup.targets[0].type, ()):
                path = f"{field.relationship_name}.{cond.field}"
                inherited.append(cond.model_copy(update={"field": path}))
        own = result.get(platform_type, ())
        extra = tuple(c for c in dict.fromkeys(inherited) if c not in own)
        if extra:
            result[platform_type] = own + extra
    return result
