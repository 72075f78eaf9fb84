"""The outbox of one tenant: events are inserted in the transaction of the change they describe."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa

from scimgate.storage import staging
from scimgate.storage.driver import (
    DriverSql,
    execute,
    execute_many,
    is_sqlite,
    timestamp_param,
)
from scimgate.storage.tables import events

_INSERT_INTO = (
    "INSERT INTO events (id, tenant_id, type, occurred_at, resource_type, resource_id, data) "
    "VALUES "
)
_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
_INSERT = DriverSql(_INSERT_INTO + _ROW)

# Up to this many events go in one multi-row INSERT: what a SCIM write emits (a
# handful) then costs one statement instead of one per event. Larger batches (a
# rule change) keep executemany, which prepares its statement once.
_ONE_STATEMENT = 32


@cache
def _insert_rows(count: int) -> DriverSql:
    return DriverSql(_INSERT_INTO + ", ".join([_ROW] * count))


# The variant nibble of an RFC 9562 UUID is 10xx: any hex digit folded into 8-b.
_VARIANT = {f"{n:x}": f"{8 | (n & 3):x}" for n in range(16)}


def new_event_ids(count: int) -> list[str]:
    """``count`` UUIDv7 strings (RFC 9562 §5.7): 48 bits of Unix milliseconds, then random.

    Time-ordered ids land at the right edge of the unique index on ``events.id``
    instead of at random places in it, and are about ten times cheaper to make
    than ``str(uuid.uuid4())`` (bench/README.md, "Figures behind the code").
    """
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    head = f"{stamp[:8]}-{stamp[8:]}-7"
    noise = os.urandom(10 * count).hex()
    variant = _VARIANT
    return [
        f"{head}{noise[i : i + 3]}-{variant[noise[i + 3]]}{noise[i + 4 : i + 7]}-"
        f"{noise[i + 7 : i + 19]}"
        for i in range(0, 20 * count, 20)
    ]


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
        # more than the inserts themselves, even for one event per write.
        moment = timestamp_param(now, is_sqlite(self._conn))
        tenant_id = self._tenant_id
        dumps = orjson.dumps
        rows = [
            (
                event_id,
                tenant_id,
                e.type,
                moment,
                e.resource_type,
                e.resource_id,
                dumps(e.data).decode(),
            )
            for event_id, e in zip(new_event_ids(len(new)), new, strict=True)
        ]
        if len(rows) > _ONE_STATEMENT:
            execute_many(self._conn, _INSERT, rows)
            return
        # The rows' order is their ``seq`` order: both databases assign the
        # autoincrement key in the order of the VALUES list.
        execute(self._conn, _insert_rows(len(rows)), [v for row in rows for v in row])

    def add_staged(self, now: datetime) -> int:
        """The events of a staged recompute (``RecomputeStore.staged``); returns how many.

        Deactivations, then reactivations, then role changes, each by user id,
        as ``scimgate.service.lifecycle.recompute`` orders them for a few users.
        """
        stamp = f"{time.time_ns() // 1_000_000:012x}"
        params = {
            "tenant_id": self._tenant_id,
            "occurred_at": timestamp_param(now, is_sqlite(self._conn)),
            "head": f"{stamp[:8]}-{stamp[8:]}-7",
        }
        written = 0
        for statement in staging.staged_event_statements(self._conn):
            written += self._conn.execute(statement, params).rowcount
        return written

    def after(self, seq: int, limit: int, types: list[str] | None = None) -> list[StoredEvent]:
        """This tenant's events after ``seq``, oldest first."""
        query = sa.select(events).where(events.c.tenant_id == self._tenant_id, events.c.seq > seq)
        if types:
            query = query.where(events.c.type.in_(types))
        rows = self._conn.execute(query.order_by(events.c.seq).limit(limit))
        return [event_from_row(row) for row in rows]
