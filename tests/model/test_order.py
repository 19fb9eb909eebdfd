"""The pull order comes from the lookups; cycles are load-time errors that name the fields."""

from __future__ import annotations

import random
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmsync.errors import ProfileError
from crmsync.model.load import load_profile, parse_profile
from crmsync.model.order import dependencies, pull_order, pull_steps

NPSP_ORDER = [
    "funds",
    "households",
    "supporters",
    "organizations",
    "campaigns",
    "recurring_donations",
    "pledges",
    "transactions",
    "fund_allocations",
    "campaign_members",
    "soft_credits",
    "subscriptions",
]


def test_npsp_pull_order_is_the_documented_one() -> None:
    assert pull_order(load_profile("npsp")) == NPSP_ORDER


def test_payments_are_pulled_inside_the_transactions_step() -> None:
    steps = {step[0].type: [m.type for m in step] for step in pull_steps(load_profile("npsp"))}
    assert steps["transactions"] == ["transactions", "transaction_payments"]
    assert all("transaction_payments" not in names[:1] for names in steps.values())


def _raw_npsp() -> dict[str, Any]:
    return yaml.safe_load(resources.files("crmsync.model.profiles").joinpath("npsp.yaml").read_text())


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_any_declaration_order_respects_every_lookup(rng: random.Random) -> None:
    raw = _raw_npsp()
    rng.shuffle(raw["objects"])
    profile = parse_profile(raw)
    order = pull_order(profile)
    assert sorted(order) == sorted(NPSP_ORDER)
    position = {t: i for i, t in enumerate(order)}
    for step, parents in dependencies(profile).items():
        for parent in parents:
            assert position[parent] < position[step], f"{parent} must come before {step}"


def test_a_cycle_names_the_types_and_fields() -> None:
    raw = _raw_npsp()
    households = next(o for o in raw["objects"] if o["type"] == "households")
    # Households made to depend on supporters, who already depend on households.
    households["lookups"] = {"npe01__One2OneContact__c": {"to": "supporters", "column": "primary_contact_id"}}
    with pytest.raises(ProfileError) as caught:
        parse_profile(raw, source="cyclic.yaml")
    message = str(caught.value)
    assert "profile npsp" in message
    assert "lookup cycle" in message
    assert "households.npe01__One2OneContact__c" in message
    assert "supporters.AccountId" in message
