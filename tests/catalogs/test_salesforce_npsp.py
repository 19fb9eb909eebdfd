"""The Salesforce + NPSP catalog: the facts the profile validator, connector and emulator rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crmsync.catalogs import Catalog, ObjectDef, load_catalog

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "tools" / "build_salesforce_catalog.py"
COMMITTED = ROOT / "crmsync" / "catalogs" / "salesforce_npsp.json"
REFERENCE = Path("/work/shared/reference/npsp-fields.md")

PREFIXES = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "OpportunityContactRole": "00K",
    "Campaign": "701",
    "CampaignMember": "00v",
    "User": "005",
    "RecordType": "012",
    "npe01__OppPayment__c": "a01",
    "npe03__Recurring_Donation__c": "a09",
    "npsp__General_Accounting_Unit__c": "a0A",
    "npsp__Allocation__c": "a0B",
    "npsp__Partial_Soft_Credit__c": "a0C",
    "npsp__Account_Soft_Credit__c": "a0D",
    "npo02__Household__c": "a0E",
    "Communication_Subscription__c": "a0F",
    "Task": "00T",
    "Note": "002",
    "Asset": "02i",
    "Case": "500",
    "License__c": "a0G",
    "Project__c": "a0H",
}
MASTER_DETAIL_CHILDREN = (
    "npe01__OppPayment__c",
    "npsp__Partial_Soft_Credit__c",
    "npsp__Account_Soft_Credit__c",
)
OWNED = (
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Campaign",
    "npe03__Recurring_Donation__c",
    "npsp__General_Accounting_Unit__c",
    "Communication_Subscription__c",
    "Task",
    "Note",
    "Asset",
    "Case",
    "License__c",
    "Project__c",
)
# Objects Salesforce gives no Name field (Task has a Subject, Note a Title, Case a CaseNumber).
NAMELESS = ("CampaignMember", "OpportunityContactRole", "Task", "Note", "Case")
LEADING = ("Id", "IsDeleted")
TRAILING = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog("salesforce_npsp")


def obj(catalog: Catalog, name: str) -> ObjectDef:
    found = catalog.object(name)
    assert found is not None, f"{name} is not in the catalog"
    return found


def run_builder(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILDER), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


# --- objects ---------------------------------------------------------------------------------


def test_catalog_is_named_and_holds_exactly_the_modelled_objects(catalog: Catalog) -> None:
    assert catalog.name == "salesforce_npsp"
    assert set(catalog.objects) == set(PREFIXES)


@pytest.mark.parametrize(("name", "prefix"), sorted(PREFIXES.items()))
def test_object_has_its_key_prefix(catalog: Catalog, name: str, prefix: str) -> None:
    assert obj(catalog, name).key_prefix == prefix
    assert catalog.object_by_prefix(prefix) is obj(catalog, name)


def test_object_flags(catalog: Catalog) -> None:
    mergeable = {name for name, o in catalog.objects.items() if o.mergeable}
    assert mergeable == {"Account", "Contact", "Lead"}
    for name, o in catalog.objects.items():
        assert o.custom == name.endswith("__c"), name
    assert obj(catalog, "npe01__OppPayment__c").label == "Payment"
    assert obj(catalog, "Communication_Subscription__c").label == "Communication Subscription"
    record_type = obj(catalog, "RecordType")
    assert not record_type.createable
    assert not record_type.updateable
    assert not record_type.deletable


def test_object_lookup_is_case_insensitive(catalog: Catalog) -> None:
    assert catalog.object("npe01__opppayment__c") is obj(catalog, "npe01__OppPayment__c")
    assert catalog.object("No_Such_Object__c") is None


# --- fields every object has ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_system_fields_open_and_close_every_object(catalog: Catalog, name: str) -> None:
    fields = obj(catalog, name).fields
    names = list(fields)
    assert tuple(names[:2]) == LEADING
    assert tuple(names[-5:]) == TRAILING
    id_field = fields["Id"]
    assert (id_field.type, id_field.length, id_field.nillable) == ("id", 18, False)
    assert fields["IsDeleted"].type == "boolean"
    assert fields["SystemModstamp"].type == "datetime"
    for system in (*LEADING, *TRAILING):
        assert not fields[system].createable, f"{name}.{system}"
        assert not fields[system].updateable, f"{name}.{system}"
    for audit in ("CreatedById", "LastModifiedById"):
        assert fields[audit].reference_to == ("User",)


@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_field_keys_match_field_names(catalog: Catalog, name: str) -> None:
    for key, fdef in obj(catalog, name).fields.items():
        assert key == fdef.name


@pytest.mark.parametrize("name", sorted(set(PREFIXES) - {"User", "RecordType"}))
def test_platform_id_is_an_external_id(catalog: Catalog, name: str) -> None:
    platform_id = obj(catalog, name).field("Platform_Id__c")
    assert platform_id is not None
    assert platform_id.type == "string"
    assert platform_id.length == 64
    assert platform_id.external_id
    assert platform_id.unique
    assert platform_id.nillable
    assert platform_id.custom
    assert platform_id.label == "Platform ID"
    assert list(obj(catalog, name).fields)[-6] == "Platform_Id__c"


@pytest.mark.parametrize("name", ["User", "RecordType"])
def test_no_platform_id_on_user_and_record_type(catalog: Catalog, name: str) -> None:
    assert obj(catalog, name).field("Platform_Id__c") is None


def test_owner_id_on_owned_objects_only(catalog: Catalog) -> None:
    for name in OWNED:
        owner = obj(catalog, name).field("OwnerId")
        assert owner is not None, name
        assert owner.reference_to == ("User",)
        assert owner.relationship_name == "Owner"
        assert owner.createable
        assert owner.updateable
        assert not owner.required, "Salesforce defaults the owner to the creating user"
    for name in (*MASTER_DETAIL_CHILDREN, "CampaignMember", "OpportunityContactRole", "User", "RecordType"):
        assert obj(catalog, name).field("OwnerId") is None, name


def test_name_fields(catalog: Catalog) -> None:
    for name, o in catalog.objects.items():
        name_field = o.field("Name")
        if name in NAMELESS:
            assert name_field is None
            continue
        assert name_field is not None, name
        assert name_field.type == "string"
    for name in (*MASTER_DETAIL_CHILDREN, "npsp__Allocation__c"):
        auto_number = obj(catalog, name).fields["Name"]
        assert not auto_number.createable, name
        assert not auto_number.updateable, name
    for name in ("Contact", "Lead", "User"):
        full_name = obj(catalog, name).fields["Name"]
        assert full_name.calculated
        assert not full_name.createable
        assert obj(catalog, name).fields["LastName"].required
    for name in ("Account", "Opportunity", "Campaign"):
        assert obj(catalog, name).fields["Name"].required


def test_master_record_and_record_type_references(catalog: Catalog) -> None:
    for name in ("Account", "Contact", "Lead"):
        master = obj(catalog, name).fields["MasterRecordId"]
        assert master.reference_to == (name,)
        assert master.relationship_name == "MasterRecord"
    for name in ("Account", "Opportunity"):
        record_type = obj(catalog, name).fields["RecordTypeId"]
        assert record_type.reference_to == ("RecordType",)
        assert record_type.relationship_name == "RecordType"


# --- references ------------------------------------------------------------------------------


def test_every_reference_names_a_catalog_object(catalog: Catalog) -> None:
    for o in catalog.objects.values():
        for fdef in o.fields.values():
            if fdef.type != "reference":
                assert not fdef.reference_to, f"{o.name}.{fdef.name}"
                continue
            assert fdef.reference_to, f"{o.name}.{fdef.name}"
            assert fdef.relationship_name, f"{o.name}.{fdef.name}"
            assert fdef.delete_constraint is not None, f"{o.name}.{fdef.name}"
            for target in fdef.reference_to:
                assert target in catalog.objects, f"{o.name}.{fdef.name} -> {target}"


def test_custom_relationship_names_end_in_r(catalog: Catalog) -> None:
    for o in catalog.objects.values():
        for fdef in o.fields.values():
            if fdef.type == "reference" and fdef.name.endswith("__c"):
                assert fdef.relationship_name == fdef.name[:-3] + "__r"


def test_relationship_names_are_unique_per_object(catalog: Catalog) -> None:
    for o in catalog.objects.values():
        names = [f.relationship_name.casefold() for f in o.fields.values() if f.relationship_name]
        assert len(names) == len(set(names)), o.name


def test_contact_account(catalog: Catalog) -> None:
    contact = obj(catalog, "Contact")
    account_id = contact.fields["AccountId"]
    assert account_id.reference_to == ("Account",)
    assert account_id.relationship_name == "Account"
    assert contact.relationship("Account") is account_id
    assert contact.relationship("account") is account_id
    assert contact.relationship("Nope") is None


def test_recurring_donation_contact(catalog: Catalog) -> None:
    contact = obj(catalog, "npe03__Recurring_Donation__c").fields["npe03__Contact__c"]
    assert contact.reference_to == ("Contact",)
    assert contact.relationship_name == "npe03__Contact__r"
    organization = obj(catalog, "npe03__Recurring_Donation__c").fields["npe03__Organization__c"]
    assert organization.reference_to == ("Account",)


def test_allocation_needs_its_general_accounting_unit(catalog: Catalog) -> None:
    gau = obj(catalog, "npsp__Allocation__c").fields["npsp__General_Accounting_Unit__c"]
    assert gau.reference_to == ("npsp__General_Accounting_Unit__c",)
    assert not gau.nillable
    assert gau.required
    assert gau.delete_constraint == "Restrict"


def test_master_detail_children_cascade(catalog: Catalog) -> None:
    opportunity = obj(catalog, "npe01__OppPayment__c").fields["npe01__Opportunity__c"]
    assert opportunity.reference_to == ("Opportunity",)
    assert opportunity.delete_constraint == "Cascade"
    assert opportunity.required
    assert opportunity.relationship_name == "npe01__Opportunity__r"
    for name, field_name in [
        ("npsp__Partial_Soft_Credit__c", "npsp__Contact__c"),
        ("npsp__Partial_Soft_Credit__c", "npsp__Opportunity__c"),
        ("npsp__Account_Soft_Credit__c", "npsp__Opportunity__c"),
        ("OpportunityContactRole", "OpportunityId"),
        ("CampaignMember", "CampaignId"),
        ("Communication_Subscription__c", "Contact__c"),
    ]:
        fdef = obj(catalog, name).fields[field_name]
        assert fdef.delete_constraint == "Cascade", f"{name}.{field_name}"
        assert not fdef.nillable, f"{name}.{field_name}"


def test_namespaced_reference_targets(catalog: Catalog) -> None:
    assert obj(catalog, "Contact").fields["npo02__Household__c"].reference_to == ("npo02__Household__c",)
    assert obj(catalog, "Opportunity").fields["npe03__Recurring_Donation__c"].reference_to == (
        "npe03__Recurring_Donation__c",
    )
    assert obj(catalog, "npsp__Allocation__c").fields["npsp__Payment__c"].reference_to == (
        "npe01__OppPayment__c",
    )


def test_references_to_unmodelled_npsp_objects_are_dropped(catalog: Catalog) -> None:
    for name in ("Account", "Contact", "Opportunity", "Lead"):
        assert obj(catalog, name).field("npsp__Batch__c") is None
    assert obj(catalog, "Contact").field("npsp__Current_Address__c") is None


# --- field semantics -------------------------------------------------------------------------


def test_field_lookup_is_case_insensitive(catalog: Catalog) -> None:
    contact = obj(catalog, "Contact")
    assert contact.field("email") is contact.fields["Email"]
    assert contact.field("NPSP__DO_NOT_CONTACT__C") is contact.fields["npsp__Do_Not_Contact__c"]
    assert contact.field("NoSuchField") is None


def test_calculated_fields_are_read_only(catalog: Catalog) -> None:
    calculated = 0
    for o in catalog.objects.values():
        for fdef in o.fields.values():
            if fdef.calculated:
                calculated += 1
                assert not fdef.createable, f"{o.name}.{fdef.name}"
                assert not fdef.updateable, f"{o.name}.{fdef.name}"
                assert fdef.default_value is None, f"{o.name}.{fdef.name}"
    assert calculated > 20


def test_npsp_types(catalog: Catalog) -> None:
    opportunity = obj(catalog, "Opportunity")
    rollup = opportunity.fields["npe01__Payments_Made__c"]
    assert (rollup.type, rollup.calculated, rollup.scale) == ("currency", True, 2)
    count = opportunity.fields["npe01__Number_of_Payments__c"]
    assert (count.type, count.calculated) == ("double", True)
    text_formula = obj(catalog, "Contact").fields["npe01__Type_of_Account__c"]
    assert (text_formula.type, text_formula.calculated) == ("string", True)
    checkbox_formula = obj(catalog, "Contact").fields["npsp__Primary_Contact__c"]
    assert (checkbox_formula.type, checkbox_formula.calculated) == ("boolean", True)
    number = obj(catalog, "Account").fields["npo02__NumberOfClosedOpps__c"]
    assert (number.type, number.precision, number.scale, number.default_value) == ("double", 18, 0, 0)
    checkbox = obj(catalog, "Account").fields["npe01__SYSTEMIsIndividual__c"]
    assert (checkbox.type, checkbox.nillable, checkbox.default_value) == ("boolean", False, False)
    long_text = obj(catalog, "Opportunity").fields["npsp__In_Kind_Description__c"]
    assert (long_text.type, long_text.length) == ("textarea", 32768)
    elevate = obj(catalog, "npe01__OppPayment__c").fields["npsp__Elevate_Payment_ID__c"]
    assert (elevate.external_id, elevate.length) == (True, 40)
    ach_code = obj(catalog, "npe01__OppPayment__c").fields["npsp__ACH_Code__c"]
    assert (ach_code.type, ach_code.picklist_values) == ("picklist", ())
    status = obj(catalog, "npe03__Recurring_Donation__c").fields["npsp__Status__c"]
    assert status.default_value == "Active"
    assert obj(catalog, "Account").fields["npsp__Funding_Focus__c"].type == "multipicklist"


def test_picklist_defaults_are_among_the_values(catalog: Catalog) -> None:
    for o in catalog.objects.values():
        for fdef in o.fields.values():
            if fdef.type in ("picklist", "multipicklist") and fdef.default_value is not None:
                assert fdef.default_value in fdef.picklist_values, f"{o.name}.{fdef.name}"


def test_standard_picklists_the_profiles_use(catalog: Catalog) -> None:
    stage = obj(catalog, "Opportunity").fields["StageName"]
    assert stage.required
    assert {"Pledged", "Closed Won", "Closed Lost", "Posted"} <= set(stage.picklist_values)
    assert obj(catalog, "Opportunity").fields["CloseDate"].required
    lead_status = obj(catalog, "Lead").fields["Status"]
    assert lead_status.default_value == "Open - Not Contacted"
    assert not lead_status.required
    assert obj(catalog, "Lead").fields["Company"].required
    roles = set(obj(catalog, "OpportunityContactRole").fields["Role"].picklist_values)
    assert {"Donor", "Soft Credit", "Household Member", "Honoree", "Matched Donor"} <= roles
    assert obj(catalog, "CampaignMember").fields["Status"].picklist_values == ("Sent", "Responded")
    assert obj(catalog, "Campaign").fields["Status"].picklist_values == (
        "Planned",
        "In Progress",
        "Completed",
        "Aborted",
    )


def test_communication_subscription(catalog: Catalog) -> None:
    fields = obj(catalog, "Communication_Subscription__c").fields
    assert fields["Contact__c"].relationship_name == "Contact__r"
    assert fields["List_Name__c"].required
    assert fields["List_Name__c"].length == 255
    assert fields["Channel__c"].picklist_values == ("Email", "SMS", "Mail")
    assert fields["Channel__c"].default_value == "Email"
    assert fields["Channel__c"].restricted_picklist
    assert fields["Status__c"].restricted_picklist
    assert fields["Status__c"].default_value == "Subscribed"
    assert fields["Subscribed_Date__c"].type == "datetime"
    # Filled by the org's flow from the contact and the list; unique, so a pair occurs once.
    key = fields["Subscription_Key__c"]
    assert (key.unique, key.createable, key.updateable, key.length) == (True, False, False, 255)
    assert all(fields[name].custom for name in fields if name.endswith("__c"))


def test_user_fields(catalog: Catalog) -> None:
    user = obj(catalog, "User")
    assert user.fields["Username"].unique
    assert user.fields["Username"].required
    assert user.fields["Email"].required
    assert user.field("ProfileId") is None
    assert not user.deletable


# --- the builder -----------------------------------------------------------------------------


@pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"NPSP field reference {REFERENCE} is not on this machine"
)
def test_rebuilding_from_the_reference_gives_the_committed_file(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for output in (first, second):
        result = run_builder(REFERENCE, "--output", output)
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes(), "the builder is not deterministic"
    assert first.read_bytes() == COMMITTED.read_bytes(), (
        "crmsync/catalogs/salesforce_npsp.json is stale: run tools/build_salesforce_catalog.py"
    )


def test_committed_file_is_pretty_printed_json() -> None:
    text = COMMITTED.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    Catalog.model_validate(data)


SMALL_REFERENCE = """\
### Account.object label=None recordTypes=[]
- `npe01__Kind__c` (Kind) : Text len 10  — First definition.
### NPSP/Account
- `npsp__Fund__c` (Fund) : Lookup -> General_Accounting_Unit__c (rel Accounts, Restrict); required
- `npsp__Batch__c` (Batch) : Lookup -> Batch__c (rel Accounts, SetNull)
### Account.object label=None recordTypes=[]
- `npe01__Kind__c` (Kind) : Text len 10  — First definition.
### Widget__c.object label=Widget recordTypes=[]
- `npo02__Size__c` (Size) : Number (3,0)
### NPSP/Opportunity
- `npsp__Next_Due__c` (Next Due) : Summary ROLLUP min(Grant_Deadline__c.Grant_Deadline_Due_Date__c)
- `npsp__Written_Off__c` (Written Off) : Summary ROLLUP sum(npe01__OppPayment__c.npsp__Fee__c)
### NPSP/npe01__OppPayment__c
- `npsp__Fee__c` (Fee) : Currency (16,2); default=0
"""


def test_builder_merges_sections_and_resolves_namespaces(tmp_path: Path) -> None:
    reference = tmp_path / "npsp-fields.md"
    reference.write_text(SMALL_REFERENCE, encoding="utf-8")
    output = tmp_path / "catalog.json"
    result = run_builder(reference, "--output", output)
    assert result.returncode == 0, result.stderr
    catalog = Catalog.model_validate_json(output.read_text(encoding="utf-8"))
    account = obj(catalog, "Account")
    assert list(account.fields).count("npe01__Kind__c") == 1
    fund = account.fields["npsp__Fund__c"]
    assert fund.reference_to == ("npsp__General_Accounting_Unit__c",)
    assert (fund.nillable, fund.delete_constraint) == (False, "Restrict")
    assert fund.relationship_name == "npsp__Fund__r"
    assert account.field("npsp__Batch__c") is None
    assert "npsp__Batch__c" in result.stderr
    assert catalog.object("npo02__Widget__c") is None
    assert "npo02__Widget__c" in result.stderr
    opportunity = obj(catalog, "Opportunity")
    assert opportunity.fields["npsp__Next_Due__c"].type == "date"
    written_off = opportunity.fields["npsp__Written_Off__c"]
    assert (written_off.type, written_off.precision, written_off.scale) == ("currency", 18, 2)
    assert obj(catalog, "npe01__OppPayment__c").fields["npsp__Fee__c"].default_value == 0


def test_builder_rejects_an_unknown_field_type(tmp_path: Path) -> None:
    reference = tmp_path / "npsp-fields.md"
    reference.write_text("### NPSP/Contact\n- `npsp__Where__c` (Where) : Location\n", encoding="utf-8")
    result = run_builder(reference, "--output", tmp_path / "catalog.json")
    assert result.returncode == 2
    assert "Contact.npsp__Where__c" in result.stderr
    assert "Location" in result.stderr
    assert not (tmp_path / "catalog.json").exists()


def test_builder_restricts_only_picklists_with_values(tmp_path: Path) -> None:
    reference = tmp_path / "npsp-fields.md"
    reference.write_text(
        "### NPSP/Contact\n- `npsp__Size__c` (Size) : Text len 9; restricted\n", encoding="utf-8"
    )
    result = run_builder(reference, "--output", tmp_path / "catalog.json")
    assert result.returncode == 2
    assert "Contact.npsp__Size__c: only a picklist with values can be restricted" in result.stderr


def test_builder_check_reports_a_stale_file(tmp_path: Path) -> None:
    reference = tmp_path / "npsp-fields.md"
    reference.write_text(SMALL_REFERENCE, encoding="utf-8")
    output = tmp_path / "catalog.json"
    output.write_text("{}\n", encoding="utf-8")
    assert run_builder(reference, "--output", output, "--check").returncode == 1
    assert run_builder(reference, "--output", output, "--quiet").returncode == 0
    assert run_builder(reference, "--output", output, "--check").returncode == 0


# --- the customer-success preset's objects -------------------------------------------------------


def test_polymorphic_references_name_every_target(catalog: Catalog) -> None:
    task = obj(catalog, "Task")
    assert task.fields["WhoId"].reference_to == ("Contact", "Lead")
    assert task.fields["WhoId"].relationship_name == "Who"
    what = task.fields["WhatId"]
    assert {"Account", "Case", "Asset", "Project__c"} <= set(what.reference_to)
    assert what.relationship_name == "What"
    parent = obj(catalog, "Note").fields["ParentId"]
    assert parent.reference_to[:2] == ("Account", "Contact")
    assert parent.required
    assert not parent.updateable


def test_customer_success_objects(catalog: Catalog) -> None:
    case_number = obj(catalog, "Case").fields["CaseNumber"]
    assert not case_number.createable
    assert not case_number.updateable
    assert obj(catalog, "Case").fields["Status"].default_value == "New"
    assert obj(catalog, "Task").fields["Priority"].default_value == "Normal"
    for name in ("License__c", "Project__c"):
        account = obj(catalog, name).fields["Account__c"]
        assert (account.reference_to, account.required, account.delete_constraint) == (
            ("Account",),
            True,
            "Cascade",
        )
    assert obj(catalog, "Account").fields["Health_Score__c"].type == "double"
    assert obj(catalog, "Contact").fields["Last_Seen__c"].type == "datetime"


def test_builder_reads_a_polymorphic_reference(tmp_path: Path) -> None:
    standard = tmp_path / "standard.md"
    standard.write_text(
        "### Account | Account | Accounts | 001\n- `Name` (Name) : Text len 80\n"
        "### Contact | Contact | Contacts | 003\n- `LastName` (Last Name) : Text len 80\n"
        "### Task | Task | Tasks | 00T\n- `WhatId` (Related To ID) : Lookup -> Account|Contact (Cascade)\n",
        encoding="utf-8",
    )
    reference = tmp_path / "reference.md"
    reference.write_text("", encoding="utf-8")
    output = tmp_path / "out.json"
    result = run_builder(reference, "--standard", standard, "--output", output)
    assert result.returncode == 0, result.stderr
    what = json.loads(output.read_text(encoding="utf-8"))["objects"]["Task"]["fields"]["WhatId"]
    assert (what["reference_to"], what["relationship_name"]) == (["Account", "Contact"], "What")
