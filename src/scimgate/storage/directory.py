"""The tenant registry. The only storage code that is not scoped to one tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.model.entities import ScimToken, Tenant
from scimgate.storage.tables import scim_tokens, tenants


def tenant_from_row(row: Any) -> Tenant:
    return Tenant(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        disabled=row.disabled,
        settings=row.settings or {},
    )


def token_from_row(row: Any) -> ScimToken:
    return ScimToken(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


_TOKEN_WITH_TENANT = sa.select(
    scim_tokens,
    tenants.c.slug.label("tenant_slug"),
    tenants.c.name.label("tenant_name"),
    tenants.c.created_at.label("tenant_created_at"),
    tenants.c.disabled.label("tenant_disabled"),
    tenants.c.settings.label("tenant_settings"),
).join(tenants, tenants.c.id == scim_tokens.c.tenant_id)


class Directory:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def create_tenant(self, slug: str, name: str, now: datetime) -> Tenant | None:
        """Insert a tenant; None when the slug is taken."""
        if self.tenant_by_slug(slug) is not None:
            return None
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    tenants.insert().values(
                        slug=slug, name=name, created_at=now, disabled=False, settings={}
                    )
                )
        except sa.exc.IntegrityError:
            return None
        return self.tenant_by_slug(slug)

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        row = self._conn.execute(sa.select(tenants).where(tenants.c.slug == slug)).first()
        return tenant_from_row(row) if row else None

    def list_tenants(self) -> list[Tenant]:
        rows = self._conn.execute(sa.select(tenants).order_by(tenants.c.slug))
        return [tenant_from_row(row) for row in rows]

    def set_tenant_disabled(self, tenant_id: int, disabled: bool) -> None:
        self._conn.execute(
            tenants.update().where(tenants.c.id == tenant_id).values(disabled=disabled)
        )

    def token_by_hash(self, secret_hash: str) -> tuple[ScimToken, Tenant, str] | None:
        """The token with this hash, its tenant, and the stored hash (for a constant-time check)."""
        row = self._conn.execute(
            _TOKEN_WITH_TENANT.where(scim_tokens.c.secret_hash == secret_hash)
        ).first()
        if row is None:
            return None
        tenant = Tenant(
            id=row.tenant_id,
            slug=row.tenant_slug,
            name=row.tenant_name,
            created_at=row.tenant_created_at,
            disabled=row.tenant_disabled,
            settings=row.tenant_settings or {},
        )
        return token_from_row(row), tenant, row.secret_hash

    def touch_token(self, token_id: str, now: datetime) -> None:
        self._conn.execute(
            scim_tokens.update().where(scim_tokens.c.id == token_id).values(last_used_at=now)
        )
