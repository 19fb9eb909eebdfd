"""The fault rules both emulators share: parsing what the control API sends, and matching."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from crmsync.emulators.common.faults import FaultRule, FaultRules, parse_rule

KINDS = ("status", "latency", "rate_limit", "record_error")


@dataclass
class Rule(FaultRule):
    object: str | None = None


def _parse(data: Any) -> Rule:
    return parse_rule(Rule, 7, data, KINDS, presets={"record_error": {"status": 400, "message": "locked"}})


def test_parsing_takes_each_key_with_its_kind_of_value() -> None:
    rule = _parse({"kind": "status", "method": "post", "path_prefix": "/a", "status": 500, "count": None})
    assert (rule.id, rule.method, rule.path_prefix, rule.status, rule.count) == (7, "POST", "/a", 500, None)
    assert _parse({"kind": "rate_limit", "retry_after": 3, "message": None}).retry_after == 3
    # A kind's presets, unless the rule says otherwise.
    assert (_parse({"kind": "record_error"}).status, _parse({"kind": "record_error"}).message) == (
        400,
        "locked",
    )
    assert _parse({"kind": "record_error", "status": 409, "object": "Contact"}).status == 409


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "a fault must be a JSON object"),
        ({"kind": "melt"}, "fault kind must be one of status, latency, rate_limit, record_error; got 'melt'"),
        ({"kind": "status", "fired": 3}, "unknown fault keys: fired"),
        ({"kind": "status", "after": True}, "fault after must be a non-negative integer"),
        ({"kind": "status", "after": None}, "fault after must be a non-negative integer"),
        ({"kind": "status", "object": 5}, "fault object must be a string"),
        ({"kind": "status", "status": 600}, "fault status must be an HTTP status code"),
        ({"kind": "latency", "retry_after": 1}, "retry_after applies to status and rate_limit faults only"),
    ],
)
def test_parsing_says_what_is_wrong(data: Any, says: str) -> None:
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(").replace(")", r"\)")):
        _parse(data)


def test_rules_match_in_order_after_their_passes_and_up_to_their_count() -> None:
    rules: FaultRules[Rule] = FaultRules(
        partial(parse_rule, Rule, kinds=KINDS), not_for_requests=("record_error",)
    )
    rules.add({"kind": "latency", "latency_ms": 30, "count": None})
    rules.add({"kind": "status", "method": "GET", "path_prefix": "/q", "after": 1, "count": 2})
    rules.add({"kind": "record_error", "count": None})
    answers = [
        rules.select(method, path) for method, path in [("get", "/q"), ("POST", "/q"), ("get", "/q/1")]
    ]
    answers += [rules.select("GET", "/q") for _ in range(2)]
    assert [(latency, rule.kind if rule else None) for latency, rule in answers] == [
        (30, None),  # passed by "after"
        (30, None),  # another method
        (30, "status"),
        (30, "status"),
        (30, None),  # its count is spent
    ]
    assert rules.first_firing(lambda r: r.kind == "record_error") is not None
    assert [(r["kind"], r["matched"], r["fired"], r["active"]) for r in rules.list()] == [
        ("latency", 5, 5, True),
        ("status", 3, 2, False),  # not counted once spent
        ("record_error", 1, 1, True),
    ]
    assert rules.fired == 8
    assert rules.clear() == 3
    assert rules.select("GET", "/q") == (0, None)
