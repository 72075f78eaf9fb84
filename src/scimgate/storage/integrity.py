"""What ``scimgate db check`` reads: schema version, integrity checks, counts per tenant.

Cross-tenant on purpose: the operator checks the whole database at once,
after a restore or an upgrade, and every tenant's counts come from one grouped
statement per table instead of a transaction per tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from scimgate.storage.database import Database
from scimgate.storage.migrate import alembic_config
from scimgate.storage.tables import Base, events, groups, scim_tokens, tenants, users, webhooks


@dataclass(frozen=True, slots=True)
class TenantCounts:
    slug: str
    users: int
    groups: int
    live_tokens: int
    events: int
    webhooks: int


def schema_revisions(db: Database) -> tuple[str | None, str | None]:
    """The revision the database is at (None when no migration ever ran on it) and the head."""
    url = db.engine.url.render_as_string(hide_password=False)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def integrity_problems(db: Database) -> list[str]:
    """Each problem the database reports, in words; empty when it is sound.

    Every table of the schema must exist. SQLite also runs its own page-level
    check and its foreign key check, which catch rows written with foreign
    keys off (a hand edit, a bad restore); PostgreSQL enforces its foreign keys
    and has no page check without an extension, so it answers a query.
    """
    with db.engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        problems = [
            f"table {name} is missing"
            for name in sorted(Base.metadata.tables)
            if name not in present
        ]
        if db.dialect != "sqlite":
            conn.execute(sa.text("SELECT 1"))
            return problems
        for (line,) in conn.exec_driver_sql("PRAGMA integrity_check"):
            if line != "ok":
                problems.append(f"integrity: {line}")
        for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check"):
            problems.append(f"{table} row {rowid} refers to a missing {parent} row")
    return problems


def tenant_counts(db: Database, now: datetime) -> tuple[list[TenantCounts], int]:
    """What every tenant holds, in slug order, and the number of global webhooks.

    Soft-deleted users are not counted; a live token is neither revoked nor expired at ``now``.
    """
    live_users = users.c.deleted_at.is_(None)
    live_tokens = sa.and_(
        scim_tokens.c.revoked_at.is_(None),
        sa.or_(scim_tokens.c.expires_at.is_(None), scim_tokens.c.expires_at > now),
    )
    with db.engine.connect() as conn:
        per_table = [
            _counts(conn, users, live_users),
            _counts(conn, groups, sa.true()),
            _counts(conn, scim_tokens, live_tokens),
            _counts(conn, events, sa.true()),
            _counts(conn, webhooks, webhooks.c.tenant_id.is_not(None)),
        ]
        global_webhooks = conn.execute(
            sa.select(sa.func.count()).where(webhooks.c.tenant_id.is_(None))
        ).scalar_one()
        rows = conn.execute(sa.select(tenants.c.id, tenants.c.slug).order_by(tenants.c.slug))
        found = [
            TenantCounts(slug, *(counts.get(tenant_id, 0) for counts in per_table))
            for tenant_id, slug in rows
        ]
    return found, global_webhooks


def _counts(conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> dict[int, int]:
    statement = (
        sa.select(table.c.tenant_id, sa.func.count()).where(where).group_by(table.c.tenant_id)
    )
    return {row[0]: row[1] for row in conn.execute(statement)}
