"""Matching means the same on SQLite and PostgreSQL: the rule's keys, whatever the Unicode."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import testkit
from engine_testkit import CONNECTION, connect, live, sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmsync.connectors.base import CrmRecord
from crmsync.emulators.salesforce.seed import seed_npsp
from crmsync.emulators.salesforce.server import Emulator
from crmsync.engine.apply import Scope, apply_page
from crmsync.engine.workspace import Workspace
from crmsync.matchkey import fold
from crmsync.model.load import load_profile
from crmsync.store import capture, links, logs, records, tenancy
from crmsync.store.platform import platform_table

NPSP = load_profile("npsp")
STAMP = "2026-12-09T10:00:00.000+0000"
# Unicode's white space, which a value may carry at either end.
SPACES = "\t\n\r \x85\xa0\u1680\u2003\u2028\u202f\u3000"
# Letters whose case, composition or folding Python, SQLite and PostgreSQL treat differently.
TRICKY = "aAzZ.@-_ßẞςΣİiIéÉeEÖöøØæÆﬁǅǆΩωЖжÅå" + "\u03c3\u0301\u0308\u212b\u212a\uff21\uff41"


@dataclass(frozen=True)
class Rule:
    """A built-in matching rule on one text column: the platform type, its CRM field and column."""

    platform_type: str
    crm_field: str
    column: str


SUPPORTERS_BY_EMAIL = Rule("supporters", "Email", "email")
FUNDS_BY_NAME = Rule("funds", "Name", "name")

text = st.text(
    alphabet=st.one_of(
        st.sampled_from(TRICKY),
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=12,
)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A platform value and a CRM value: the same text retyped (case, composition, spaces, ß
    spelled ss), or another text."""
    platform = draw(text)
    if draw(st.booleans()):
        return platform, draw(text)
    crm = platform
    if draw(st.booleans()):
        crm = crm.replace("ß", "ss")
    case = draw(st.sampled_from(["upper", "lower", "title", "casefold", "strip"]))
    crm = getattr(crm, case)()
    crm = unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"])), crm)
    around = st.text(alphabet=SPACES, max_size=2)
    return platform, draw(around) + crm + draw(around)


def _linked(ws: Workspace, rule: Rule, platform_value: str, crm_value: str) -> bool:
    """Whether a pull of a CRM record holding ``crm_value`` links the platform's row holding
    ``platform_value`` (written by the application), in an organization of its own."""
    mapping = NPSP.mapping(rule.platform_type)
    with ws.engine.begin() as conn:
        org = tenancy.ensure_organization(conn, f"o-{uuid.uuid4().hex}")
    cid = testkit.bare_connection(ws, "c", org)
    with ws.engine.begin() as conn:
        row = {
            rule.column: platform_value,
            **({"last_name": "P"} if rule.platform_type == "supporters" else {}),
        }
        (existing,) = records.insert_many(conn, org, rule.platform_type, [row])
    crm_id = "X" + uuid.uuid4().hex[:17]
    values = {"Id": crm_id, rule.crm_field: crm_value}
    if rule.platform_type == "supporters":
        values["LastName"] = "Person"
    with ws.engine.begin() as conn, capture.origin(conn, "sync"):
        apply_page(
            conn, Scope(org, cid, NPSP), mapping, [CrmRecord(id=crm_id, modstamp=STAMP, values=values)]
        )
    with ws.engine.connect() as conn:
        linked = links.platform_ids(conn, org, cid, rule.platform_type, [crm_id])
        count = conn.execute(
            sa.select(sa.func.count()).where(platform_table(rule.platform_type).c.organization_id == org)
        ).scalar_one()
    assert linked, "the CRM record is applied either way"
    assert count == (1 if linked[crm_id] == existing else 2)
    return linked[crm_id] == existing


@pytest.mark.parametrize("rule", [SUPPORTERS_BY_EMAIL, FUNDS_BY_NAME], ids=lambda r: r.platform_type)
@settings(
    max_examples=60,
    deadline=None,
    # Each example makes its own organization: nothing carries over between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(pair=pairs())
def test_a_pull_links_exactly_the_values_the_rule_calls_equal(
    workspace: Workspace, rule: Rule, pair: tuple[str, str]
) -> None:
    platform_value, crm_value = pair
    equal = fold(platform_value) != "" and fold(platform_value) == fold(crm_value)
    assert _linked(workspace, rule, platform_value, crm_value) == equal


# (platform value, CRM value) of the values that were not linked, and SQLite and PostgreSQL
# gave different platforms.
NAMED_EMAILS = {
    "tab and newline": ("\tjane.tab@example.org\n", "jane.tab@example.org"),
    "no-break space": ("nbsp.user@example.org\u00a0", "nbsp.user@example.org"),
    "sharp s": ("straße@example.de", "straße@example.de"),
    "capitals beyond ASCII": ("ZOË.MÜLLER@EXAMPLE.ORG", "zoë.müller@example.org"),
    "decomposed accents": (unicodedata.normalize("NFD", "rené.dupont@example.fr"), "rené.dupont@example.fr"),
}
NAMED_NAMES = {
    "funds": ("npsp__General_Accounting_Unit__c", "Straßenfonds", "STRASSENFONDS"),
    "campaigns": ("Campaign", "ΟΔΥΣΣΕΥΣ APPEAL", "Οδυσσευς appeal"),
    "organizations": ("Account", unicodedata.normalize("NFD", "\u00a0Café Nord"), "CAFÉ NORD"),
}


def test_sync_all_links_every_named_example_and_says_by_which_key(
    workspace: Workspace, emulator: Emulator
) -> None:
    org = workspace.organization_id
    seed_npsp(emulator.org, 100, seed=41)
    organization_type = next(
        r["Id"] for r in emulator.org.scan("RecordType") if r["DeveloperName"] == "Organization"
    )
    contacts = {
        name: emulator.org.insert("Contact", {"LastName": name.title(), "Email": crm})
        for name, (_, crm) in NAMED_EMAILS.items()
    }
    named = {
        platform_type: emulator.org.insert(
            crm_object,
            {"Name": crm, **({"RecordTypeId": organization_type} if crm_object == "Account" else {})},
        )
        for platform_type, (crm_object, _, crm) in NAMED_NAMES.items()
    }
    with workspace.engine.begin() as conn:
        # The application's own rows, written before crmsync ever ran.
        supporters = records.insert_many(
            conn, org, "supporters", [{"last_name": "Local", "email": p} for p, _ in NAMED_EMAILS.values()]
        )
        rows = {
            platform_type: records.insert_many(conn, org, platform_type, [{"name": platform}])[0]
            for platform_type, (_, platform, _) in NAMED_NAMES.items()
        }
    connect(workspace, emulator)
    result = sync(workspace)
    assert result.status == "succeeded", result.message
    with workspace.engine.connect() as conn:
        found = tenancy.get_connection(conn, org, CONNECTION)
        assert found is not None
        linked = links.platform_ids(conn, org, found.id, "supporters", list(contacts.values()))
        assert linked == dict(zip(contacts.values(), supporters, strict=True))
        for platform_type, crm_id in named.items():
            assert links.platform_ids(conn, org, found.id, platform_type, [crm_id]) == {
                crm_id: rows[platform_type]
            }
        counts = {
            t: conn.execute(sa.select(sa.func.count()).select_from(platform_table(t))).scalar_one()
            for t in ("supporters", *NAMED_NAMES)
        }
        messages = [e.message for e in logs.page(conn, org, limit=10_000)]
    # Linked, not created a second time.
    assert counts["supporters"] == len(live(emulator, "Contact"))
    assert counts["funds"] == len(live(emulator, "npsp__General_Accounting_Unit__c"))
    assert counts["campaigns"] == len(live(emulator, "Campaign"))
    assert "(matched by email 'jane.tab@example.org')" in "\n".join(messages)
    assert "(matched by email 'strasse@example.de')" in "\n".join(messages)
    assert "(matched by name 'strassenfonds')" in "\n".join(messages)
