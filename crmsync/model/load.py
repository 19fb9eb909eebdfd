"""Load a profile from YAML and check it against the CRM catalog; errors name the place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crmsync.catalogs import Catalog, CatalogError, FieldDef, ObjectDef, load_catalog
from crmsync.errors import ProfileError
from crmsync.model.order import pull_order
from crmsync.model.profile import Condition, ObjectMapping, Profile

PACKAGED = ("npsp", "bloomerang", "contact-center", "customer-success")


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a packaged profile by name (``npsp``) or a profile file by path, fully validated."""
    path, text = _read(name_or_path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"profile file {path} is not valid YAML: {exc}") from None
    return parse_profile(raw, source=str(path))


def parse_profile(raw: Any, *, source: str = "<data>") -> Profile:
    """Validate profile data (as loaded from YAML); raise ProfileError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ProfileError(f"profile {source}: expected a mapping at the top level")
    name = str(raw.get("name", source))
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(raw, first["loc"])
        raise ProfileError(f"profile {name} ({source}): {where}: {first['msg']}") from None
    try:
        catalog = load_catalog(profile.catalog)
    except CatalogError as exc:
        raise ProfileError(f"profile {name} ({source}): {exc}") from None
    check_profile(profile, catalog)
    return profile


def check_profile(profile: Profile, catalog: Catalog) -> None:
    """Check types, objects, fields, lookups and filters against the catalog; check for cycles."""
    seen: set[str] = set()
    for mapping in profile.objects:
        place = f"profile {profile.name}: object {mapping.type}"
        if mapping.type in seen:
            raise ProfileError(f"{place}: the type is mapped twice")
        seen.add(mapping.type)
        obj = catalog.object(mapping.object)
        if obj is None:
            raise ProfileError(f"{place}: unknown {profile.crm} object {mapping.object!r}")
        _check_mapping(profile, mapping, obj, catalog, place)
    types = set(profile.types())
    for mapping in profile.objects:
        place = f"profile {profile.name}: object {mapping.type}"
        if mapping.part_of is not None and mapping.part_of not in types:
            raise ProfileError(f"{place}: part_of names unknown type {mapping.part_of!r}")
        if mapping.part_of is not None and profile.mapping(mapping.part_of).part_of is not None:
            raise ProfileError(f"{place}: part_of must name a top-level type, not another part")
        for lookup in mapping.lookups:
            field = catalog.object(mapping.object).field(lookup.crm)  # type: ignore[union-attr]
            assert field is not None
            for target in lookup.targets:
                if target.type not in types:
                    raise ProfileError(f"{place}, field {lookup.crm}: lookup to unknown type {target.type!r}")
                target_object = catalog.object(profile.mapping(target.type).object)
                assert target_object is not None
                if target_object.name not in field.reference_to:
                    raise ProfileError(
                        f"{place}, field {lookup.crm}: references {', '.join(field.reference_to)}, "
                        f"not {target_object.name} (the object of {target.type})"
                    )
    _check_schedule(profile, types)
    pull_order(profile)


def _check_schedule(profile: Profile, types: set[str]) -> None:
    """The daily push and the custom-section slot name top-level types the profile maps."""
    place = f"profile {profile.name}"
    for platform_type in profile.daily_push:
        if platform_type not in types:
            raise ProfileError(f"{place}: daily_push names unknown type {platform_type!r}")
        if profile.mapping(platform_type).pull_only:
            raise ProfileError(f"{place}: daily_push names {platform_type}, which is pull_only")
    slot = profile.custom_sections_before
    if slot is not None and slot not in types:
        raise ProfileError(f"{place}: custom_sections_before names unknown type {slot!r}")


def _check_mapping(
    profile: Profile, mapping: ObjectMapping, obj: ObjectDef, catalog: Catalog, place: str
) -> None:
    columns: set[str] = set()
    for fmap in mapping.fields:
        if catalog_field(catalog, obj, fmap.crm) is None:
            raise ProfileError(f"{place}, field {fmap.crm}: no such field on {obj.name}")
        if fmap.column in columns:
            raise ProfileError(f"{place}, field {fmap.crm}: column {fmap.column!r} is mapped twice")
        columns.add(fmap.column)
    for lookup in mapping.lookups:
        field = obj.field(lookup.crm)
        if field is None:
            raise ProfileError(f"{place}, field {lookup.crm}: no such field on {obj.name}")
        if field.type != "reference":
            raise ProfileError(f"{place}, field {lookup.crm}: is a {field.type} field, not a lookup")
        for column in lookup.columns:
            if column in columns:
                raise ProfileError(f"{place}, field {lookup.crm}: column {column!r} is mapped twice")
            columns.add(column)
    for cond in mapping.filter:
        check_condition(catalog, obj, cond, place)
    for rule in mapping.match:
        for column in rule.columns:
            if column not in columns:
                raise ProfileError(f"{place}: match rule uses column {column!r} that no field maps")
    for crm_field in mapping.create_values:
        if obj.field(crm_field) is None:
            raise ProfileError(f"{place}, field {crm_field}: no such field on {obj.name} (create_values)")


def check_condition(catalog: Catalog, obj: ObjectDef, cond: Condition, place: str) -> None:
    """Check a filter condition's field path exists; used for profile and configured filters."""
    if catalog_field(catalog, obj, cond.field) is None:
        raise ProfileError(f"{place}, filter field {cond.field}: no such field on {obj.name}")


def catalog_field(catalog: Catalog, obj: ObjectDef, path: str) -> FieldDef | None:
    """The field at ``path`` (``Name`` or ``RecordType.DeveloperName``) from ``obj``, or None."""
    *hops, last = path.split(".")
    current: ObjectDef | None = obj
    for hop in hops:
        assert current is not None
        ref = current.relationship(hop)
        if ref is None or not ref.reference_to:
            return None
        current = catalog.object(ref.reference_to[0])
        if current is None:
            return None
    assert current is not None
    return current.field(last)


def _read(name_or_path: str | Path) -> tuple[Path | str, str]:
    text_name = str(name_or_path)
    if text_name in PACKAGED:
        resource = resources.files("crmsync.model.profiles").joinpath(f"{text_name}.yaml")
        return f"crmsync/model/profiles/{text_name}.yaml", resource.read_text(encoding="utf-8")
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(PACKAGED)
        raise ProfileError(f"profile {text_name!r} is neither a packaged profile ({known}) nor a file")
    return path, path.read_text(encoding="utf-8")


def _where(raw: Mapping[str, Any], loc: Sequence[int | str]) -> str:
    """Turn a pydantic error location into words: object supporters, field Email."""
    parts: list[str] = []
    node: Any = raw
    for i, key in enumerate(loc):
        parent_key = loc[i - 1] if i else None
        if isinstance(node, (list, tuple)) and isinstance(key, int) and key < len(node):
            node = node[key]
            label = node.get("type") if isinstance(node, dict) else None
            if parent_key == "objects":
                parts.append(f"object {label or f'#{key + 1}'}")
            else:
                parts.append(f"{parent_key} #{key + 1}")
            continue
        if isinstance(node, dict) and isinstance(key, int) and key < len(node):
            # The YAML shorthand (`column: Field`) was a mapping; the error points into its list form.
            name, node = list(node.items())[key]
            noun = "column" if parent_key == "fields" else "field"
            parts.append(f"{noun} {name}")
            continue
        if isinstance(node, dict) and key in node:
            node = node[key]
        if parent_key in ("fields", "lookups") and isinstance(key, str):
            parts.append(f"field {key}")
        elif key not in ("objects", "fields", "lookups"):
            parts.append(str(key))
    return ", ".join(parts) or "top level"
