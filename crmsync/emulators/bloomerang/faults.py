"""Scripted faults: what a bad day at Bloomerang looks like to an integration, on demand.

Rules match API requests (never the control API) as :mod:`crmsync.emulators.common.faults`
describes. Kinds: ``status`` (``{"Message": message}`` with the given status), ``rate_limit``
(429 with ``Retry-After``), both with ``Retry-After: retry_after`` when given; ``malformed``
(200 with the real answer's JSON cut in half); ``drop_connection`` (the connection closes,
nothing is carried out); ``drop_after_write`` (carried out and committed, then the
connection closes with no answer: the ambiguous failure); ``latency``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from crmsync.emulators.common import faults as common
from crmsync.emulators.common.faults import ASGIApp, Receive, Scope, Send

KINDS = ("status", "latency", "rate_limit", "malformed", "drop_connection", "drop_after_write")
RATE_LIMIT_MESSAGE = "API rate limit exceeded. Retry after {seconds} second(s)."
JSON_TYPE = b"application/json; charset=utf-8"


@dataclass
class FaultRule(common.FaultRule):
    """One scripted fault of Bloomerang's API and how often it matched and fired."""

    path_prefix: str = "/v2/"
    message: str = "The service is temporarily unavailable (emulated fault)."

    def answer_status(self) -> int:
        """The status the client sees (0: the connection closes without an answer)."""
        return {"status": self.status, "rate_limit": 429, "malformed": 200}.get(self.kind, 0)


class FaultInjector(common.FaultRules[FaultRule]):
    """The list of fault rules; thread-safe."""

    def __init__(self) -> None:
        super().__init__(partial(common.parse_rule, FaultRule, kinds=KINDS))


async def answer_fault(rule: FaultRule, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request as ``rule`` says."""
    if rule.kind == "status":
        await send_json(send, rule.status, {"Message": rule.message}, rule.retry_after)
    elif rule.kind == "rate_limit":
        seconds = rule.retry_after if rule.retry_after is not None else 1
        await send_json(send, 429, {"Message": RATE_LIMIT_MESSAGE.format(seconds=seconds)}, seconds)
    elif rule.kind == "malformed":
        await common.answer_malformed(
            app, scope, receive, send, empty=b'{"Total":0,"Results":[]}', content_type=JSON_TYPE
        )
    elif rule.kind == "drop_after_write":
        await common.drop_after_write(app, scope, receive, send)
    else:
        await common.drop(send)


async def send_json(send: Send, status: int, body: Any, retry_after: int | None = None) -> None:
    """A JSON answer, with ``Retry-After`` when given."""
    await common.send_bytes(send, status, common.json_bytes(body), JSON_TYPE, common.retry_after(retry_after))
