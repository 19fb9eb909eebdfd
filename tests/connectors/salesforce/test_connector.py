"""The connector's small surface: describe (cached), test(), API call counting and the
Sforce-Limit-Info header."""

from __future__ import annotations

import httpx
import pytest
from sf_connector_testkit import CountingTransport, MakeClient, mock_transport, password_credentials

from crmsync.connectors.base import Connector, ReadRequest
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.emulators.salesforce.server import Emulator
from crmsync.errors import AuthError, SchemaError


def test_the_connector_satisfies_the_protocol(connector: SalesforceConnector) -> None:
    as_protocol: Connector = connector
    assert as_protocol.crm == "salesforce"


def test_describe_is_one_call_per_object(
    emulator: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    info = connector.describe("Contact")
    assert connector.describe("Contact") is info
    assert connector.describe("contact") is info

    assert transport.count("/services/data/v61.0/sobjects/Contact/describe") == 1
    assert connector.api_calls == 1
    assert emulator.state.usage.by_resource["describe"] == 1
    assert info.name == "Contact"
    birthdate = info.field("birthdate")
    assert birthdate is not None
    assert birthdate.type == "date"
    account = info.fields["AccountId"]
    assert account.type == "reference"
    assert account.reference_to == ("Account",)
    assert account.relationship_name == "Account"
    assert info.fields["Id"].createable is False
    assert info.fields["LastName"].nillable is False
    assert info.fields["Platform_Id__c"].external_id is True


@pytest.mark.parametrize("name", ["npsp__General_Accounting_Unit__x", "Nope__c"])
def test_an_unknown_object_says_to_install_the_package_or_turn_off_the_toggle(
    connector: SalesforceConnector, name: str
) -> None:
    with pytest.raises(SchemaError) as raised:
        connector.describe(name)
    message = str(raised.value)
    assert f"no object {name}" in message
    assert "install the package" in message
    assert "turn off the object's pull toggle" in message
    assert "\n" not in message


def test_reading_an_unknown_object_is_the_same_schema_error(connector: SalesforceConnector) -> None:
    with pytest.raises(SchemaError, match="install the package"):
        list(connector.read(ReadRequest(object="Nope__c", fields=("Name",))))


def test_test_makes_one_call_and_says_so(
    emulator: Emulator, connector: SalesforceConnector, transport: CountingTransport
) -> None:
    message = connector.test()

    assert message.startswith("Connection successful")
    assert "API requests today: 1 of 100000" in message
    assert connector.api_calls == 1
    assert emulator.state.usage.stats()["by_resource"] == {"limits": 1}
    assert transport.logins == 1


def test_test_with_bad_credentials_is_an_auth_error(emulator: Emulator, make_client: MakeClient) -> None:
    client = make_client(password_credentials(emulator.base_url, password="wrong"))
    with pytest.raises(AuthError):
        SalesforceConnector(client).test()


def test_limit_info_is_read_from_every_answer(emulator: Emulator, client: SalesforceClient) -> None:
    client.request("GET", "limits", what="read limits")
    assert (client.limit_used, client.limit_max) == (1, 100_000)

    emulator.state.usage.configure(daily_max=15_000, used=14_990)
    client.request("GET", "sobjects/Contact/describe", what="describe Contact")

    assert (client.limit_used, client.limit_max) == (14_991, 15_000)


def test_calls_count_every_rest_call_but_not_logins(
    emulator: Emulator, connector: SalesforceConnector, client: SalesforceClient
) -> None:
    for i in range(450):
        emulator.org.insert("Contact", {"LastName": f"Person {i}"})
    connector.test()
    list(connector.read(ReadRequest(object="Contact", fields=("LastName",))))  # describe + 3 pages

    assert client.calls == 5
    assert connector.api_calls == 5
    assert emulator.state.usage.used == 5
    assert client.limit_used == 5


def test_calls_count_retried_attempts_too(emulator: Emulator, client: SalesforceClient) -> None:
    emulator.state.faults.add({"kind": "status", "path_prefix": "/services/data", "count": 2, "status": 503})
    client.request("GET", "limits", what="read limits")
    assert client.calls == 3


@pytest.mark.parametrize(
    "header",
    [
        "api-usage=18/15000",
        "api-usage=18/15000, per-app-api-usage=17/250(appName=sample-app)",
        "per-app-api-usage=17/250(appName=sample-app), api-usage=18/15000",
    ],
)
def test_limit_info_is_the_org_wide_figure(make_client: MakeClient, header: str) -> None:
    transport = mock_transport(lambda _: httpx.Response(200, headers={"Sforce-Limit-Info": header}, json={}))
    client = make_client(transport=transport)

    client.request("GET", "limits", what="read limits")

    assert (client.limit_used, client.limit_max) == (18, 15000)


def test_an_answer_without_limit_info_keeps_the_last_known_figures(make_client: MakeClient) -> None:
    answers = iter(
        [
            httpx.Response(200, headers={"Sforce-Limit-Info": "api-usage=5/100"}, json={}),
            httpx.Response(200, json={}),
        ]
    )
    client = make_client(transport=mock_transport(lambda _: next(answers)))
    client.request("GET", "limits", what="a")
    client.request("GET", "limits", what="b")
    assert (client.limit_used, client.limit_max, client.calls) == (5, 100, 2)
