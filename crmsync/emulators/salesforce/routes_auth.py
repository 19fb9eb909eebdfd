"""Login endpoints: ``POST /services/oauth2/token`` and ``POST /services/Soap/u/{version}``."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from . import soap
from .auth import OAuthError
from .responses import json_response
from .state import EmulatorState

_XML = "text/xml;charset=UTF-8"


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


async def oauth_token(request: Request) -> Response:
    """The OAuth 2.0 token endpoint (form-encoded in, JSON out)."""
    state: EmulatorState = request.app.state.emulator
    if request.method != "POST":
        return json_response({"error": "invalid_request", "error_description": "must use HTTP POST"}, 400)
    # The body is application/x-www-form-urlencoded; the first value of a repeated key wins.
    fields: dict[str, str] = {}
    for key, value in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    # Salesforce also reads the parameters from the query string of a POST.
    for key, value in request.query_params.items():
        fields.setdefault(key, value)
    base_url = str(request.base_url).rstrip("/")
    try:
        body = state.auth.token(fields, _basic_credentials(request.headers.get("authorization")), base_url)
    except OAuthError as error:
        return json_response(error.body(), error.status)
    return json_response(
        body, headers={"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private"}
    )


async def soap_login(request: Request) -> Response:
    """The partner SOAP API, of which only ``login`` is emulated."""
    state: EmulatorState = request.app.state.emulator
    version = request.path_params["version"]
    try:
        login = soap.parse_login(await request.body())
    except ValueError as error:
        return Response(soap.fault("INVALID_REQUEST", str(error), login=False), 500, media_type=_XML)
    if login.operation != "login":
        message = f"the emulator answers only the login call of the SOAP API, not {login.operation}"
        return Response(soap.fault("UNSUPPORTED_API_CALL", message, login=False), 500, media_type=_XML)
    try:
        session = state.auth.soap_login(login.username or "", login.password or "")
    except OAuthError:
        message = "Invalid username, password, security token; or user locked out."
        return Response(soap.fault("INVALID_LOGIN", message), 500, media_type=_XML)
    base = state.auth.instance_url(str(request.base_url))
    org_id15 = state.org.org_id[:15]
    body = soap.login_response(
        session_id=session.token,
        server_url=f"{base}/services/Soap/u/{version}/{org_id15}",
        metadata_url=f"{base}/services/Soap/m/{version}/{org_id15}",
        user_id=state.org.user_id,
        org_id=state.org.org_id,
        username=state.auth.config.username,
        session_seconds=state.auth.config.session_seconds,
    )
    return Response(body, 200, media_type=_XML)
