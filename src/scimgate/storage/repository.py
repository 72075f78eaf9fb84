"""TenantRepository: every read and write of one tenant's rows.

Every statement that reads or writes one tenant's rows for that tenant is
built by a store that this class constructs for it (``users``, ``groups``,
``roles``, ``events``, ``webhooks``, ``app``, ``audit``, ``sso``, and the tokens
below), and carries that tenant's predicate, so code above it cannot reach another
tenant's data by passing a foreign id. Those stores work on the connection
they are given and never open the engine themselves.

The cross-tenant modules say so in their docstrings and never read a
tenant's rows for a tenant id that a request names: ``directory`` (with
``api_keys``, ``deliveries`` and the global webhooks, on a
``Database.directory()`` transaction) holds the tenant registry and the
authentication lookups; ``admins``, ``audit_writer``, ``backlog`` and
``tenant_activity`` open the engine themselves for console accounts, the
audit recorder and retention, monitoring, and the operator's tenant list.
``tests/storage/test_scoping.py`` keeps it that way.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

import sqlalchemy as sa

from scimgate.model.entities import ScimToken
from scimgate.storage import staging
from scimgate.storage.app_queries import AppQueries
from scimgate.storage.audit import AuditStore
from scimgate.storage.directory import token_from_row
from scimgate.storage.events import EventStore
from scimgate.storage.groups import GroupStore
from scimgate.storage.recompute import RecomputeStore
from scimgate.storage.roles import RoleStore
from scimgate.storage.sso import SsoStore
from scimgate.storage.tables import scim_tokens
from scimgate.storage.users import UserStore
from scimgate.storage.webhooks import WebhookStore


class TenantRepository:
    """One tenant's data in one transaction: tokens here, users and groups in their stores."""

    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self.tenant_id = tenant_id
        self.users = UserStore(conn, tenant_id)
        self.groups = GroupStore(conn, tenant_id)
        self.roles = RoleStore(conn, tenant_id)
        self.recompute = RecomputeStore(conn, tenant_id)
        self.events = EventStore(conn, tenant_id)
        self.webhooks = WebhookStore(conn, tenant_id)
        self.app = AppQueries(conn, tenant_id)
        self.audit = AuditStore(conn, tenant_id)
        self.sso = SsoStore(conn, tenant_id)

    def staging(self) -> AbstractContextManager[None]:
        """Scratch space for a staged recompute (``RecomputeStore.staged``, then
        ``EventStore.add_staged``), in this transaction."""
        return staging.session(self._conn)

    # -- SCIM tokens -------------------------------------------------------

    def insert_token(self, token: ScimToken, secret_hash: str) -> None:
        self._conn.execute(
            scim_tokens.insert().values(
                id=token.id,
                tenant_id=self.tenant_id,
                name=token.name,
                prefix=token.prefix,
                secret_hash=secret_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                last_used_at=None,
                revoked_at=None,
            )
        )

    def list_tokens(self) -> list[ScimToken]:
        rows = self._conn.execute(
            sa.select(scim_tokens)
            .where(scim_tokens.c.tenant_id == self.tenant_id)
            .order_by(scim_tokens.c.created_at, scim_tokens.c.id)
        )
        return [token_from_row(row) for row in rows]

    def revoke_token(self, token_id: str, now: datetime) -> ScimToken | None:
        """Mark a token revoked (idempotent); None when this tenant has no such token."""
        self._conn.execute(
            scim_tokens.update()
            .where(
                scim_tokens.c.tenant_id == self.tenant_id,
                scim_tokens.c.id == token_id,
                scim_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        row = self._conn.execute(
            sa.select(scim_tokens).where(
                scim_tokens.c.tenant_id == self.tenant_id, scim_tokens.c.id == token_id
            )
        ).first()
        return token_from_row(row) if row else None
