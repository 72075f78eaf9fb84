"""Every webhook's stored secret, across tenants, for resealing them in batches.

Cross-tenant by nature (the operator reseals the whole database at once), on a
``Database.directory()`` connection; it reads and writes the ``secret`` column
only, and names no tenant.
"""

from __future__ import annotations

import sqlalchemy as sa

from scimgate.storage.tables import webhooks


class WebhookSecrets:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def page(self, after_id: str, limit: int) -> list[tuple[str, str]]:
        """``(webhook id, stored secret)`` for the next ``limit`` webhooks by id."""
        rows = self._conn.execute(
            sa.select(webhooks.c.id, webhooks.c.secret)
            .where(webhooks.c.id > after_id)
            .order_by(webhooks.c.id)
            .limit(limit)
        )
        return [(row.id, row.secret) for row in rows]

    def replace(self, webhook_id: str, stored: str, new: str) -> bool:
        """Swap ``stored`` for ``new``; False when the row changed (or went) meanwhile."""
        result = self._conn.execute(
            webhooks.update()
            .where(webhooks.c.id == webhook_id, webhooks.c.secret == stored)
            .values(secret=new)
        )
        return result.rowcount == 1
