"""The tenant registry, reached through ``Database.directory()``: cross-tenant by nature.

Tenants, the lookup of a SCIM token by its hash at authentication (before the
tenant is known), the same for a setup link when it is opened, the tenant of a
single sign-on code the host app exchanges (an operator key may exchange any
tenant's), and the other cross-tenant stores on the same transaction: API keys,
the global webhooks, the delivery worker's queue and every webhook's and single
sign-on connection's sealed secret (for ``scimgate secrets reseal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.model.entities import ScimToken, SetupLink, Tenant
from scimgate.storage.api_keys import ApiKeyStore
from scimgate.storage.deliveries import DeliveryQueue
from scimgate.storage.driver import DriverSql, json_value, required_timestamp, timestamp_value
from scimgate.storage.setup_links import link_from_row
from scimgate.storage.sso_secrets import SsoSecrets
from scimgate.storage.tables import roles, scim_tokens, setup_links, sso_codes, tenants
from scimgate.storage.webhook_secrets import WebhookSecrets
from scimgate.storage.webhooks import WebhookStore

BUILT_IN_ROLES = (("tenant_admin", "Tenant Admin"), ("member", "Standard User"))


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


_TOKEN_BY_HASH = DriverSql(
    "SELECT t.id, t.tenant_id, t.name, t.prefix, t.created_at, t.expires_at,"
    " t.last_used_at, t.revoked_at, t.secret_hash,"
    " n.slug, n.name, n.created_at, n.disabled, n.settings, n.credentials_generation"
    " FROM scim_tokens t JOIN tenants n ON n.id = t.tenant_id WHERE t.secret_hash = %s"
)


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A token found by its hash: the token, its tenant, the stored hash, and the
    tenant's credentials generation when it was read."""

    token: ScimToken
    tenant: Tenant
    secret_hash: str
    generation: int


def bump_credentials_generation(conn: sa.Connection, tenant_id: int) -> None:
    """Tell every process that cached a check of this tenant's tokens to check again."""
    conn.execute(
        tenants.update()
        .where(tenants.c.id == tenant_id)
        .values(credentials_generation=tenants.c.credentials_generation + 1)
    )


def find_token(driver: Any, sqlite: bool, secret_hash: str) -> FoundToken | None:
    """The token with this hash, its tenant, and the stored hash (for a constant-time check).

    Read on a bare DB-API connection, see ``Database.find_token``.
    """
    row = driver.execute(_TOKEN_BY_HASH.text(sqlite), (secret_hash,)).fetchone()
    if row is None:
        return None
    token = ScimToken(
        id=row[0],
        tenant_id=row[1],
        name=row[2],
        prefix=row[3],
        created_at=required_timestamp(row[4]),
        expires_at=timestamp_value(row[5]),
        last_used_at=timestamp_value(row[6]),
        revoked_at=timestamp_value(row[7]),
    )
    tenant = Tenant(
        id=row[1],
        slug=row[9],
        name=row[10],
        created_at=required_timestamp(row[11]),
        disabled=bool(row[12]),
        settings=json_value(row[13]) or {},
    )
    return FoundToken(token, tenant, row[8], int(row[14]))


class Directory:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self.api_keys = ApiKeyStore(conn)
        # Global webhooks (every tenant's events) and the worker's cross-tenant queue.
        self.webhooks = WebhookStore(conn, None)
        self.deliveries = DeliveryQueue(conn)
        self.webhook_secrets = WebhookSecrets(conn)
        self.sso_secrets = SsoSecrets(conn)

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
        tenant = self.tenant_by_slug(slug)
        assert tenant is not None
        # Every tenant starts with the two built-in roles.
        self._conn.execute(
            roles.insert(),
            [
                {"tenant_id": tenant.id, "key": key, "name": name, "created_at": now}
                for key, name in BUILT_IN_ROLES
            ],
        )
        return tenant

    def tenant_by_slug(self, slug: str) -> Tenant | None:
        row = self._conn.execute(sa.select(tenants).where(tenants.c.slug == slug)).first()
        return tenant_from_row(row) if row else None

    def list_tenants(self) -> list[Tenant]:
        rows = self._conn.execute(sa.select(tenants).order_by(tenants.c.slug))
        return [tenant_from_row(row) for row in rows]

    def set_tenant_settings(self, tenant_id: int, settings: dict[str, Any]) -> None:
        self._conn.execute(
            tenants.update()
            .where(tenants.c.id == tenant_id)
            .values(
                settings=settings,
                credentials_generation=tenants.c.credentials_generation + 1,
            )
        )

    def set_tenant_disabled(self, tenant_id: int, disabled: bool) -> None:
        self._conn.execute(
            tenants.update()
            .where(tenants.c.id == tenant_id)
            .values(
                disabled=disabled,
                credentials_generation=tenants.c.credentials_generation + 1,
            )
        )

    def touch_token(self, token_id: str, now: datetime) -> None:
        self._conn.execute(
            scim_tokens.update().where(scim_tokens.c.id == token_id).values(last_used_at=now)
        )

    def find_setup_link(self, secret_hash: str) -> tuple[SetupLink, Tenant, str] | None:
        """The setup link with this hash, its tenant, and the stored hash."""
        row = self._conn.execute(
            sa.select(setup_links).where(setup_links.c.secret_hash == secret_hash)
        ).first()
        if row is None:
            return None
        tenant = self._conn.execute(sa.select(tenants).where(tenants.c.id == row.tenant_id)).first()
        assert tenant is not None  # the foreign key cascades
        return link_from_row(row), tenant_from_row(tenant), row.secret_hash

    def sso_code_tenant(self, code_hash: str) -> Tenant | None:
        """The tenant that issued this single sign-on code (its use is checked in the tenant)."""
        row = self._conn.execute(
            sa.select(tenants)
            .join(sso_codes, sso_codes.c.tenant_id == tenants.c.id)
            .where(sso_codes.c.code_hash == code_hash)
        ).first()
        return tenant_from_row(row) if row else None
