"""Describe results built from the catalog: describeGlobal, sObject basic info and describe."""

from __future__ import annotations

import re
from typing import Any

from crmsync.catalogs import Catalog, FieldDef, ObjectDef

from .ids import MASTER_RECORD_TYPE_ID
from .org import Org
from .validation import AUDIT_FIELDS

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}
_TEXT_TYPES = {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "id", "reference"}
# Standard fields whose relationship Salesforce does not expose as a child relationship.
_UNNAMED_CHILD_RELATIONSHIPS = AUDIT_FIELDS | {"OwnerId"}


def object_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    """The ``urls`` of an object in describe results."""
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
        "describe": f"{base}/describe",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    """One object's entry in describeGlobal (also ``objectDescribe`` of basic info)."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": not obj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.mergeable,
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": object_urls(obj, version),
    }


def describe_global(catalog: Catalog, version: str) -> dict[str, Any]:
    """The body of ``GET /sobjects``."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [global_entry(obj, version) for obj in catalog.objects.values()],
    }


def basic_info(org: Org, obj: ObjectDef, version: str) -> dict[str, Any]:
    """The body of ``GET /sobjects/{Obj}``: the object and its most recently changed records."""
    live = [row for row in org.scan(obj.name) if not row["IsDeleted"]]
    live.sort(key=lambda row: (row["LastModifiedDate"] or "", row["Id"]), reverse=True)
    recent = []
    for row in live[:5]:
        item: dict[str, Any] = {
            "attributes": {
                "type": obj.name,
                "url": f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}",
            },
            "Id": row["Id"],
        }
        if "Name" in obj.fields:
            item["Name"] = row["Name"]
        recent.append(item)
    return {"objectDescribe": global_entry(obj, version), "recentItems": recent}


def describe_field(fdef: FieldDef) -> dict[str, Any]:
    """One field's describe, with Salesforce's keys."""
    text = fdef.type in _TEXT_TYPES
    length = 18 if fdef.type in ("id", "reference") else (fdef.length if text else 0)
    default = fdef.default_value
    if fdef.type == "boolean" and default is None:
        default = False
    auto_number = (
        fdef.type == "string" and not fdef.nillable and not fdef.createable and not fdef.calculated
    ) and fdef.name not in AUDIT_FIELDS
    return {
        "aggregatable": fdef.type not in ("textarea", "multipicklist"),
        "autoNumber": auto_number,
        "byteLength": length * 3,
        "calculated": fdef.calculated,
        "calculatedFormula": None,
        "cascadeDelete": fdef.delete_constraint == "Cascade",
        "caseSensitive": False,
        "createable": fdef.createable,
        "custom": fdef.custom,
        "defaultValue": None if fdef.type in ("picklist", "multipicklist") else default,
        "defaultedOnCreate": default is not None or fdef.name in AUDIT_FIELDS or fdef.name == "OwnerId",
        "dependentPicklist": False,
        "digits": fdef.precision if fdef.type == "int" else 0,
        "externalId": fdef.external_id,
        "filterable": fdef.type != "textarea" or length <= 255,
        "groupable": fdef.type not in ("double", "currency", "percent", "textarea", "datetime"),
        "htmlFormatted": False,
        "idLookup": fdef.name == "Id" or fdef.external_id or fdef.unique,
        "inlineHelpText": fdef.description or None,
        "label": fdef.label,
        "length": length,
        "name": fdef.name,
        "nameField": fdef.name == "Name",
        "nillable": fdef.nillable,
        "permissionable": fdef.nillable and fdef.name not in AUDIT_FIELDS,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": value == default,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in fdef.picklist_values
        ],
        "polymorphicForeignKey": len(fdef.reference_to) > 1,
        "precision": 0 if fdef.type == "int" else fdef.precision,
        "referenceTo": list(fdef.reference_to),
        "relationshipName": fdef.relationship_name,
        "restrictedDelete": fdef.delete_constraint == "Restrict",
        "restrictedPicklist": fdef.restricted_picklist,
        "scale": fdef.scale,
        "soapType": SOAP_TYPES.get(fdef.type, "xsd:string"),
        "sortable": fdef.type not in ("textarea", "multipicklist"),
        "type": fdef.type,
        "unique": fdef.unique,
        "updateable": fdef.updateable,
    }


def child_relationships(catalog: Catalog, obj: ObjectDef) -> list[dict[str, Any]]:
    """Every reference of any object to ``obj``, as describe's ``childRelationships``."""
    relationships: list[dict[str, Any]] = []
    used: set[str] = set()
    for child in catalog.objects.values():
        for fdef in child.fields.values():
            if fdef.type != "reference" or obj.name not in fdef.reference_to:
                continue
            name = _child_relationship_name(child, fdef, used)
            relationships.append(
                {
                    "cascadeDelete": fdef.delete_constraint == "Cascade",
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": fdef.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": name,
                    "restrictedDelete": fdef.delete_constraint == "Restrict",
                }
            )
    return relationships


def _child_relationship_name(child: ObjectDef, fdef: FieldDef, used: set[str]) -> str | None:
    """Salesforce's plural child names: ``Contacts``; ``npsp__Allocations__r`` for custom fields."""
    if fdef.name in _UNNAMED_CHILD_RELATIONSHIPS:
        return None
    plural = re.sub(r"\W+", "_", child.label_plural).strip("_")
    if fdef.custom:
        namespace = fdef.name.split("__", 1)[0] + "__" if fdef.name.count("__") >= 2 else ""
        name = f"{namespace}{plural}__r"
    else:
        name = plural.replace("_", "")
    if name in used:
        base = fdef.name.removesuffix("__c").removesuffix("Id")
        name = f"{base}_{name}"
    used.add(name)
    return name


def record_type_infos(org: Org, obj: ObjectDef, version: str) -> list[dict[str, Any]]:
    """The record types of ``obj`` from its RecordType rows, plus Salesforce's implicit Master."""
    layout = f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/"
    infos: list[dict[str, Any]] = []
    if "RecordType" in org.catalog.objects:
        for row in org.scan("RecordType"):
            if row["IsDeleted"] or row.get("SobjectType") != obj.name:
                continue
            infos.append(
                {
                    "active": bool(row.get("IsActive")),
                    "available": True,
                    "defaultRecordTypeMapping": not infos and bool(row.get("IsActive")),
                    "developerName": row.get("DeveloperName"),
                    "master": False,
                    "name": row.get("Name"),
                    "recordTypeId": row["Id"],
                    "urls": {"layout": layout + row["Id"]},
                }
            )
    infos.append(
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": not infos,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": MASTER_RECORD_TYPE_ID,
            "urls": {"layout": layout + MASTER_RECORD_TYPE_ID},
        }
    )
    return infos


def describe_object(org: Org, obj: ObjectDef, version: str) -> dict[str, Any]:
    """The body of ``GET /sobjects/{Obj}/describe``."""
    body = global_entry(obj, version)
    body.update(
        {
            "actionOverrides": [],
            "childRelationships": child_relationships(org.catalog, obj),
            "compactLayoutable": True,
            "fields": [describe_field(fdef) for fdef in obj.fields.values()],
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": record_type_infos(org, obj, version),
            "searchLayoutable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [{"label": "All", "name": "everything"}],
        }
    )
    return dict(sorted(body.items()))
