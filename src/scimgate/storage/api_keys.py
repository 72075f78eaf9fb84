"""Host-app API keys: a cross-tenant registry, reached through ``Directory.api_keys``.

A key is either bound to one tenant or an operator key (``tenant_id`` NULL)
that may act on every tenant; the secret is stored only as its SHA-256 hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.storage.tables import api_keys, tenants


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """An API key's metadata; the secret is never part of it."""

    id: str
    tenant_id: int | None
    tenant_slug: str | None
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_WITH_TENANT = sa.select(
    api_keys.c.id,
    api_keys.c.tenant_id,
    tenants.c.slug.label("tenant_slug"),
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
    api_keys.c.secret_hash,
).select_from(api_keys.outerjoin(tenants, tenants.c.id == api_keys.c.tenant_id))


def _row(row: Any) -> ApiKeyRow:
    return ApiKeyRow(
        id=row.id,
        tenant_id=row.tenant_id,
        tenant_slug=row.tenant_slug,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyStore:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def insert(
        self,
        *,
        key_id: str,
        tenant_id: int | None,
        name: str,
        prefix: str,
        secret_hash: str,
        now: datetime,
    ) -> ApiKeyRow:
        self._conn.execute(
            api_keys.insert().values(
                id=key_id,
                tenant_id=tenant_id,
                name=name,
                prefix=prefix,
                secret_hash=secret_hash,
                created_at=now,
                last_used_at=None,
                revoked_at=None,
            )
        )
        found = self.get(key_id)
        assert found is not None
        return found

    def get(self, key_id: str) -> ApiKeyRow | None:
        row = self._conn.execute(_WITH_TENANT.where(api_keys.c.id == key_id)).first()
        return _row(row) if row else None

    def list_keys(self) -> list[ApiKeyRow]:
        rows = self._conn.execute(_WITH_TENANT.order_by(api_keys.c.created_at, api_keys.c.id))
        return [_row(row) for row in rows]

    def revoke(self, key_id: str, now: datetime) -> ApiKeyRow | None:
        """Mark a key revoked (idempotent); None when there is no such key."""
        self._conn.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self.get(key_id)

    def by_hash(self, secret_hash: str) -> tuple[ApiKeyRow, str] | None:
        """The key with this hash and the stored hash (for a constant-time check)."""
        row = self._conn.execute(_WITH_TENANT.where(api_keys.c.secret_hash == secret_hash)).first()
        return (_row(row), row.secret_hash) if row else None

    def touch(self, key_id: str, now: datetime) -> None:
        self._conn.execute(
            api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now)
        )
