"""``connection.degraded`` and ``connection.recovered``: one event each time a tenant's
SCIM connection starts failing for good, and one when it works again.

The worker runs ``check_connections`` with its housekeeping (about once a
minute). A connection is **degraded** when, over the last ``WINDOW``, at
least ``MIN_FAILURES`` requests failed and they were at least
``DEGRADED_RATIO`` of all its requests. A failing request is any error except
a 404 answering a GET, which is how IdPs look a resource up before creating
it. A degraded connection **recovers** when the window holds a successful
request and the failures fell below ``RECOVERED_RATIO``; a window with no
request at all changes nothing (an IdP that gave up is not a recovery).

The state lives in ``connection_states``, written in the transaction that
puts the event in the outbox, so ``connection.degraded`` is written once per
episode, whatever the number of workers, and webhooks deliver it like any
other event. Each check looks at a bounded number of tenants: those with
enough recent failures and those marked degraded, never every tenant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from scimgate.model.lifecycle import CONNECTION_DEGRADED, CONNECTION_RECOVERED
from scimgate.storage.database import Database
from scimgate.storage.events import NewEvent
from scimgate.storage.tenant_activity import connections_to_check

logger = logging.getLogger("scimgate.events")

WINDOW = timedelta(minutes=15)
MIN_FAILURES = 10
DEGRADED_RATIO = 0.5
RECOVERED_RATIO = 0.25
MAX_TENANTS_PER_CHECK = 200

DEGRADED = "degraded"
RECOVERED = "recovered"


@dataclass(frozen=True, slots=True)
class StateChange:
    tenant_id: int
    state: str  # DEGRADED or RECOVERED
    requests: int
    failures: int


def is_degraded(requests: int, failures: int) -> bool:
    return failures >= MIN_FAILURES and failures >= DEGRADED_RATIO * requests


def has_recovered(requests: int, failures: int) -> bool:
    return requests > failures and failures < RECOVERED_RATIO * requests


def check_connections(
    db: Database, now: datetime, *, limit: int = MAX_TENANTS_PER_CHECK
) -> list[StateChange]:
    """Write the events of the connections whose state changed; returns the changes."""
    changes = []
    for tenant_id in connections_to_check(db, now - WINDOW, MIN_FAILURES, limit):
        try:
            change = _check_one(db, tenant_id, now)
        except Exception:  # one tenant's trouble must not stop the others' checks
            logger.exception("connection check failed for tenant %d", tenant_id)
            continue
        if change is not None:
            changes.append(change)
    return changes


def _check_one(db: Database, tenant_id: int, now: datetime) -> StateChange | None:
    with db.tenant(tenant_id, write=True) as repo:
        current = repo.health.state(for_update=True)
        requests, failures = repo.audit.failing_counts_since(now - WINDOW)
        if current != DEGRADED and is_degraded(requests, failures):
            state, event_type = DEGRADED, CONNECTION_DEGRADED
        elif current == DEGRADED and has_recovered(requests, failures):
            state, event_type = RECOVERED, CONNECTION_RECOVERED
        else:
            return None
        repo.health.set_state(state, now, exists=current is not None)
        data = {
            "state": state,
            "windowMinutes": int(WINDOW.total_seconds() // 60),
            "requests": requests,
            "failures": failures,
            "failureRatio": round(failures / requests, 3) if requests else 0.0,
        }
        repo.events.add([NewEvent(event_type, "Connection", "scim", data)], now)
    logger.info(
        "tenant %d: SCIM connection %s (%d of %d failing)", tenant_id, state, failures, requests
    )
    return StateChange(tenant_id, state, requests, failures)
