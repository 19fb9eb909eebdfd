"""How patient a whole run is with a CRM that fails for a while (see crmsync.connectors.retry).

Commands that start a run (Sync All, fetches, syncing a company, reconcile, the daily push,
push-model, the sweep, stamp-ids) retry what the CRM reports as passing for the connection's
``patience_minutes`` (10 by default), and show each wait. The pusher, Resync and the polls
of ``crmsync run`` keep the short budget: they try again on their own within minutes, and a
push must not hold its records for minutes inside one call.
"""

from __future__ import annotations

from dataclasses import replace

from crmsync.connectors.retry import RetryPolicy, Wait
from crmsync.engine.progress import Observer
from crmsync.store.tenancy import ConnectionRow

DEFAULT_MINUTES = 10.0

# What comes after giving up, as the message says it.
RESUMES = "the next run resumes from the last checkpoint"
FULL_FETCH = "a Fetch resumes from the last checkpoint, a Full Fetch reads everything again"
RECONCILE = "the next reconcile lists every id again"
COMPANY = "syncing the company again reads it afresh"
PUSHES = "the next run pushes what this one did not"
STAMPS = "the next run stamps the records still without a platform id"


def run_policy(
    row: ConnectionRow, given: RetryPolicy | None, *, afterwards: str, observer: Observer | None
) -> RetryPolicy:
    """The retry policy of a run on ``row``: ``given`` (tests inject one) or the connection's
    patience, saying ``afterwards`` when it gives up and showing each wait to ``observer``."""
    minutes = float(row.settings.get("patience_minutes", DEFAULT_MINUTES))
    policy = given if given is not None else RetryPolicy.patient(minutes)
    earlier = policy.on_wait

    def announce(wait: Wait) -> None:
        if observer is not None:
            observer.waiting(str(wait))
        if earlier is not None:
            earlier(wait)

    return replace(policy, afterwards=afterwards, on_wait=announce)
