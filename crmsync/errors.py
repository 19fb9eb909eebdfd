"""Every exception crmsync raises, grouped by what the caller should do about it.

- ``FatalError``: stop the run; a person must fix something (credentials, configuration,
  profile, an object missing in the CRM). The message says what.
- ``TransientError``: retry later with backoff (5xx, timeouts, rate limits, lost connections).
- ``RecordError``: one record cannot be written or read; log it, go on with the others.

Connectors translate vendor errors into these at their boundary, so the engine never sees
an HTTP status or a vendor error code except inside ``details``.
"""

from __future__ import annotations

from typing import Any


class CrmsyncError(Exception):
    """Base of crmsync's own errors; ``str()`` is a one-line message for a person."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message


class FatalError(CrmsyncError):
    """The run cannot go on until a person changes something."""


class ConfigError(FatalError):
    """crmsync.toml, an environment variable or a command-line value is wrong."""


class ProfileError(FatalError):
    """A profile (object mappings) is invalid; the message names profile, object and field."""


class AuthError(FatalError):
    """The CRM refused the credentials (wrong password, revoked app, bad key)."""


class SchemaError(FatalError):
    """The CRM account lacks an object or field that the profile needs."""


class ProtocolError(FatalError):
    """The CRM answered something that is not its documented protocol (malformed body)."""


class QueryError(FatalError):
    """The CRM rejected a query crmsync built (bad filter value, unsupported field)."""


class RunBusyError(FatalError):
    """Another process is already running work for this connection."""


class TransientError(CrmsyncError):
    """A failure that a later retry may not hit (5xx, timeout, rate limit, lost connection)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        said: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after
        # What the CRM answered, without crmsync's advice: quoted when crmsync gives up.
        self.said = said or message


class UnreachableError(TransientError):
    """The CRM could not be reached at all (DNS, refused connection, TLS)."""


class RateLimitedError(TransientError):
    """The CRM said too many requests (HTTP 429, REQUEST_LIMIT_EXCEEDED)."""


class GaveUpError(TransientError):
    """A whole run retried a failing CRM for as long as its patience allowed; a later run may pass."""


class ReplayLostError(TransientError):
    """A stored event replay id is older than the CRM keeps events: catch up by polling."""


class RecordError(CrmsyncError):
    """One record failed; the others go on. ``code`` is the CRM's error code if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: tuple[str, ...] = (),
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.fields = fields
