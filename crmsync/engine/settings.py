"""Sync settings of a connection: toggles, incremental field, conflict policy, filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmsync.catalogs import load_catalog
from crmsync.engine.conflicts import POLICIES
from crmsync.engine.workspace import Workspace
from crmsync.errors import ConfigError, ProfileError
from crmsync.model.load import check_condition
from crmsync.model.profile import Condition
from crmsync.store import tenancy
from crmsync.store.db import reading
from crmsync.store.tenancy import ConnectionRow, Toggle

INCREMENTAL_FIELDS = ("LastModifiedDate", "SystemModstamp")


@dataclass(frozen=True)
class ObjectSetting:
    """One platform type of the profile with its CRM object and toggles."""

    type: str
    label: str
    crm_object: str
    pull: bool
    push: bool


@dataclass(frozen=True)
class SyncSettings:
    """What the Sync settings screen shows and saves."""

    objects: list[ObjectSetting]
    incremental_field: str
    conflict_policy: str
    filters: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SettingsChange:
    """Changes to save (None: leave as is)."""

    toggles: Mapping[str, Toggle] | None = None
    incremental_field: str | None = None
    conflict_policy: str | None = None
    filters: Mapping[str, Sequence[Condition]] | None = None


def read(workspace: Workspace, row: ConnectionRow) -> SyncSettings:
    """The connection's sync settings; types without a toggle row are off both ways."""
    profile = workspace.profile(row)
    with reading(workspace.engine) as conn:
        toggles = tenancy.get_toggles(conn, workspace.organization_id, row.id)
    off = Toggle(False, False)
    objects = [
        ObjectSetting(
            m.type, m.label_text, m.object, toggles.get(m.type, off).pull, toggles.get(m.type, off).push
        )
        for m in profile.objects
        if m.part_of is None
    ]
    return SyncSettings(
        objects=objects,
        incremental_field=str(row.settings.get("incremental_field", "LastModifiedDate")),
        conflict_policy=str(row.settings.get("conflict_policy", "latest_wins")),
        filters={t: list(c) for t, c in (row.settings.get("filters") or {}).items()},
    )


def save(workspace: Workspace, row: ConnectionRow, change: SettingsChange) -> SyncSettings:
    """Check and store the changes in one transaction; the next run uses them."""
    profile = workspace.profile(row)
    top = [m.type for m in profile.objects if m.part_of is None]
    settings = dict(row.settings)
    if change.toggles is not None:
        unknown = sorted(set(change.toggles) - set(top))
        if unknown:
            raise ConfigError(
                f"toggles name {unknown[0]!r}, which profile {profile.name} lacks; it has {', '.join(top)}"
            )
    if change.incremental_field is not None:
        if change.incremental_field not in INCREMENTAL_FIELDS:
            raise ConfigError(f"incremental_field must be one of {', '.join(INCREMENTAL_FIELDS)}")
        settings["incremental_field"] = change.incremental_field
    if change.conflict_policy is not None:
        if change.conflict_policy not in POLICIES:
            raise ConfigError(f"conflict_policy must be one of {', '.join(POLICIES)}")
        settings["conflict_policy"] = change.conflict_policy
    if change.filters is not None:
        catalog = load_catalog(profile.catalog)
        stored: dict[str, list[dict[str, Any]]] = {}
        for platform_type, conditions in change.filters.items():
            if platform_type not in profile.types():
                raise ConfigError(f"filters name {platform_type!r}, which profile {profile.name} lacks")
            obj = catalog.object(profile.mapping(platform_type).object)
            assert obj is not None
            for cond in conditions:
                try:
                    check_condition(catalog, obj, cond, f"filters of {platform_type}")
                except ProfileError as exc:
                    raise ConfigError(str(exc)) from None
            if conditions:
                stored[platform_type] = [c.model_dump(mode="json") for c in conditions]
        settings["filters"] = stored
    with workspace.engine.begin() as conn:
        if change.toggles is not None:
            tenancy.set_toggles(conn, workspace.organization_id, row.id, change.toggles)
        tenancy.update_settings(conn, workspace.organization_id, row.id, settings)
    with reading(workspace.engine) as conn:
        fresh = tenancy.get_connection(conn, workspace.organization_id, row.name)
    assert fresh is not None
    return read(workspace, fresh)
