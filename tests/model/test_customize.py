"""A connection's sections: field overrides, custom-mapped fields and sections, inherited filters."""

from __future__ import annotations

from typing import Any

import pytest

from crmsync.config import SalesforceConfig, ToggleConfig
from crmsync.errors import ProfileError
from crmsync.model.customize import customized, inherited_filters, parse_sections, section_toggles
from crmsync.model.load import load_profile, parse_profile
from crmsync.model.order import pull_order
from crmsync.model.profile import Condition

CUSTOMER = Condition(field="Type", op="=", value="Customer - Direct")
NOPE = {"to": "nope", "column": "nope_id"}


def _profile(sections: dict[str, Any]) -> Any:
    return customized(load_profile("customer-success"), sections)


def test_without_settings_the_profile_is_unchanged() -> None:
    profile = load_profile("customer-success")
    assert customized(profile, None) is profile
    assert customized(profile, {"cs_companies": {"direction": "receive"}}) is profile


def test_a_field_override_changes_direction_or_field_or_switches_it_off() -> None:
    profile = _profile(
        {
            "cs_companies": {
                "fields": {
                    "phone": {"direction": "off"},
                    "website": {"direction": "send"},
                    "name": {"direction": "receive"},
                    "health_score": "Health_Score__c",
                }
            },
            "cs_tickets": {
                "fields": {"subject": {"crm": "Description"}, "description": {"direction": "off"}}
            },
        }
    )
    companies = {f.column: f for f in profile.mapping("cs_companies").fields}
    assert "phone" not in companies
    assert (companies["website"].direction, companies["name"].direction) == ("push", "pull")
    assert (companies["health_score"].crm, companies["health_score"].direction) == ("Health_Score__c", "both")
    tickets = {f.column: f for f in profile.mapping("cs_tickets").fields}
    assert tickets["subject"].crm == "Description"
    # An override without a direction keeps the profile's (case numbers only come from Salesforce).
    assert _profile({"cs_tickets": {"fields": {"case_number": {}}}}).mapping("cs_tickets").fields[
        0
    ].direction == ("pull")


def test_a_custom_section_goes_where_the_profile_keeps_them() -> None:
    profile = _profile(
        {
            "cs_opportunities": {
                "object": "Opportunity",
                "fields": {"name": "Name", "stage": {"crm": "StageName", "direction": "receive"}},
                "lookups": {"AccountId": {"to": "cs_companies", "column": "company_id"}},
                "match": [["name"]],
            }
        }
    )
    assert pull_order(profile)[-2:] == ["cs_opportunities", "cs_tickets"]
    mapping = profile.mapping("cs_opportunities")
    assert [f.direction for f in mapping.fields] == ["both", "pull"]
    assert mapping.lookups[0].targets[0].type == "cs_companies"


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"cs_widgets": {}}, "does not map it; name its object"),
        ({"cs_companies": {"object": "Contact"}}, "object cannot change"),
        ({"cs_companies": {"fields": {"mrr": {"direction": "send"}}}}, "needs crm = FIELD"),
        ({"cs_companies": {"fields": {"mrr": "Nope__c"}}}, "field Nope__c: no such field on Account"),
        ({"cs_companies": {"fields": {"x": {"crm": "Name", "direction": "sideways"}}}}, "direction"),
        ({"cs_x": {"object": "Opportunity", "fields": {"name": "Name"}, "lookups": {"AccountId": NOPE}}},
         "lookup to unknown type 'nope'"),
        ([], "expected a table of sections"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_section_and_what_to_fix(sections: Any, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        _profile(sections) if sections else parse_sections(["x"])


def test_sections_set_toggles_and_filters_in_the_configuration() -> None:
    config = SalesforceConfig.model_validate(
        {
            "profile": "customer-success",
            "sections": {
                "cs_companies": {"direction": "receive", "filter": [CUSTOMER.model_dump()]},
                "cs_tickets": {"direction": "send"},
                "cs_notes": {"direction": "off"},
                "cs_tasks": {"filter": [{"field": "Status", "op": "!=", "value": "Completed"}]},
            },
            "filters": {"cs_tasks": [{"field": "Priority", "value": "High"}]},
        }
    )
    assert config.toggles == {
        "cs_companies": ToggleConfig(pull=True, push=False),
        "cs_tickets": ToggleConfig(pull=False, push=True),
        "cs_notes": ToggleConfig(pull=False, push=False),
    }
    assert config.filters["cs_companies"] == [CUSTOMER]
    assert [c.field for c in config.filters["cs_tasks"]] == ["Priority", "Status"]
    assert section_toggles(parse_sections({"x": {"direction": "both"}})) == {"x": (True, True)}
    with pytest.raises(ValueError, match="both toggles and a section direction"):
        SalesforceConfig.model_validate(
            {"toggles": {"cs_team": {"pull": True}}, "sections": {"cs_team": {"direction": "receive"}}}
        )


def test_sections_needing_a_filtered_parent_inherit_its_filter() -> None:
    profile = load_profile("customer-success")
    filters = inherited_filters(profile, {"cs_companies": (CUSTOMER,)})
    assert filters["cs_companies"] == (CUSTOMER,)
    for platform_type, path in (
        ("cs_end_users", "Account.Type"),
        ("cs_licenses", "Account__r.Type"),
        ("cs_assets", "Account.Type"),
        ("cs_projects", "Account__r.Type"),
        ("cs_tickets", "Account.Type"),
    ):
        assert [c.field for c in filters[platform_type]] == [path], platform_type
    # Through a polymorphic reference SOQL cannot filter: notes and tasks are checked record by record.
    assert "cs_notes" not in filters
    assert "cs_tasks" not in filters
    # Filters of the parent's parent come along too, once.
    deep = inherited_filters(profile, {"cs_companies": (CUSTOMER,), "cs_end_users": (CUSTOMER,)})
    assert deep["cs_end_users"] == (CUSTOMER, CUSTOMER.model_copy(update={"field": "Account.Type"}))
    assert inherited_filters(load_profile("npsp"), {}) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"daily_push": ["cs_nope"]}, "daily_push names unknown type 'cs_nope'"),
        ({"daily_push": ["cs_team"]}, "daily_push names cs_team, which is pull_only"),
        ({"custom_sections_before": "cs_nope"}, "custom_sections_before names unknown type 'cs_nope'"),
    ],
)
def test_the_profiles_schedule_names_its_own_sections(change: dict[str, Any], message: str) -> None:
    raw = load_profile("customer-success").model_dump(mode="json", exclude_defaults=True)
    with pytest.raises(ProfileError, match=message):
        parse_profile({**raw, **change})
