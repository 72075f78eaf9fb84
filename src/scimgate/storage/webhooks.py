"""Webhooks of one tenant (or the global ones) and their delivery history.

Built by TenantRepository for a tenant's webhooks and by Directory for the
global ones (``tenant_id`` NULL, which receive every tenant's events). The
delivery machinery the worker runs across tenants is in ``storage.deliveries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.storage.tables import events, webhook_deliveries, webhooks

DELIVERY_STATUSES = ("delivered", "failed", "pending")


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as admins see it: everything but the signing secret."""

    id: str
    tenant_id: int | None
    url: str
    event_types: tuple[str, ...]  # empty: every type
    enabled: bool
    created_at: datetime
    cursor_seq: int
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    webhook_id: str
    event_seq: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    updated_at: datetime


_WEBHOOK_COLUMNS = (
    webhooks.c.id,
    webhooks.c.tenant_id,
    webhooks.c.url,
    webhooks.c.event_types,
    webhooks.c.enabled,
    webhooks.c.created_at,
    webhooks.c.cursor_seq,
    webhooks.c.attempts,
    webhooks.c.next_attempt_at,
    webhooks.c.last_error,
)

_DELIVERY_WITH_EVENT = sa.select(
    webhook_deliveries,
    events.c.id.label("event_id"),
    events.c.type.label("event_type"),
).join(events, events.c.seq == webhook_deliveries.c.event_seq)


def event_types_of(raw: dict[str, Any] | None) -> tuple[str, ...]:
    types = (raw or {}).get("types") or ()
    return tuple(str(t) for t in types)


def webhook_from_row(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        tenant_id=row.tenant_id,
        url=row.url,
        event_types=event_types_of(row.event_types),
        enabled=row.enabled,
        created_at=row.created_at,
        cursor_seq=row.cursor_seq,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
    )


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_seq=row.event_seq,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        updated_at=row.updated_at,
    )


class WebhookStore:
    """One tenant's webhooks (``tenant_id`` given) or the global ones (None)."""

    def __init__(self, conn: sa.Connection, tenant_id: int | None) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    @property
    def _mine(self) -> ColumnElement[bool]:
        # Built on use: a repository is made per transaction (see UserStore._mine).
        if self._tenant_id is None:
            return webhooks.c.tenant_id.is_(None)
        return webhooks.c.tenant_id == self._tenant_id

    def insert(
        self,
        *,
        webhook_id: str,
        url: str,
        sealed_secret: str,
        event_types: tuple[str, ...],
        now: datetime,
    ) -> Webhook:
        """Add a webhook that receives the events written from now on.

        ``sealed_secret`` is the signing secret as the service sealed it; it is
        stored as given and never read back here.
        """
        # Starting at the newest event means a new receiver is not flooded with history.
        latest = self._conn.execute(sa.select(sa.func.max(events.c.seq))).scalar_one_or_none()
        self._conn.execute(
            webhooks.insert().values(
                id=webhook_id,
                tenant_id=self._tenant_id,
                url=url,
                secret=sealed_secret,
                event_types={"types": list(event_types)},
                enabled=True,
                created_at=now,
                cursor_seq=latest or 0,
                attempts=0,
            )
        )
        found = self.get(webhook_id)
        assert found is not None
        return found

    def all(self) -> list[Webhook]:
        rows = self._conn.execute(
            sa.select(*_WEBHOOK_COLUMNS)
            .where(self._mine)
            .order_by(webhooks.c.created_at, webhooks.c.id)
        )
        return [webhook_from_row(row) for row in rows]

    def get(self, webhook_id: str) -> Webhook | None:
        row = self._conn.execute(
            sa.select(*_WEBHOOK_COLUMNS).where(self._mine, webhooks.c.id == webhook_id)
        ).first()
        return webhook_from_row(row) if row else None

    def delete(self, webhook_id: str) -> bool:
        result = self._conn.execute(
            webhooks.delete().where(self._mine, webhooks.c.id == webhook_id)
        )
        return bool(result.rowcount)

    def deliveries(self, webhook_id: str, status: str | None, limit: int) -> list[Delivery]:
        """The webhook's delivery records, newest first (none for another scope's webhook)."""
        query = _DELIVERY_WITH_EVENT.join(
            webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id
        ).where(self._mine, webhook_deliveries.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(webhook_deliveries.c.status == status)
        rows = self._conn.execute(query.order_by(webhook_deliveries.c.id.desc()).limit(limit))
        return [delivery_from_row(row) for row in rows]

    def event_seq(self, event_id: str) -> int | None:
        """The seq of an event this scope's webhooks may receive; None if there is none."""
        query = sa.select(events.c.seq).where(events.c.id == event_id)
        if self._tenant_id is not None:
            query = query.where(events.c.tenant_id == self._tenant_id)
        return self._conn.execute(query).scalar_one_or_none()

    def queue_redelivery(self, webhook_id: str, event_seq: int, now: datetime) -> Delivery | None:
        """Ask the worker to send one event again, outside the webhook's cursor.

        None when this scope has no such webhook.
        """
        if self.get(webhook_id) is None:
            return None
        new_id = self._conn.execute(
            webhook_deliveries.insert()
            .values(
                webhook_id=webhook_id,
                event_seq=event_seq,
                status="pending",
                attempts=0,
                last_status_code=None,
                last_error=None,
                updated_at=now,
            )
            .returning(webhook_deliveries.c.id)
        ).scalar_one()
        row = self._conn.execute(
            _DELIVERY_WITH_EVENT.where(webhook_deliveries.c.id == new_id)
        ).one()
        return delivery_from_row(row)
