"""Helpers shared by the Salesforce connector's tests (imported by conftest and test modules)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from crmsync.connectors.base import CrmRecord, Page
from crmsync.connectors.salesforce.auth import Credentials
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.emulators.salesforce.auth import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_SECURITY_TOKEN,
    DEFAULT_USERNAME,
)

TOKEN_PATH = "/services/oauth2/token"
# Every secret a test hands to crmsync; none may ever show in a message or a repr.
SECRETS = (DEFAULT_PASSWORD, DEFAULT_CLIENT_SECRET, DEFAULT_SECURITY_TOKEN)


def password_credentials(login_url: str, **changes: Any) -> Credentials:
    """The emulator's integration user with the username-password flow."""
    values: dict[str, Any] = {
        "flow": "password",
        "login_url": login_url,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
    }
    values.update(changes)
    return Credentials(**values)


@dataclass
class RecordingSleep:
    """A RetryPolicy ``sleep`` that records the delays and never waits."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class CountingTransport(httpx.HTTPTransport):
    """A real HTTP transport that remembers (method, path, status) of every exchange."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self.exchanges: list[tuple[str, str, int]] = []
        self.longest_url = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self._lock:
            self.exchanges.append((request.method, request.url.path, response.status_code))
            self.longest_url = max(self.longest_url, len(str(request.url)))
        return response

    def count(self, path_prefix: str, status: int | None = None) -> int:
        """Exchanges whose path starts with ``path_prefix`` (and had ``status``)."""
        with self._lock:
            return sum(
                1
                for _, path, code in self.exchanges
                if path.startswith(path_prefix) and (status is None or code == status)
            )

    @property
    def logins(self) -> int:
        """Requests that reached the OAuth token endpoint."""
        return self.count(TOKEN_PATH)


def mock_transport(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    """A MockTransport that answers the token endpoint itself and sends the rest to ``handler``."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            return httpx.Response(
                200, json={"access_token": "mock-session", "instance_url": "https://mock.my.salesforce.com"}
            )
        return handler(request)

    return httpx.MockTransport(route)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def rsa_key_pair(directory: Path, name: str = "jwt") -> tuple[Path, str]:
    """A new RSA private key written as PKCS#8 PEM, and the public key's PEM text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / f"{name}.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public.decode()


def records(pages: Iterable[Page]) -> list[CrmRecord]:
    """Every record of ``pages``, in order."""
    return [record for page in pages for record in page.records]


def ids(pages: Iterable[Page]) -> list[str]:
    """Every record id of ``pages``, in order."""
    return [record.id for record in records(pages)]


def assert_no_secret(*texts: str) -> None:
    """None of the test credentials' secrets appears in ``texts``."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret {secret[:3]}... leaked into {text!r}"


# Builds a client against the emulator (the make_client fixture's type).
MakeClient = Callable[..., SalesforceClient]
