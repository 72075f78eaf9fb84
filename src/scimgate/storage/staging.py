"""Per-connection scratch tables for tenant-wide recomputes, and the SQL that reads them.

A rule or setting change can move 100k users at once. Computing the change in
SQL but building each user's event in Python cost more than the change itself
(~1.5 s of object building per 100k users), so a large recompute stages what
changed in ``scimgate_user_changes`` and the events are written from it with
one ``INSERT ... SELECT`` per event type, their JSON built by the database.

The tables are temporary (never migrated, invisible to other connections):
created on first use, emptied before and after each recompute.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from scimgate.model.lifecycle import (
    LEFT_MAPPED_GROUPS,
    USER_DEACTIVATED,
    USER_REACTIVATED,
    USER_ROLES_CHANGED,
)
from scimgate.storage.engine import SQLITE_BULK_CACHE_KIB, SQLITE_CACHE_KIB
from scimgate.storage.tables import user_roles

_metadata = sa.MetaData()

# The users a staged recompute is about, when it is not the whole tenant: a
# scope of thousands of ids bound in every statement that uses it would pass
# PostgreSQL's 65,535 parameters (and SQLite's 32,766 in some builds).
scope_ids = sa.Table(
    "scimgate_scope_ids", _metadata, sa.Column("user_id", sa.String(36), primary_key=True)
)

# The roles each user of the recompute's scope should have.
desired_roles = sa.Table(
    "scimgate_desired_roles",
    _metadata,
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("role_key", sa.String(64), primary_key=True),
)

# The kinds of change a recompute stages, one row per user and kind.
DEACTIVATED = "deactivated"
REACTIVATED = "reactivated"
ROLES = "roles"
# ``before`` holds the roles before the change (a JSON array) for ``ROLES``.
user_changes = sa.Table(
    "scimgate_user_changes",
    _metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("user_id", sa.String(36), primary_key=True),
    sa.Column("before", sa.Text),
)

_CREATE = {
    "postgresql": (
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_desired_roles "
        "(user_id varchar(36) NOT NULL, role_key varchar(64) NOT NULL, "
        "PRIMARY KEY (user_id, role_key)) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_user_changes "
        "(kind varchar(16) NOT NULL, user_id varchar(36) NOT NULL, before text, "
        "PRIMARY KEY (kind, user_id)) ON COMMIT DELETE ROWS",
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_scope_ids "
        "(user_id varchar(36) PRIMARY KEY) ON COMMIT DELETE ROWS",
    ),
    "sqlite": (
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_desired_roles "
        "(user_id TEXT NOT NULL, role_key TEXT NOT NULL, PRIMARY KEY (user_id, role_key))",
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_user_changes "
        "(kind TEXT NOT NULL, user_id TEXT NOT NULL, before TEXT, PRIMARY KEY (kind, user_id))",
        "CREATE TEMP TABLE IF NOT EXISTS scimgate_scope_ids (user_id TEXT PRIMARY KEY)",
    ),
}


@contextmanager
def session(conn: sa.Connection) -> Iterator[None]:
    """Scratch tables ready and empty for one staged recompute, emptied after it.

    On SQLite the connection's page cache grows for the recompute: with a
    2 MiB cache (SQLite's default) a 100k-user rule change took 3.2 s instead
    of 2.6 s, re-reading pages of the users and roles tables. The cache goes
    back to the everyday size however the block ends (a PRAGMA is not undone
    by a rollback, and the connection goes back to the pool).
    """
    sqlite = conn.dialect.name == "sqlite"
    for statement in _CREATE[conn.dialect.name]:
        conn.exec_driver_sql(statement)
    _empty(conn)
    if sqlite:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
        _empty(conn)
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


def _empty(conn: sa.Connection) -> None:
    # PostgreSQL empties them at commit; SQLite keeps them per connection
    # (in memory with temp_store=MEMORY), so a pooled connection gives them back.
    conn.execute(desired_roles.delete())
    conn.execute(user_changes.delete())
    conn.execute(scope_ids.delete())


def roles_json(conn: sa.Connection, user_id: Any) -> sa.ScalarSelect[Any]:
    """A user's stored roles as a JSON array text, sorted (a correlated subquery)."""
    if conn.dialect.name == "postgresql":
        ordered = aggregate_order_by(user_roles.c.role_key, user_roles.c.role_key)
        agg: Any = sa.func.coalesce(sa.func.jsonb_agg(ordered), sa.literal_column("'[]'::jsonb"))
        return (
            sa.select(sa.cast(agg, sa.Text))
            .where(user_roles.c.user_id == user_id)
            .scalar_subquery()
        )
    # SQLite has no ORDER BY inside aggregates before 3.44; with ``user_id = ?``
    # the scan runs on the primary key (user_id, role_key), so keys come sorted.
    return (
        sa.select(sa.func.json_group_array(user_roles.c.role_key))
        .where(user_roles.c.user_id == user_id)
        .scalar_subquery()
    )


# The user snapshot of event payloads (scimgate.storage.rows.user_snapshot), in SQL.
_SNAPSHOT = {
    "sqlite": (
        "json_object('id', u.id, 'userName', u.user_name, 'externalId', u.external_id,"
        " 'displayName', u.display_name,"
        " 'active', json(iif(u.active, 'true', 'false')),"
        " 'enabled', json(iif(u.enabled, 'true', 'false')),"
        " 'deactivationReason', u.deactivation_reason)"
    ),
    "postgresql": (
        "jsonb_build_object('id', u.id, 'userName', u.user_name, 'externalId', u.external_id,"
        " 'displayName', u.display_name, 'active', u.active, 'enabled', u.enabled,"
        " 'deactivationReason', u.deactivation_reason)"
    ),
}
# SQLite takes CROSS JOIN as "this table order": walking the staged changes in
# key order and probing users by id is ~40% faster than the plan it picks
# otherwise (users by tenant, then a sort for ORDER BY). PostgreSQL plans it
# the same as an inner join.
_OBJECT = {"sqlite": "json_object", "postgresql": "jsonb_build_object"}
_JSON = {"sqlite": "json({})", "postgresql": "CAST({} AS jsonb)"}

# A UUIDv7 per row (as scimgate.storage.events.new_event_ids): the first
# 48 bits, the shared millisecond, come in as a parameter ("tttttttt-tttt-7").
_EVENT_ID = {
    "sqlite": (
        ":head || substr(lower(hex(randomblob(2))), 2) || '-'"
        " || substr('89ab', 1 + abs(random() % 4), 1)"
        " || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
    ),
    "postgresql": ":head || substr(CAST(gen_random_uuid() AS text), 16)",
}

_EVENTS = (
    # (event type, extra payload members as SQL: name, expression)
    (DEACTIVATED, USER_DEACTIVATED, (("reason", f"'{LEFT_MAPPED_GROUPS}'"),)),
    (REACTIVATED, USER_REACTIVATED, ()),
    (ROLES, USER_ROLES_CHANGED, (("before", "{json_before}"), ("after", "{after}"))),
)


def staged_event_statements(conn: sa.Connection) -> list[sa.TextClause]:
    """``INSERT INTO events ... SELECT`` for each staged kind of change, in emit order.

    Parameters: ``tenant_id``, ``occurred_at``, ``head`` (see ``_EVENT_ID``).
    """
    dialect = conn.dialect.name
    after_sql = str(
        roles_json(conn, sa.literal_column("u.id")).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    after = _JSON[dialect].format(after_sql)
    json_before = _JSON[dialect].format("c.before")
    statements = []
    for kind, event_type, extra in _EVENTS:
        members = "".join(
            f", '{name}', {value.format(json_before=json_before, after=after)}"
            for name, value in extra
        )
        statements.append(
            sa.text(
                "INSERT INTO events (id, tenant_id, type, occurred_at, resource_type,"
                " resource_id, data)"
                f" SELECT {_EVENT_ID[dialect]}, :tenant_id, '{event_type}', :occurred_at,"
                f" 'User', u.id, {_OBJECT[dialect]}('user', {_SNAPSHOT[dialect]}{members})"
                " FROM scimgate_user_changes c CROSS JOIN users u"
                f" WHERE c.kind = '{kind}' AND u.id = c.user_id AND u.tenant_id = :tenant_id"
                " ORDER BY c.user_id"
            )
        )
    return statements
