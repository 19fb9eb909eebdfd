"""Helpers shared by the Bloomerang emulator's tests: one client that validates every answer
against Bloomerang's published OpenAPI document, and a control-API client."""

from __future__ import annotations

import copy
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from werkzeug.datastructures import Headers, ImmutableMultiDict

from crmsync.emulators.bloomerang import DEFAULT_API_KEY

SPEC_PATH = Path(
    os.environ.get("CRMSYNC_BLOOMERANG_OPENAPI", "/work/shared/reference/bloomerang-v2-openapi.json")
)
# The document's server is https://api.bloomerang.co/v2: requests are matched as if sent there.
DOCUMENT_HOST = "https://api.bloomerang.co"
# The document defines no error answers; the emulator's are {"Message": "..."} (CONTROL_API.md).
ERROR_SCHEMA = {
    "type": "object",
    "required": ["Message"],
    "additionalProperties": False,
    "properties": {"Message": {"type": "string", "minLength": 1}},
}
TOKEN_SCHEMA = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "refresh_token"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"},
        "refresh_token": {"type": "string"},
    },
}
OAUTH_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def load_document() -> dict[str, Any]:
    """The published document, with its one self-contradiction resolved (see below)."""
    if not SPEC_PATH.exists():
        raise RuntimeError(
            f"Bloomerang's OpenAPI document is not at {SPEC_PATH}; set CRMSYNC_BLOOMERANG_OPENAPI to its path"
        )
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    _discriminate_custom_values(document)
    return document


def _discriminate_custom_values(node: Any) -> None:
    """Make the custom value ``oneOf`` alternatives tell themselves apart.

    The document models a custom value as ``oneOf`` {FieldId, Value} / {FieldId, Values}
    (and, in requests, {FieldId, Value} / {FieldId, ValueId} / {FieldId, ValueIds}) with no
    required properties, so every object matches every alternative and ``oneOf`` can never
    hold: no answer with a custom value could validate. Each alternative is given its own
    property as required, which is what the alternatives mean; nothing else is changed.
    """
    if isinstance(node, dict):
        alternatives = node.get("oneOf")
        if (
            isinstance(alternatives, list)
            and len(alternatives) > 1
            and all(isinstance(a, dict) and set(a) == {"properties"} for a in alternatives)
            and all("FieldId" in a["properties"] for a in alternatives)
        ):
            for alternative in alternatives:
                alternative["required"] = sorted(set(alternative["properties"]) - {"FieldId"})
        for value in node.values():
            _discriminate_custom_values(value)
    elif isinstance(node, list):
        for value in node:
            _discriminate_custom_values(value)


class _Request:
    """An httpx request as openapi-core sees it, as if sent to the document's server."""

    def __init__(self, request: httpx.Request) -> None:
        self.host_url = DOCUMENT_HOST
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "application/json")
        query = [(key, value) for key, value in request.url.params.multi_items()]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(list(request.headers.items()))
        )


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.data = response.content
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))


@dataclass
class Validator:
    """Checks answers (and, for successful calls, requests) against the document."""

    openapi: OpenAPI
    operations: list[tuple[re.Pattern[str], str, dict[str, Any]]]
    checked: dict[str, int] = field(default_factory=dict)

    @classmethod
    def create(cls) -> Validator:
        """Load the document once."""
        document = load_document()
        operations = []
        for path, item in document["paths"].items():
            pattern = re.compile("^/v2" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method, operation in item.items():
                if method != "parameters":
                    operations.append((pattern, method, operation))
        # The transaction and designation lists are documented as text/json: JSON all the same.
        config = Config(extra_media_type_deserializers={"text/json": json_loads})
        return cls(OpenAPI.from_dict(copy.deepcopy(document), config=config), operations)

    def documented_statuses(self, method: str, path: str) -> set[str] | None:
        """The statuses the document defines for a call, or None when it has no such call."""
        for pattern, verb, operation in self.operations:
            if verb == method.lower() and pattern.match(path):
                return set(operation["responses"])
        return None

    def check(self, response: httpx.Response) -> None:
        """Validate one answer; raises AssertionError with the reasons."""
        response.read()
        request = response.request
        path = request.url.path
        status = response.status_code
        if path == "/v2/oauth/token":
            schema = TOKEN_SCHEMA if status == 200 else OAUTH_ERROR_SCHEMA
            jsonschema.validate(response.json(), schema)
            self._count("token")
            return
        statuses = self.documented_statuses(request.method, path)
        if statuses is None or str(status) not in statuses:
            assert status >= 400, (
                f"{request.method} {path} answered {status}, which the document does not define"
            )
            jsonschema.validate(response.json(), ERROR_SCHEMA)
            self._count("error")
            return
        try:
            self.openapi.validate_response(_Request(request), _Response(response))
        except Exception as exc:
            raise AssertionError(
                f"{request.method} {request.url}: {status} answer is invalid: {_reasons(exc)}"
            ) from exc
        if request.extensions.get("validate_request", True):
            try:
                with warnings.catch_warnings():
                    # openapi-core checks the API key scheme and cannot check OAuth 2; fine.
                    warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
                    self.openapi.validate_request(_Request(request))
            except Exception as exc:
                raise AssertionError(
                    f"{request.method} {request.url}: the request is invalid: {_reasons(exc)}"
                ) from exc
        self._count("response")

    def _count(self, what: str) -> None:
        self.checked[what] = self.checked.get(what, 0) + 1


def _reasons(exc: BaseException) -> str:
    parts = [str(exc)[:300]]
    cause = exc.__cause__
    for error in getattr(cause, "schema_errors", ()) or ():
        parts.append(f"{list(error.absolute_path)}: {error.message[:300]}")
    return "; ".join(parts)


def api_client(base_url: str, validator: Validator, **headers: str) -> httpx.Client:
    """A client of the API (``/v2``) whose every answer is validated; key auth by default."""
    default = {"X-API-KEY": DEFAULT_API_KEY} if not headers else {}
    return httpx.Client(
        base_url=f"{base_url}/v2",
        headers={**default, **{name.replace("_", "-"): value for name, value in headers.items()}},
        event_hooks={"response": [validator.check]},
        timeout=30,
    )


LENIENT = {"validate_request": False}


class Control:
    """The emulator's control API, failing loudly on an unexpected status."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__emulator__", timeout=120)

    def call(self, method: str, path: str, body: Any = None, expect: int | None = 200) -> Any:
        response = self.http.request(method, path, json=body)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response.json()

    def post(self, path: str, body: Any = None, expect: int | None = 200) -> Any:
        return self.call("POST", path, body if body is not None else {}, expect)

    def get(self, path: str, expect: int | None = 200) -> Any:
        return self.call("GET", path, None, expect)

    def seed(self, records: int, seed: int = 1) -> dict[str, int]:
        counts: dict[str, int] = self.post(
            "/seed", {"preset": "bloomerang", "records": records, "seed": seed}
        )["records"]
        return counts

    def create(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.post(f"/records/{kind}", {"fields": fields}, expect=201)
        return created


def person(
    first: str = "Ada", last: str = "Lovelace", email: str | None = "ada@example.org", **more: Any
) -> dict[str, Any]:
    """A create body for an individual."""
    body: dict[str, Any] = {"Type": "Individual", "FirstName": first, "LastName": last, **more}
    if email is not None:
        body["PrimaryEmail"] = {"Type": "Home", "Value": email}
    return body


def donation(account_id: int, fund_id: int, amount: float = 50.0, **more: Any) -> dict[str, Any]:
    """A create body for a one-designation donation."""
    return {
        "AccountId": account_id,
        "Date": "2024-03-01",
        "Amount": amount,
        "Method": "Check",
        "Designations": [{"Type": "Donation", "Amount": amount, "FundId": fund_id, **more}],
    }
