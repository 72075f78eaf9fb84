"""Every single sign-on secret, across tenants, for resealing them in batches.

Cross-tenant by nature (the operator reseals the whole database at once), on a
``Database.directory()`` connection: the OIDC client secrets of every
connection and the SAML SP private key of every tenant. It reads and writes
the sealed columns only.
"""

from __future__ import annotations

import sqlalchemy as sa

from scimgate.storage.tables import sso_connections, sso_sp_keys


class SsoSecrets:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def client_secrets(self, after_id: int, limit: int) -> list[tuple[int, str]]:
        """``(connection id, sealed client secret)`` for the next connections holding one."""
        rows = self._conn.execute(
            sa.select(sso_connections.c.id, sso_connections.c.client_secret)
            .where(sso_connections.c.id > after_id, sso_connections.c.client_secret.is_not(None))
            .order_by(sso_connections.c.id)
            .limit(limit)
        )
        return [(row.id, row.client_secret) for row in rows]

    def replace_client_secret(self, connection_id: int, stored: str, new: str) -> bool:
        """Swap ``stored`` for ``new``; False when the row changed (or went) meanwhile."""
        result = self._conn.execute(
            sso_connections.update()
            .where(
                sso_connections.c.id == connection_id,
                sso_connections.c.client_secret == stored,
            )
            .values(client_secret=new)
        )
        return result.rowcount == 1

    def sp_keys(self, after_tenant: int, limit: int) -> list[tuple[int, str]]:
        """``(tenant id, sealed SP private key)`` for the next tenants by id."""
        rows = self._conn.execute(
            sa.select(sso_sp_keys.c.tenant_id, sso_sp_keys.c.private_key)
            .where(sso_sp_keys.c.tenant_id > after_tenant)
            .order_by(sso_sp_keys.c.tenant_id)
            .limit(limit)
        )
        return [(row.tenant_id, row.private_key) for row in rows]

    def replace_sp_key(self, tenant: int, stored: str, new: str) -> bool:
        result = self._conn.execute(
            sso_sp_keys.update()
            .where(sso_sp_keys.c.tenant_id == tenant, sso_sp_keys.c.private_key == stored)
            .values(private_key=new)
        )
        return result.rowcount == 1
