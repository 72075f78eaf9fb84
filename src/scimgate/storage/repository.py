"""TenantRepository: every read and write of one tenant's rows.

Every statement that reads or writes one tenant's rows for that tenant is
built by a store that this class constructs for it (``users``, ``groups``,
``roles``, ``events``, ``webhooks``, ``app``, ``audit``, ``setup_links``, ``health``,
``sso``, and the tokens
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
from functools import cached_property

import sqlalchemy as sa

from scimgate.model.entities import ScimToken
from scimgate.storage import staging
from scimgate.storage.app_queries import AppQueries
from scimgate.storage.audit import AuditStore
from scimgate.storage.directory import (
    FoundToken,
    bump_credentials_generation,
    find_token,
    token_from_row,
)
from scimgate.storage.driver import DriverSql, fetch_one, is_sqlite
from scimgate.storage.events import EventStore
from scimgate.storage.groups import GroupStore
from scimgate.storage.health import HealthStore
from scimgate.storage.recompute import RecomputeStore
from scimgate.storage.roles import RoleStore
from scimgate.storage.setup_links import SetupLinkStore
from scimgate.storage.sso import SsoStore
from scimgate.storage.tables import scim_tokens
from scimgate.storage.users import UserStore
from scimgate.storage.webhooks import WebhookStore

_GENERATION = DriverSql("SELECT credentials_generation FROM tenants WHERE id = %s")


class TenantRepository:
    """One tenant's data in one transaction: tokens here, users and groups in their stores."""

    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self.tenant_id = tenant_id

    # Each store is built on first use: a request touches two or three of them.

    @cached_property
    def users(self) -> UserStore:
        return UserStore(self._conn, self.tenant_id)

    @cached_property
    def groups(self) -> GroupStore:
        return GroupStore(self._conn, self.tenant_id)

    @cached_property
    def roles(self) -> RoleStore:
        return RoleStore(self._conn, self.tenant_id)

    @cached_property
    def recompute(self) -> RecomputeStore:
        return RecomputeStore(self._conn, self.tenant_id)

    @cached_property
    def events(self) -> EventStore:
        return EventStore(self._conn, self.tenant_id)

    @cached_property
    def webhooks(self) -> WebhookStore:
        return WebhookStore(self._conn, self.tenant_id)

    @cached_property
    def app(self) -> AppQueries:
        return AppQueries(self._conn, self.tenant_id)

    @cached_property
    def audit(self) -> AuditStore:
        return AuditStore(self._conn, self.tenant_id)

    @cached_property
    def setup_links(self) -> SetupLinkStore:
        return SetupLinkStore(self._conn, self.tenant_id)

    @cached_property
    def health(self) -> HealthStore:
        return HealthStore(self._conn, self.tenant_id)

    @cached_property
    def sso(self) -> SsoStore:
        return SsoStore(self._conn, self.tenant_id)

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
        if row is not None:
            bump_credentials_generation(self._conn, self.tenant_id)
        return token_from_row(row) if row else None

    def credentials_generation(self) -> int | None:
        """This tenant's credentials generation, read in this transaction (None: no tenant)."""
        row = fetch_one(self._conn, _GENERATION, (self.tenant_id,))
        return None if row is None else int(row[0])

    def find_token(self, secret_hash: str) -> FoundToken | None:
        """The token with this hash if it is this tenant's, read in this transaction."""
        driver = self._conn.connection.driver_connection
        found = find_token(driver, is_sqlite(self._conn), secret_hash)
        return found if found is not None and found.tenant.id == self.tenant_id else None
