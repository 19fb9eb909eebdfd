"""What every API call passes before a route sees it: counting, latency, the rate limit,
authentication and scripted faults (the control API under ``/__emulator__/`` passes freely).

The network's latency comes first, then the rate limiter (a refused call does nothing and
is not admitted into the window), then the key or token check, then the faults of a bad
day, which therefore never carry out a write for a caller without credentials. The token
endpoint needs no key.
"""

from __future__ import annotations

import asyncio

from crmsync.emulators.common.faults import ASGIApp, Message, Receive, Scope, Send

from .errors import UNAUTHORIZED_MESSAGE
from .faults import RATE_LIMIT_MESSAGE, answer_fault, send_json
from .state import EmulatorState

API_PREFIX = "/v2/"
TOKEN_PATH = "/v2/oauth/token"  # noqa: S105 - a path, not a secret
CONTROL_PREFIX = "/__emulator__"


class ApiGate:
    """ASGI middleware applying the emulator's settings, limiter, faults and auth."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.stats.call(scope["method"], path)
        if state.settings.latency_ms:
            await asyncio.sleep(state.settings.latency_ms / 1000)
        retry_after = state.limiter.acquire()
        if retry_after is not None:
            state.stats.status(429)
            body = {"Message": RATE_LIMIT_MESSAGE.format(seconds=retry_after)}
            await send_json(send, 429, body, retry_after)
            return
        if path != TOKEN_PATH and not _allowed(state, scope):
            state.stats.status(401)
            await send_json(send, 401, {"Message": UNAUTHORIZED_MESSAGE})
            return
        fault_latency, rule = state.faults.select(scope["method"], path)
        if fault_latency:
            await asyncio.sleep(fault_latency / 1000)
        if rule is not None:
            # Counted first: a hung-up connection may end this task before the answer returns.
            state.stats.status(rule.answer_status())
            await answer_fault(rule, self.app, scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                state.stats.status(int(message["status"]))
            await send(message)

        await self.app(scope, receive, counting)


def _allowed(state: EmulatorState, scope: Scope) -> bool:
    return state.auth.allows(_header(scope, b"x-api-key"), _header(scope, b"authorization"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
