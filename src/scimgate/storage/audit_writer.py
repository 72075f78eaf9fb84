"""The audit log across tenants: the recorder's batched appends and the retention purge.

Cross-tenant on purpose: the recorder's background thread writes the entries
of many tenants' requests in one batch, after the requests have answered, so
it opens its own transaction instead of one repository per tenant; a
request's tenant is the one its URL names (looked up here by slug when
authentication failed before it was known). Retention removes old entries of
every tenant at once. Nothing here reads entries back: a tenant's log is
read through its repository (``storage.audit``).

The log is append-only: ``purge_older_than`` is its only removal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.storage.database import Database
from scimgate.storage.driver import DriverSql, execute_many, is_sqlite, timestamp_param
from scimgate.storage.tables import audit_log, tenants

_COLUMNS = (
    "occurred_at",
    "tenant_id",
    "token_id",
    "token_name",
    "idp",
    "method",
    "path",
    "resource_type",
    "resource_id",
    "status",
    "scim_type",
    "detail",
    "duration_ms",
    "change",
)
_INSERT = DriverSql(
    f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


def append_entries(db: Database, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many entries in one transaction (one executemany).

    On the driver, with the values in column order: Core's per-row parameter
    processing was about a quarter of a row's cost, and every SCIM request writes
    a row (bench/README.md, "Figures behind the code").
    """
    if not rows:
        return
    with db.engine.begin() as conn:
        sqlite = is_sqlite(conn)
        execute_many(
            conn,
            _INSERT,
            [
                (timestamp_param(row["occurred_at"], sqlite), *(row[c] for c in _COLUMNS[1:]))
                for row in rows
            ],
        )


def tenant_ids_by_slug(db: Database, slugs: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(tenants.c.slug, tenants.c.id).where(tenants.c.slug.in_(wanted))
        )
        return {row.slug: row.id for row in rows}


def purge_older_than(db: Database, cutoff: datetime) -> int:
    """Retention: the one removal the log allows. Returns how many entries went."""
    with db.engine.begin() as conn:
        result = conn.execute(audit_log.delete().where(audit_log.c.occurred_at < cutoff))
        return int(result.rowcount or 0)
