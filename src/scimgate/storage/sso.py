"""One tenant's single sign-on rows. Built only by TenantRepository, which supplies the tenant.

Connections and the SP key pair, the sign-ins in flight (``sso_pending``),
the replay cache of assertion ids, the one-time codes handed to the host app,
the link from an IdP subject to a user, and the group values an IdP last
asserted for a user (which the role rules read, see ``lifecycle_sql``).
Everything single-use is taken with one conditional statement, so two workers
racing for the same row cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.model.sso import Connection, IssuedCode, Pending
from scimgate.storage._sql import insert_ignoring_conflicts, upsert
from scimgate.storage.tables import (
    audit_log,
    sso_codes,
    sso_connections,
    sso_identities,
    sso_pending,
    sso_seen_assertions,
    sso_sp_keys,
    sso_user_groups,
)

# The columns a caller may set on a connection (besides the sealed secret).
CONNECTION_FIELDS = (
    "name",
    "protocol",
    "enabled",
    "jit",
    "jit_requires_scim",
    "match_by",
    "allow_idp_initiated",
    "groups_to_roles",
    "config",
)


@dataclass(frozen=True, slots=True)
class SpKeyRow:
    private_key: str  # sealed
    cert: str
    previous_cert: str | None
    created_at: datetime
    previous_private_key: str | None = None  # sealed


def connection_from_row(row: Any) -> Connection:
    return Connection(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        protocol=row.protocol,
        enabled=row.enabled,
        jit=row.jit,
        match_by=row.match_by,
        allow_idp_initiated=row.allow_idp_initiated,
        groups_to_roles=row.groups_to_roles,
        config=dict(row.config or {}),
        created_at=row.created_at,
        jit_requires_scim=row.jit_requires_scim,
        updated_at=row.updated_at,
        has_client_secret=row.client_secret is not None,
    )


class SsoStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    # -- connections -------------------------------------------------------------

    def _connection(self, connection_id: int) -> sa.ColumnElement[bool]:
        return sa.and_(
            sso_connections.c.tenant_id == self._tenant_id,
            sso_connections.c.id == connection_id,
        )

    def insert_connection(
        self, values: Mapping[str, Any], client_secret: str | None, now: datetime
    ) -> int | None:
        """A new connection's id; None when the tenant has one by that name already."""
        try:
            with self._conn.begin_nested():
                return int(
                    self._conn.execute(
                        sso_connections.insert()
                        .values(
                            tenant_id=self._tenant_id,
                            client_secret=client_secret,
                            created_at=now,
                            updated_at=now,
                            **values,
                        )
                        .returning(sso_connections.c.id)
                    ).scalar_one()
                )
        except sa.exc.IntegrityError:
            return None

    def update_connection(
        self, connection_id: int, values: Mapping[str, Any], now: datetime
    ) -> bool | None:
        """True when updated, False when there is no such connection, None on a name clash."""
        try:
            with self._conn.begin_nested():
                result = self._conn.execute(
                    sso_connections.update()
                    .where(self._connection(connection_id))
                    .values(updated_at=now, **values)
                )
        except sa.exc.IntegrityError:
            return None
        return result.rowcount > 0

    def get_connection(self, connection_id: int) -> Connection | None:
        row = self._conn.execute(
            sa.select(sso_connections).where(self._connection(connection_id))
        ).first()
        return connection_from_row(row) if row else None

    def list_connections(self) -> list[Connection]:
        rows = self._conn.execute(
            sa.select(sso_connections)
            .where(sso_connections.c.tenant_id == self._tenant_id)
            .order_by(sso_connections.c.id)
        )
        return [connection_from_row(row) for row in rows]

    def delete_connection(self, connection_id: int) -> bool:
        result = self._conn.execute(sso_connections.delete().where(self._connection(connection_id)))
        return result.rowcount > 0

    def client_secret(self, connection_id: int) -> str | None:
        """The sealed client secret of a connection (None: none stored)."""
        return self._conn.execute(
            sa.select(sso_connections.c.client_secret).where(self._connection(connection_id))
        ).scalar()

    # -- the SP key pair ---------------------------------------------------------

    def sp_keys(self) -> SpKeyRow | None:
        row = self._conn.execute(
            sa.select(sso_sp_keys).where(sso_sp_keys.c.tenant_id == self._tenant_id)
        ).first()
        if row is None:
            return None
        return SpKeyRow(
            row.private_key, row.cert, row.previous_cert, row.created_at, row.previous_private_key
        )

    def add_sp_keys(self, private_key: str, cert: str, now: datetime) -> bool:
        """Store the first key pair; False when another request stored one first."""
        inserted = self._conn.execute(
            insert_ignoring_conflicts(self._conn, sso_sp_keys).values(
                tenant_id=self._tenant_id,
                private_key=private_key,
                cert=cert,
                previous_cert=None,
                created_at=now,
            )
        )
        return inserted.rowcount > 0

    def replace_sp_keys(
        self,
        private_key: str,
        cert: str,
        previous_cert: str | None,
        now: datetime,
        previous_private_key: str | None = None,
    ) -> bool:
        """Put a new pair in place of ``previous_cert``'s, outside a rotation; False when the
        pair is no longer that one or a rotation is in progress (another request won)."""
        done = self._conn.execute(
            sso_sp_keys.update()
            .where(
                sso_sp_keys.c.tenant_id == self._tenant_id,
                sso_sp_keys.c.cert == previous_cert,
                sso_sp_keys.c.previous_cert.is_(None),
            )
            .values(
                private_key=private_key,
                cert=cert,
                previous_cert=previous_cert,
                previous_private_key=previous_private_key,
                created_at=now,
            )
        )
        return done.rowcount > 0

    def drop_previous_cert(self) -> bool:
        """End a rotation: the previous certificate is no longer published."""
        done = self._conn.execute(
            sso_sp_keys.update()
            .where(
                sso_sp_keys.c.tenant_id == self._tenant_id,
                sso_sp_keys.c.previous_cert.is_not(None),
            )
            .values(previous_cert=None, previous_private_key=None)
        )
        return done.rowcount > 0

    # -- sign-ins in flight ------------------------------------------------------

    def add_pending(self, pending: Pending) -> None:
        self._conn.execute(
            sso_pending.insert().values(
                tenant_id=self._tenant_id,
                connection_id=pending.connection_id,
                protocol_ref=pending.protocol_ref,
                redirect_uri=pending.redirect_uri,
                host_state=pending.host_state,
                data=dict(pending.data),
                expires_at=pending.expires_at,
            )
        )

    def take_pending(self, connection_id: int, protocol_ref: str, now: datetime) -> Pending | None:
        """Delete and return the pending sign-in; None when unknown, taken, expired or foreign."""
        row = self._conn.execute(
            sso_pending.delete()
            .where(
                sso_pending.c.tenant_id == self._tenant_id,
                sso_pending.c.connection_id == connection_id,
                sso_pending.c.protocol_ref == protocol_ref,
            )
            .returning(
                sso_pending.c.redirect_uri,
                sso_pending.c.host_state,
                sso_pending.c.data,
                sso_pending.c.expires_at,
            )
        ).first()
        if row is None or row.expires_at <= now:
            return None
        return Pending(
            connection_id=connection_id,
            protocol_ref=protocol_ref,
            redirect_uri=row.redirect_uri,
            host_state=row.host_state,
            data={str(k): str(v) for k, v in (row.data or {}).items()},
            expires_at=row.expires_at,
        )

    def peek_pending(self, protocol_ref: str, now: datetime) -> Pending | None:
        """The pending sign-in under ``protocol_ref``, left in place (None: unknown, expired)."""
        row = self._conn.execute(
            sa.select(sso_pending).where(
                sso_pending.c.tenant_id == self._tenant_id,
                sso_pending.c.protocol_ref == protocol_ref,
                sso_pending.c.expires_at > now,
            )
        ).first()
        if row is None:
            return None
        return Pending(
            connection_id=row.connection_id,
            protocol_ref=protocol_ref,
            redirect_uri=row.redirect_uri,
            host_state=row.host_state,
            data={str(k): str(v) for k, v in (row.data or {}).items()},
            expires_at=row.expires_at,
        )

    def remember_assertion(self, assertion_id: str, not_after: datetime) -> bool:
        """Record an assertion id; False when it was recorded before (a replay)."""
        inserted = self._conn.execute(
            insert_ignoring_conflicts(self._conn, sso_seen_assertions)
            .values(tenant_id=self._tenant_id, assertion_id=assertion_id, not_after=not_after)
            .returning(sso_seen_assertions.c.assertion_id)
        ).first()
        return inserted is not None

    # -- one-time codes ----------------------------------------------------------

    def add_code(self, code_hash: str, code: IssuedCode) -> None:
        self._conn.execute(
            sso_codes.insert().values(
                code_hash=code_hash,
                tenant_id=self._tenant_id,
                user_id=code.user_id,
                connection_id=code.connection_id,
                profile=dict(code.profile),
                expires_at=code.expires_at,
                used_at=None,
            )
        )

    def use_code(self, code_hash: str, now: datetime) -> IssuedCode | None:
        """Mark the code used and return it; None when unknown, used, expired or foreign."""
        row = self._conn.execute(
            sso_codes.update()
            .where(
                sso_codes.c.tenant_id == self._tenant_id,
                sso_codes.c.code_hash == code_hash,
                sso_codes.c.used_at.is_(None),
                sso_codes.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(
                sso_codes.c.user_id,
                sso_codes.c.connection_id,
                sso_codes.c.profile,
                sso_codes.c.expires_at,
            )
        ).first()
        if row is None:
            return None
        return IssuedCode(row.user_id, row.connection_id, row.profile or {}, row.expires_at)

    # -- identities and asserted groups ------------------------------------------

    def user_for_subject(self, connection_id: int, subject: str) -> str | None:
        return self._conn.execute(
            sa.select(sso_identities.c.user_id).where(
                sso_identities.c.tenant_id == self._tenant_id,
                sso_identities.c.connection_id == connection_id,
                sso_identities.c.subject == subject,
            )
        ).scalar()

    def link(self, connection_id: int, subject: str, user_id: str, now: datetime) -> None:
        """Remember that ``subject`` at this connection is ``user_id`` (or refresh the link).

        One upsert: two first sign-ins of the same subject at once both succeed.
        """
        values = {
            "connection_id": connection_id,
            "subject": subject,
            "tenant_id": self._tenant_id,
            "user_id": user_id,
            "created_at": now,
            "last_sign_in_at": now,
        }
        self._conn.execute(
            upsert(
                self._conn,
                sso_identities,
                ("connection_id", "subject"),
                values,
                ("user_id", "last_sign_in_at"),
            )
        )

    def _groups_of(self, user_id: str) -> sa.ColumnElement[bool]:
        # ``tenant_id + 0``: the (user_id, value) primary key, not a walk of the
        # tenant's (tenant_id, value) index, whatever SQLite's statistics say.
        return sa.and_(
            sso_user_groups.c.tenant_id + 0 == self._tenant_id,
            sso_user_groups.c.user_id == user_id,
        )

    def groups_of(self, user_id: str) -> list[str]:
        return list(
            self._conn.execute(
                sa.select(sso_user_groups.c.value)
                .where(self._groups_of(user_id))
                .order_by(sso_user_groups.c.value)
            ).scalars()
        )

    def set_groups(self, user_id: str, values: Sequence[str]) -> bool:
        """Replace the user's asserted group values; True when they changed."""
        wanted = sorted(set(values))
        if self.groups_of(user_id) == wanted:
            return False
        self._conn.execute(sso_user_groups.delete().where(self._groups_of(user_id)))
        if wanted:
            self._conn.execute(
                sso_user_groups.insert(),
                [
                    {
                        "user_id": user_id,
                        "value": value,
                        "value_lower": value.lower(),
                        "tenant_id": self._tenant_id,
                    }
                    for value in wanted
                ],
            )
        return True

    # -- audit and housekeeping --------------------------------------------------

    def record_sign_in(self, entry: Mapping[str, Any]) -> None:
        """One audit row for a sign-in attempt, in the sign-in's own transaction."""
        self._conn.execute(audit_log.insert().values(tenant_id=self._tenant_id, **entry))

    def purge_expired(self, now: datetime) -> int:
        """Drop pending sign-ins, seen assertion ids and codes past their time."""
        removed = 0
        for table, column in (
            (sso_pending, sso_pending.c.expires_at),
            (sso_seen_assertions, sso_seen_assertions.c.not_after),
            (sso_codes, sso_codes.c.expires_at),
        ):
            result = self._conn.execute(
                table.delete().where(table.c.tenant_id == self._tenant_id, column < now)
            )
            removed += result.rowcount
        return removed
