"""The SOAP partner API's ``login`` call, as simple-salesforce uses it for username/password/token.

Only ``login`` is emulated. The answer's ``sessionId`` and ``serverUrl`` elements are in the
default namespace (clients look them up by bare tag name) and a failure is a SOAP fault whose
detail carries ``sf:exceptionCode`` / ``sf:exceptionMessage`` with that literal prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.parsers import expat
from xml.sax.saxutils import escape

_NS_SEPARATOR = "|"


@dataclass
class LoginRequest:
    """What a SOAP body asked for."""

    operation: str | None
    username: str | None
    password: str | None


def parse_login(body: bytes) -> LoginRequest:
    """The operation and credentials of a SOAP envelope; ValueError when it is not XML.

    expat (not ElementTree) because only three elements matter and expat rejects entity
    expansion attacks on its own (Python >= 3.7.1 ships expat with those protections).
    """
    parser = expat.ParserCreate(namespace_separator=_NS_SEPARATOR)
    stack: list[str] = []
    found: dict[str, str] = {}
    operation: list[str] = []

    def start(name: str, _attrs: dict[str, str]) -> None:
        local = name.rsplit(_NS_SEPARATOR, 1)[-1]
        if len(stack) == 2 and stack[-1] == "Body":
            operation.append(local)
        stack.append(local)

    def end(_name: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if len(stack) == 4 and stack[1] == "Body" and stack[-1] in ("username", "password"):
            found[stack[-1]] = found.get(stack[-1], "") + data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise ValueError(f"the request body is not well-formed XML: {exc}") from None
    return LoginRequest(operation[0] if operation else None, found.get("username"), found.get("password"))


def login_response(
    *,
    session_id: str,
    server_url: str,
    metadata_url: str,
    user_id: str,
    org_id: str,
    username: str,
    session_seconds: int,
) -> str:
    """The ``loginResponse`` envelope."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><loginResponse><result>"
        f"<metadataServerUrl>{escape(metadata_url)}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{escape(server_url)}</serverUrl>"
        f"<sessionId>{escape(session_id)}</sessionId>"
        f"<userId>{user_id}</userId>"
        "<userInfo>"
        "<accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
        "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
        "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>"
        "<orgHasPersonAccounts>false</orgHasPersonAccounts>"
        f"<organizationId>{org_id}</organizationId>"
        "<organizationMultiCurrency>false</organizationMultiCurrency>"
        "<organizationName>NPSP Emulator</organizationName>"
        '<profileId>00eRO0000000001AAA</profileId><roleId xsi:nil="true"/>'
        f"<sessionSecondsValid>{session_seconds}</sessionSecondsValid>"
        f'<userDefaultCurrencyIsoCode xsi:nil="true"/><userEmail>{escape(username)}</userEmail>'
        "<userFullName>Integration Admin</userFullName>"
        f"<userId>{user_id}</userId><userLanguage>en_US</userLanguage><userLocale>en_US</userLocale>"
        f"<userName>{escape(username)}</userName><userTimeZone>America/Los_Angeles</userTimeZone>"
        "<userType>Standard</userType><userUiSkin>Theme3</userUiSkin>"
        "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def fault(code: str, message: str, *, login: bool = True) -> str:
    """A SOAP fault envelope with ``sf:exceptionCode`` and ``sf:exceptionMessage``."""
    kind = "LoginFault" if login else "UnexpectedErrorFault"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        f'<detail><sf:{kind} xsi:type="sf:{kind}">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{kind}></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
