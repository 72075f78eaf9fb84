"""One tenant's connection state: whether the connection check last found it degraded.

Built only by TenantRepository (``repo.health``), which supplies the tenant.
The state row and the event that announces a change are written in one
transaction; the row's primary key (and, once it exists, its row lock) keeps
two workers from announcing the same change twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from scimgate.storage.tables import connection_states


class HealthStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def state(self, *, for_update: bool = False) -> str | None:
        """``degraded``, ``recovered``, or None when never found degraded."""
        query = sa.select(connection_states.c.state).where(
            connection_states.c.tenant_id == self._tenant_id
        )
        if for_update:
            query = query.with_for_update()
        found: str | None = self._conn.execute(query).scalar_one_or_none()
        return found

    def set_state(self, state: str, now: datetime, *, exists: bool) -> None:
        if exists:
            self._conn.execute(
                connection_states.update()
                .where(connection_states.c.tenant_id == self._tenant_id)
                .values(state=state, changed_at=now)
            )
        else:
            self._conn.execute(
                connection_states.insert().values(
                    tenant_id=self._tenant_id, state=state, changed_at=now
                )
            )
