"""Profile validation: every mistake is a load-time error naming profile, object and field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from crmsync.errors import ProfileError
from crmsync.model.load import load_profile, parse_profile


def _raw() -> dict[str, Any]:
    return yaml.safe_load(resources.files("crmsync.model.profiles").joinpath("npsp.yaml").read_text())


def _object(raw: dict[str, Any], platform_type: str) -> dict[str, Any]:
    return next(o for o in raw["objects"] if o["type"] == platform_type)


def test_npsp_profile_loads() -> None:
    profile = load_profile("npsp")
    assert profile.crm == "salesforce"
    supporters = profile.mapping("supporters")
    assert supporters.object == "Contact"
    assert [lookup.crm for lookup in supporters.lookups] == ["AccountId"]
    assert supporters.match[0].columns == ("email",)
    gifts = profile.mapping("transactions").lookups
    account = next(lookup for lookup in gifts if lookup.crm == "AccountId")
    assert [t.type for t in account.targets] == ["households", "organizations"]


def test_unknown_object_is_named() -> None:
    raw = _raw()
    _object(raw, "supporters")["object"] = "Contactt"
    with pytest.raises(
        ProfileError, match=r"profile npsp: object supporters: unknown salesforce object 'Contactt'"
    ):
        parse_profile(raw)


def test_unknown_field_is_named() -> None:
    raw = _raw()
    _object(raw, "supporters")["fields"]["email"] = "Emial"
    with pytest.raises(
        ProfileError, match=r"profile npsp: object supporters, field Emial: no such field on Contact"
    ):
        parse_profile(raw)


def test_unknown_filter_path_is_named() -> None:
    raw = _raw()
    _object(raw, "households")["filter"][0]["field"] = "RecordTyp.DeveloperName"
    with pytest.raises(ProfileError, match=r"object households, filter field RecordTyp.DeveloperName"):
        parse_profile(raw)


def test_lookup_must_be_a_reference_to_the_targets_object() -> None:
    raw = _raw()
    _object(raw, "supporters")["lookups"] = {"AccountId": {"to": "campaigns", "column": "household_id"}}
    with pytest.raises(
        ProfileError, match=r"object supporters, field AccountId: references Account, not Campaign"
    ):
        parse_profile(raw)
    raw = _raw()
    _object(raw, "supporters")["lookups"] = {"Email": {"to": "households", "column": "household_id"}}
    with pytest.raises(ProfileError, match=r"field Email: is a email field, not a lookup"):
        parse_profile(raw)


def test_lookup_to_unknown_type_is_named() -> None:
    raw = _raw()
    _object(raw, "supporters")["lookups"] = {"AccountId": {"to": "houses", "column": "household_id"}}
    with pytest.raises(
        ProfileError, match=r"object supporters, field AccountId: lookup to unknown type 'houses'"
    ):
        parse_profile(raw)


def test_structural_error_names_object_and_field(tmp_path: Path) -> None:
    raw = _raw()
    _object(raw, "funds")["fields"]["name"] = {"crm": "Name", "direction": "sideways"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"profile npsp ({path}): object funds, column name, direction:")


def test_bad_type_name_and_duplicates() -> None:
    raw = _raw()
    _object(raw, "funds")["type"] = "Funds"
    with pytest.raises(ProfileError, match="lower_snake_case"):
        parse_profile(raw)
    raw = _raw()
    raw["objects"].append(dict(_object(raw, "funds")))
    with pytest.raises(ProfileError, match="object funds: the type is mapped twice"):
        parse_profile(raw)


def test_match_rule_must_use_mapped_columns() -> None:
    raw = _raw()
    _object(raw, "supporters")["match"] = [["mail"]]
    with pytest.raises(ProfileError, match="match rule uses column 'mail'"):
        parse_profile(raw)


def test_missing_profile_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="neither a packaged profile"):
        load_profile("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("objects: [\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(bad)
