"""Bayeux (CometD) messages as Salesforce's Streaming API writes them: replies, advice, errors.

Shapes and texts follow Salesforce's documentation and captured traffic; the few the
emulator had to choose are marked *(emulator)*. Errors are ``"<code>::<message>"`` strings
in the ``error`` field of a reply with ``"successful": false``.
"""

from __future__ import annotations

from typing import Any

Message = dict[str, Any]

LONG_POLLING = "long-polling"
BAYEUX_VERSION = "1.0"
BROWSER_COOKIE = "BAYEUX_BROWSER"
ALL_CHANGES = "/data/ChangeEvents"
# What Salesforce's handshake reply says it supports (the replay extension and payload format).
SERVER_EXT = {"replay": True, "payload.format": True}

UNKNOWN_CLIENT = "403::Unknown client"
HANDSHAKE_DENIED = "403::Handshake denied"
AUTH_INVALID = "401::Authentication invalid"
AUTH_REQUIRED = "401::Request requires authentication"
EVENTS_LIMIT = "403::Organization total events daily limit exceeded"
CLIENTS_LIMIT = "403::Organization concurrent user limit exceeded"
NO_CHANNEL_NAME = "400::Channel name not specified"
NO_LEADING_SLASH = "400::Channel subscriptions must start with a leading '/'"
PUBLISH_DENIED = "403::Publishing to this channel is not supported"  # (emulator)
MALFORMED = "400::The request body must be a JSON array of Bayeux messages"  # (emulator)


def invalid_replay(replay: object) -> str:
    """The error for a replay id outside the retention window (Salesforce's text, two spaces and all)."""
    return (
        f"400::The replayId {{{replay}}} you provided was invalid.  Please provide a valid ID, "
        "-2 to replay all events, or -1 to replay only new events."
    )


def no_such_channel(channel: str) -> str:
    """The error for a channel that does not exist (or whose object is not enabled)."""
    return f"400::The channel you requested to subscribe to does not exist {{{channel}}}"


def invalid_connection_type(kind: object) -> str:
    """The error for a transport other than long polling."""
    return f"400::Invalid connection type {{{kind}}}"


def no_cookie(client_id: str) -> str:
    """The error for a request of a client that does not send back the browser cookie."""
    return f"400::Client {client_id} has established a session, but no {BROWSER_COOKIE} cookie present"


def unsupported_version(minimum: str, latest: str) -> str:
    """The error for a ``/cometd/XX.X`` version the emulator does not answer."""
    return (
        f"400::Unsupported API version. Only API versions '{minimum}' and later are supported. "
        f"URI format: '/cometd/{latest}'"
    )


def reply(message: Message, client_id: str | None = None, **fields: Any) -> Message:
    """A reply to ``message``: its channel and id, the client id when known, then ``fields``."""
    answer: Message = {}
    if client_id is not None:
        answer["clientId"] = client_id
    answer["channel"] = message.get("channel")
    if "id" in message:
        answer["id"] = message["id"]
    answer.update(fields)
    return answer


def failure(message: Message, error: str, client_id: str | None = None, **fields: Any) -> Message:
    """An unsuccessful reply carrying ``error`` (and, for subscriptions, the subscription)."""
    if message.get("channel") in ("/meta/subscribe", "/meta/unsubscribe") and "subscription" in message:
        fields = {"subscription": message["subscription"], **fields}
    return reply(message, client_id, **fields, error=error, successful=False)


def unknown_client(message: Message) -> Message:
    """The reply for a client id the server does not know (any more): handshake again."""
    answer = failure(message, UNKNOWN_CLIENT)
    return {"advice": {"interval": 0, "reconnect": "handshake"}, **answer}


def authentication_failure(message: Message) -> Message:
    """The reply to a message sent with a token that is no longer valid: log in again."""
    if message.get("channel") == "/meta/handshake":
        return {
            "ext": {"sfdc": {"failureReason": AUTH_INVALID}, **SERVER_EXT},
            "advice": {"reconnect": "none"},
            **failure(message, HANDSHAKE_DENIED),
        }
    client_id = message.get("clientId")
    answer = failure(message, AUTH_INVALID, client_id if isinstance(client_id, str) else None)
    return {**answer, "advice": {"reconnect": "none", "interval": 0}}


def handshake_denied(message: Message, reason: str) -> Message:
    """A refused handshake, the reason in ``ext.sfdc.failureReason``."""
    return {
        "ext": {"sfdc": {"failureReason": reason}, **SERVER_EXT},
        "advice": {"reconnect": "none"},
        **failure(message, HANDSHAKE_DENIED),
    }


def replay_value(value: Any) -> int | None:
    """A replay option as an integer (``-1``, ``-2`` or a replay id), or None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None
