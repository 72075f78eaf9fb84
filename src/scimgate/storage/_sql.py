"""Dialect-aware statement helpers shared by the tenant stores."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

# SQLite allows 32,766 bound parameters per statement; PostgreSQL 65,535.
# 500 keeps IN lists and multi-row inserts well inside both.
CHUNK = 500


def insert_ignoring_conflicts(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    keys: Sequence[str],
    values: dict[str, Any],
    update: Sequence[str],
) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` of the ``update`` columns, one statement
    on both dialects: two transactions writing the same key both succeed."""
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    statement = insert.values(**values)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
