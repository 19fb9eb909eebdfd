"""Helpers shared by the Salesforce emulator's tests (imported by conftest and test modules)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from requests.adapters import HTTPAdapter

from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
)

API_VERSION = "61.0"


class ToEmulator(HTTPAdapter):
    """Sends every https:// request simple-salesforce builds to the emulator over plain HTTP."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = urlunsplit(("http", self.host, parts.path, parts.query, ""))
        return super().send(request, **kwargs)


class Control:
    """The emulator's control API, failing loudly on an unexpected status."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__emulator__", timeout=60)

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
        return self.post("/seed", {"preset": "npsp", "records": records, "seed": seed})["records"]


def password_token(base_url: str) -> dict[str, Any]:
    """A token response of the password grant, fetched directly."""
    response = httpx.post(
        f"{base_url}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
            "username": DEFAULT_USERNAME,
            "password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
