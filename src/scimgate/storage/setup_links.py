"""One tenant's setup links, their uses, and the live checks read from its audit log and outbox.

Built only by TenantRepository (``repo.setup_links``), which supplies the tenant.
Opening a link by its secret happens before the tenant is known; that lookup
is the directory's (``Directory.find_setup_link``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.model.entities import SetupLink
from scimgate.model.lifecycle import GROUP_CREATED, GROUP_MEMBER_ADDED, USER_CREATED
from scimgate.storage.tables import audit_log, events, setup_link_uses, setup_links

_MAX_USER_AGENT = 300
_MAX_CLIENT_IP = 64


@dataclass(frozen=True, slots=True)
class SetupLinkUse:
    occurred_at: datetime
    action: str
    client_ip: str
    user_agent: str


def link_from_row(row: Any) -> SetupLink:
    return SetupLink(
        id=row.id,
        tenant_id=row.tenant_id,
        prefix=row.prefix,
        scopes=tuple(s for s in row.scopes.split(",") if s),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        completed_at=row.completed_at,
        last_used_at=row.last_used_at,
    )


def _seen(condition: sa.ColumnElement[bool], name: str) -> sa.Label[Any]:
    return sa.func.max(sa.case((condition, 1), else_=0)).label(name)


# What each live check looks for since the link was created (see service/setup_links.py):
# in the audit log, what only the requests show (a token accepted, an SSO sign-in);
# in the outbox, what the changes wrote (one event per created user, group, membership).
_AUDIT_CHECKS = (
    ("token_accepted", audit_log.c.token_id.is_not(None)),
    ("sso_signin", sa.and_(audit_log.c.resource_type == "SignIn", audit_log.c.status == 200)),
)
_EVENT_CHECKS = (
    ("user_created", USER_CREATED),
    ("group_pushed", GROUP_CREATED),
    ("member_added", GROUP_MEMBER_ADDED),
)


class SetupLinkStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def _mine(self, link_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(setup_links.c.tenant_id == self._tenant_id, setup_links.c.id == link_id)

    def insert(self, link: SetupLink, secret_hash: str) -> None:
        self._conn.execute(
            setup_links.insert().values(
                id=link.id,
                tenant_id=self._tenant_id,
                prefix=link.prefix,
                secret_hash=secret_hash,
                scopes=",".join(link.scopes),
                created_at=link.created_at,
                expires_at=link.expires_at,
                revoked_at=None,
                completed_at=None,
                last_used_at=None,
            )
        )

    def all(self) -> list[SetupLink]:
        rows = self._conn.execute(
            sa.select(setup_links)
            .where(setup_links.c.tenant_id == self._tenant_id)
            .order_by(setup_links.c.created_at.desc(), setup_links.c.id)
        )
        return [link_from_row(row) for row in rows]

    def get(self, link_id: str) -> SetupLink | None:
        row = self._conn.execute(sa.select(setup_links).where(self._mine(link_id))).first()
        return link_from_row(row) if row else None

    def revoke(self, link_id: str, now: datetime) -> SetupLink | None:
        """Mark a link revoked (idempotent); None when this tenant has no such link."""
        self._conn.execute(
            setup_links.update()
            .where(self._mine(link_id), setup_links.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self.get(link_id)

    def complete(self, link_id: str, now: datetime) -> bool:
        """Mark a link done; True only for the one call that did it."""
        result = self._conn.execute(
            setup_links.update()
            .where(self._mine(link_id), setup_links.c.completed_at.is_(None))
            .values(completed_at=now)
        )
        return result.rowcount == 1

    def record_use(
        self, link_id: str, action: str, client_ip: str, user_agent: str, now: datetime
    ) -> None:
        self._conn.execute(
            setup_link_uses.insert().values(
                link_id=link_id,
                tenant_id=self._tenant_id,
                occurred_at=now,
                action=action,
                client_ip=client_ip[:_MAX_CLIENT_IP],
                user_agent=user_agent[:_MAX_USER_AGENT],
            )
        )
        self._conn.execute(setup_links.update().where(self._mine(link_id)).values(last_used_at=now))

    def uses(self, link_id: str) -> list[SetupLinkUse]:
        rows = self._conn.execute(
            sa.select(setup_link_uses)
            .where(
                setup_link_uses.c.tenant_id == self._tenant_id,
                setup_link_uses.c.link_id == link_id,
            )
            .order_by(setup_link_uses.c.id)
        )
        return [
            SetupLinkUse(
                occurred_at=row.occurred_at,
                action=row.action,
                client_ip=row.client_ip,
                user_agent=row.user_agent,
            )
            for row in rows
        ]

    def progress(self, since: datetime) -> dict[str, bool]:
        """Which live checks have passed since ``since``, by check key."""
        requests = sa.select(*(_seen(condition, key) for key, condition in _AUDIT_CHECKS)).where(
            audit_log.c.tenant_id == self._tenant_id, audit_log.c.occurred_at >= since
        )
        changes = sa.select(
            *(_seen(events.c.type == kind, key) for key, kind in _EVENT_CHECKS)
        ).where(events.c.tenant_id == self._tenant_id, events.c.occurred_at >= since)
        seen = dict(self._conn.execute(requests).one()._mapping)
        seen.update(self._conn.execute(changes).one()._mapping)
        return {key: bool(value) for key, value in seen.items()}
