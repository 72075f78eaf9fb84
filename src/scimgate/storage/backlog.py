"""Read-only figures for monitoring: how far each webhook's delivery lags behind the outbox.

Cross-tenant on purpose: the metrics endpoint reports every webhook, the
global ones included, in one scrape, without a tenant to scope by. It reads
counts only, never an event's content.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from scimgate.storage.database import Database
from scimgate.storage.tables import events, tenants, webhooks


@dataclass(frozen=True, slots=True)
class Backlog:
    webhook_id: str
    tenant: str  # the tenant's slug, or "*" for a global webhook
    events: int


def webhook_backlog(db: Database) -> list[Backlog]:
    """Events past each enabled webhook's cursor.

    An upper bound: events of types the webhook does not subscribe to are
    counted until its cursor moves past them, which the worker does as it goes.
    """
    pending = (
        sa.select(sa.func.count())
        .where(
            events.c.seq > webhooks.c.cursor_seq,
            sa.or_(webhooks.c.tenant_id.is_(None), events.c.tenant_id == webhooks.c.tenant_id),
        )
        .scalar_subquery()
    )
    query = (
        sa.select(webhooks.c.id, tenants.c.slug, pending.label("pending"))
        .select_from(webhooks.outerjoin(tenants, tenants.c.id == webhooks.c.tenant_id))
        .where(webhooks.c.enabled)
    )
    with db.engine.connect() as conn:
        return [Backlog(row.id, row.slug or "*", int(row.pending)) for row in conn.execute(query)]
