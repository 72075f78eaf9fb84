"""The outbox of one tenant: events are inserted in the transaction of the change they describe."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from scimgate.storage.driver import DriverSql, execute_many, is_sqlite, timestamp_param
from scimgate.storage.tables import events

_INSERT = DriverSql(
    "INSERT INTO events (id, tenant_id, type, occurred_at, resource_type, resource_id, data) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    resource_type: str
    resource_id: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    id: str
    tenant_id: int
    type: str
    occurred_at: datetime
    resource_type: str
    resource_id: str
    data: dict[str, Any]


def event_from_row(row: Any) -> StoredEvent:
    return StoredEvent(
        seq=row.seq,
        id=row.id,
        tenant_id=row.tenant_id,
        type=row.type,
        occurred_at=row.occurred_at,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        data=row.data,
    )


class EventStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def add(self, new: list[NewEvent], now: datetime) -> None:
        if not new:
            return
        # Straight to the driver's executemany: a rule change can emit 100k
        # events, and SQLAlchemy's per-row parameter processing would cost
        # more than the inserts themselves (and ~60 µs per write for one event).
        moment = timestamp_param(now, is_sqlite(self._conn))
        tenant_id = self._tenant_id
        execute_many(
            self._conn,
            _INSERT,
            [
                (
                    str(uuid.uuid4()),
                    tenant_id,
                    e.type,
                    moment,
                    e.resource_type,
                    e.resource_id,
                    orjson.dumps(e.data).decode(),
                )
                for e in new
            ],
        )

    def after(self, seq: int, limit: int, types: list[str] | None = None) -> list[StoredEvent]:
        """This tenant's events after ``seq``, oldest first."""
        query = sa.select(events).where(events.c.tenant_id == self._tenant_id, events.c.seq > seq)
        if types:
            query = query.where(events.c.type.in_(types))
        rows = self._conn.execute(query.order_by(events.c.seq).limit(limit))
        return [event_from_row(row) for row in rows]
