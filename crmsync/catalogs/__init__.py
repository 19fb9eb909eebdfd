"""Reference schemas of CRMs: which objects and fields exist and how they are typed.

Pure data, shared by the profile validator (``crmsync.model``) and the emulators; it imports
nothing else of crmsync so both may depend on it without depending on each other.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "boolean",
    "int",
    "double",
    "currency",
    "percent",
    "date",
    "datetime",
    "picklist",
    "multipicklist",
    "reference",
    "email",
    "phone",
    "url",
]


class CatalogError(ValueError):
    """A catalog file is missing or malformed."""


class FieldDef(BaseModel):
    """One field of a CRM object, described as Salesforce's describe call would."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    label: str
    type: FieldType
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    unique: bool = False
    external_id: bool = False
    calculated: bool = False
    custom: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    delete_constraint: Literal["SetNull", "Restrict", "Cascade"] | None = None
    picklist_values: tuple[str, ...] = ()
    # Only the listed values may be saved (Salesforce's "restrict picklist to the value set").
    restricted_picklist: bool = False
    default_value: Any = None
    description: str = ""

    @property
    def required(self) -> bool:
        """A value must be given on create (not nillable, createable, no default)."""
        return not self.nillable and self.createable and self.default_value is None and self.type != "boolean"


class ObjectDef(BaseModel):
    """One CRM object (an sObject) and its fields, in describe order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    label: str
    label_plural: str
    key_prefix: str = Field(min_length=3, max_length=3)
    custom: bool = False
    mergeable: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    fields: dict[str, FieldDef]

    _by_casefold: dict[str, FieldDef] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_casefold.update({name.casefold(): fdef for name, fdef in self.fields.items()})

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (API names are case-insensitive), or None."""
        return self.fields.get(name) or self._by_casefold.get(name.casefold())

    def relationship(self, relationship_name: str) -> FieldDef | None:
        """The reference field whose relationship is called ``relationship_name``, or None."""
        wanted = relationship_name.casefold()
        for fdef in self.fields.values():
            if fdef.relationship_name is not None and fdef.relationship_name.casefold() == wanted:
                return fdef
        return None


class Catalog(BaseModel):
    """All objects of one CRM preset, e.g. Salesforce with NPSP installed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    objects: dict[str, ObjectDef]

    def object(self, name: str) -> ObjectDef | None:
        """The object called ``name`` (case-insensitive), or None."""
        found = self.objects.get(name)
        if found is not None:
            return found
        wanted = name.casefold()
        for obj in self.objects.values():
            if obj.name.casefold() == wanted:
                return obj
        return None

    def object_by_prefix(self, key_prefix: str) -> ObjectDef | None:
        """The object whose record ids start with ``key_prefix``, or None."""
        for obj in self.objects.values():
            if obj.key_prefix == key_prefix:
                return obj
        return None


@cache
def load_catalog(name: str) -> Catalog:
    """Load the packaged catalog ``name`` (e.g. ``salesforce_npsp``), validated."""
    resource = resources.files(__package__).joinpath(f"{name}.json")
    if not resource.is_file():
        raise CatalogError(f"no catalog named {name!r} in crmsync.catalogs")
    try:
        data = json.loads(resource.read_text(encoding="utf-8"))
        return Catalog.model_validate(data)
    except (ValueError, ValidationError) as exc:
        raise CatalogError(f"catalog {name}.json is malformed: {exc}") from None
