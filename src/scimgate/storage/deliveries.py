"""What the delivery worker reads and writes (reached through Directory).

Cross-tenant on purpose: one worker serves every tenant's webhooks and the
global ones, and the tenant each delivery reads events for is the one its
webhook row belongs to, never one a request names.

Two rules keep delivery correct with several workers and concurrent writers:

* **Leases.** A worker claims a webhook with a conditional UPDATE that only
  succeeds when no live lease exists, and every later write of that worker
  carries ``lease_owner = me``: once another worker has taken over, the old
  one's writes match no row, so it cannot move a cursor it no longer owns.
* **The settled horizon.** ``events.seq`` is handed out when a row is
  inserted, not when its transaction commits. On PostgreSQL two SCIM
  transactions can commit out of order, so seq 11 may be visible while seq
  10 is still in flight; a cursor moved to 11 would skip 10 forever. Workers
  deliver only up to the *settled* seq: the highest one below which every seq
  is visible, or a hole older than ``gap_seconds`` (a rolled-back
  transaction, which leaves a hole for good). SQLite has one writer at a
  time, so its holes never arise and the rule costs nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.storage.events import StoredEvent, event_from_row
from scimgate.storage.tables import events, tenants, webhook_deliveries, webhooks
from scimgate.storage.webhooks import event_types_of


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enabled webhook that is out of backoff and not leased."""

    id: str
    tenant_id: int | None
    event_types: tuple[str, ...]
    cursor_seq: int
    has_pending: bool


@dataclass(frozen=True, slots=True)
class Target:
    """A claimed webhook: what the worker needs to sign and send."""

    id: str
    tenant_id: int | None
    url: str
    secret: str  # as stored: sealed (service.sealing), or a plaintext from before sealing
    event_types: tuple[str, ...]
    cursor_seq: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Redelivery:
    delivery_id: int
    attempts: int
    event: StoredEvent


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(webhooks.c.lease_until.is_(None), webhooks.c.lease_until < now)


def _out_of_backoff(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(webhooks.c.next_attempt_at.is_(None), webhooks.c.next_attempt_at <= now)


def _events_for(
    tenant_id: int | None, event_types: tuple[str, ...], after: int, through: int
) -> sa.Select[Any]:
    query = sa.select(events).where(events.c.seq > after, events.c.seq <= through)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    if event_types:
        query = query.where(events.c.type.in_(event_types))
    return query.order_by(events.c.seq)


class DeliveryQueue:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # -- what is there to do -------------------------------------------------

    def settled_through(self, after: int, stale_before: datetime, limit: int) -> tuple[int, bool]:
        """Advance a settled seq ``after`` over up to ``limit`` events.

        Returns the new settled seq and whether to call again (the page was
        full and no young hole stopped it).
        """
        rows = self._conn.execute(
            sa.select(events.c.seq, events.c.occurred_at)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        ).all()
        for seq, occurred_at in rows:
            # A hole below a recent event may be a transaction that has not committed yet.
            if seq != after + 1 and occurred_at >= stale_before:
                return after, False
            after = seq
        return after, len(rows) == limit

    def min_cursor(self) -> int | None:
        return self._conn.execute(
            sa.select(sa.func.min(webhooks.c.cursor_seq)).where(webhooks.c.enabled)
        ).scalar_one_or_none()

    def candidates(self, now: datetime) -> list[Candidate]:
        has_pending = (
            sa.select(webhook_deliveries.c.id)
            .where(
                webhook_deliveries.c.webhook_id == webhooks.c.id,
                webhook_deliveries.c.status == "pending",
            )
            .exists()
        )
        rows = self._conn.execute(
            sa.select(
                webhooks.c.id,
                webhooks.c.tenant_id,
                webhooks.c.event_types,
                webhooks.c.cursor_seq,
                has_pending.label("has_pending"),
            )
            .where(webhooks.c.enabled, _out_of_backoff(now), _lease_free(now))
            .order_by(webhooks.c.id)
        )
        return [
            Candidate(
                id=row.id,
                tenant_id=row.tenant_id,
                event_types=event_types_of(row.event_types),
                cursor_seq=row.cursor_seq,
                has_pending=bool(row.has_pending),
            )
            for row in rows
        ]

    def has_events(self, candidate: Candidate, through: int) -> bool:
        query = _events_for(
            candidate.tenant_id, candidate.event_types, candidate.cursor_seq, through
        ).limit(1)
        return self._conn.execute(query).first() is not None

    def skip_idle(self, cursors: list[tuple[str, int]], to_seq: int, now: datetime) -> None:
        """Move unleased cursors over events (up to ``to_seq``) none of which they receive."""
        for webhook_id, seen_cursor in cursors:
            self._conn.execute(
                webhooks.update()
                .where(
                    webhooks.c.id == webhook_id,
                    # Cursors only move forward; one that moved since we looked
                    # moved over events we already know are not for it.
                    webhooks.c.cursor_seq >= seen_cursor,
                    webhooks.c.cursor_seq < to_seq,
                    _lease_free(now),
                )
                .values(cursor_seq=to_seq)
            )

    # -- leases ----------------------------------------------------------------

    def claim(self, webhook_id: str, owner: str, now: datetime, until: datetime) -> Target | None:
        """Take the webhook's lease; None when another worker holds it or it is not due."""
        result = self._conn.execute(
            webhooks.update()
            .where(
                webhooks.c.id == webhook_id,
                webhooks.c.enabled,
                _out_of_backoff(now),
                _lease_free(now),
            )
            .values(lease_owner=owner, lease_until=until)
        )
        if result.rowcount != 1:
            return None
        row = self._conn.execute(
            sa.select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
        ).one()
        return Target(
            id=row.id,
            tenant_id=row.tenant_id,
            url=row.url,
            secret=row.secret,
            event_types=event_types_of(row.event_types),
            cursor_seq=row.cursor_seq,
            attempts=row.attempts,
        )

    def extend(self, webhook_id: str, owner: str, until: datetime) -> bool:
        """Push the lease out; False when it was lost to another worker."""
        result = self._conn.execute(
            webhooks.update()
            .where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
            .values(lease_until=until)
        )
        return result.rowcount == 1

    def release(self, webhook_id: str, owner: str) -> None:
        self._conn.execute(
            webhooks.update()
            .where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )

    # -- progress (every write requires the lease) ---------------------------

    def next_events(
        self, target: Target, after: int, through: int, limit: int
    ) -> list[StoredEvent]:
        query = _events_for(target.tenant_id, target.event_types, after, through).limit(limit)
        return [event_from_row(row) for row in self._conn.execute(query)]

    def advance(self, webhook_id: str, owner: str, to_seq: int, until: datetime) -> bool:
        """Move the cursor to ``to_seq`` (done with everything up to it) and reset the retries."""
        result = self._conn.execute(
            webhooks.update()
            .where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
            .values(
                cursor_seq=to_seq,
                attempts=0,
                next_attempt_at=None,
                last_error=None,
                lease_until=until,
            )
        )
        return result.rowcount == 1

    def postpone(
        self, webhook_id: str, owner: str, attempts: int, next_attempt_at: datetime, error: str
    ) -> bool:
        """Record a failed attempt; the webhook is not due again before ``next_attempt_at``."""
        result = self._conn.execute(
            webhooks.update()
            .where(webhooks.c.id == webhook_id, webhooks.c.lease_owner == owner)
            .values(attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:500])
        )
        return result.rowcount == 1

    def record(
        self,
        webhook_id: str,
        event_seq: int,
        status: str,
        attempts: int,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None:
        """Keep what finally happened to one event at one webhook."""
        self._conn.execute(
            webhook_deliveries.insert().values(
                webhook_id=webhook_id,
                event_seq=event_seq,
                status=status,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error[:500] if error else None,
                updated_at=now,
            )
        )

    # -- redeliveries ------------------------------------------------------------

    def pending(self, webhook_id: str, limit: int) -> list[Redelivery]:
        rows = self._conn.execute(
            sa.select(
                events,
                webhook_deliveries.c.id.label("delivery_id"),
                webhook_deliveries.c.attempts.label("delivery_attempts"),
            )
            .join(events, events.c.seq == webhook_deliveries.c.event_seq)
            .where(
                webhook_deliveries.c.webhook_id == webhook_id,
                webhook_deliveries.c.status == "pending",
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        return [
            Redelivery(row.delivery_id, row.delivery_attempts, event_from_row(row)) for row in rows
        ]

    def update_redelivery(
        self,
        delivery_id: int,
        status: str,
        attempts: int,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None:
        self._conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.status == "pending")
            .values(
                status=status,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error[:500] if error else None,
                updated_at=now,
            )
        )

    # -- payloads ------------------------------------------------------------------

    def tenant_slugs(self) -> dict[int, str]:
        return {
            row.id: row.slug for row in self._conn.execute(sa.select(tenants.c.id, tenants.c.slug))
        }
