"""Several tenants at once, for the operator's tenant list: tokens and recent requests;
and for the worker's connection check, which tenants to look at.

Cross-tenant on purpose: the list shows every tenant's provisioning state,
and reading it through one repository per tenant would cost a transaction and
a few statements per tenant instead of three statements in all. The tenant
ids come from the tenant registry (the tenants the signed-in admin may
manage), never from a request; one tenant's own status page reads through
its repository instead. ``connections_to_check`` gives the worker the few
tenants whose connection may have changed state, from one statement over the
last minutes of the log, so the check costs nothing for quiet tenants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from scimgate.model.entities import ScimToken
from scimgate.storage.audit import FAILING
from scimgate.storage.database import Database
from scimgate.storage.directory import token_from_row
from scimgate.storage.tables import audit_log, connection_states, scim_tokens, tenants


@dataclass(frozen=True, slots=True)
class TenantActivity:
    """What a tenant's provisioning state is computed from (see service/status.py)."""

    tokens: list[ScimToken] = field(default_factory=list)
    last_request_at: datetime | None = None
    failed_since: bool = False  # a request failed at or after the ``since`` asked for


# Audit ids follow occurrence order to within one batch interval per process
# (half a second); ids past the newest entry older than ``since`` minus this
# margin therefore hold every entry from ``since`` on.
_ID_ORDER_MARGIN = timedelta(hours=1)
_TENANTS_PER_QUERY = 500


def tenant_activity(
    db: Database, tenant_ids: Sequence[int], since: datetime
) -> dict[int, TenantActivity]:
    """Tokens, last request time and "failed since ``since``" for each of ``tenant_ids``.

    Three statements whatever the number of tenants: the tokens, then one row
    per tenant whose two correlated subqueries are index probes on the audit
    log's ``(tenant_id, id)`` index: the newest entry, and whether an entry at
    or after ``since`` failed. The second walks only the tenant's entries
    above an id floor found on the ``occurred_at`` index, so its cost is the
    tenant's last day of requests, not its whole retained log.
    """
    found: dict[int, TenantActivity] = {}
    with db.engine.connect() as conn:
        floor = conn.execute(
            sa.select(audit_log.c.id)
            .where(audit_log.c.occurred_at < since - _ID_ORDER_MARGIN)
            .order_by(audit_log.c.occurred_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        last_at = (
            sa.select(audit_log.c.occurred_at)
            .where(audit_log.c.tenant_id == tenants.c.id)
            .order_by(audit_log.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        failed = sa.exists().where(
            audit_log.c.tenant_id == tenants.c.id,
            audit_log.c.id > (floor or 0),
            audit_log.c.occurred_at >= since,
            audit_log.c.status >= 400,
        )
        for start in range(0, len(tenant_ids), _TENANTS_PER_QUERY):
            part = list(tenant_ids[start : start + _TENANTS_PER_QUERY])
            tokens: dict[int, list[ScimToken]] = defaultdict(list)
            for row in conn.execute(
                sa.select(scim_tokens)
                .where(scim_tokens.c.tenant_id.in_(part))
                .order_by(scim_tokens.c.created_at, scim_tokens.c.id)
            ):
                tokens[row.tenant_id].append(token_from_row(row))
            rows = conn.execute(
                sa.select(tenants.c.id, last_at.label("last_at"), failed.label("failed")).where(
                    tenants.c.id.in_(part)
                )
            )
            for row in rows:
                found[row.id] = TenantActivity(tokens[row.id], row.last_at, bool(row.failed))
    return found


def connections_to_check(db: Database, since: datetime, min_failures: int, limit: int) -> list[int]:
    """Tenants with at least ``min_failures`` failing requests since ``since`` (most
    failures first), then tenants whose connection is marked degraded; at most ``limit``."""
    with db.engine.connect() as conn:
        failing = sa.func.count().label("failing")
        # Grouped by an expression, not the column: SQLite would otherwise walk the
        # whole log in (tenant_id, id) order instead of the window on occurred_at.
        tenant_id = (audit_log.c.tenant_id + 0).label("tenant_id")
        busy = [
            row.tenant_id
            for row in conn.execute(
                sa.select(tenant_id, failing)
                .where(audit_log.c.occurred_at >= since, FAILING)
                .group_by(tenant_id)
                .having(failing >= min_failures)
                .order_by(failing.desc(), tenant_id)
                .limit(limit)
            )
        ]
        degraded = conn.execute(
            sa.select(connection_states.c.tenant_id)
            .where(connection_states.c.state == "degraded")
            .order_by(connection_states.c.changed_at)
            .limit(limit)
        ).scalars()
        chosen = dict.fromkeys(busy)
        chosen.update(dict.fromkeys(degraded))
    return list(chosen)[:limit]
