"""Hot-path statements sent straight to the DB-API driver, inside SQLAlchemy's transaction.

Why bypass Core here: building ``sa.select(...).where(...)`` and its cache key
costs far more per statement than a prebuilt Core statement, which in turn
costs far more than the driver's own cursor (bench/README.md, "Figures behind
the code"). The few statements every SCIM request runs (token lookup, get by
id, the write of a user) use this module; everything else stays in Core.

SQL is written once with ``%s`` placeholders (psycopg) and rewritten to ``?``
for sqlite3. Values come back as the driver gives them; the ``*_value``
helpers turn SQLite's text timestamps, JSON text and 0/1 into what the Core
column types would have produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from scimgate.storage.types import format_timestamp


class DriverSql:
    """One statement in both placeholder styles."""

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, sql: str) -> None:
        self.postgresql = sql
        self.sqlite = sql.replace("%s", "?")

    def text(self, sqlite: bool) -> str:
        return self.sqlite if sqlite else self.postgresql


def is_sqlite(conn: sa.Connection) -> bool:
    return conn.dialect.name == "sqlite"


def execute(conn: sa.Connection, statement: DriverSql, params: Sequence[Any]) -> Any:
    """Run ``statement`` on the connection's driver cursor; returns the cursor."""
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver.execute(statement.text(is_sqlite(conn)), params)


def execute_many(conn: sa.Connection, statement: DriverSql, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` on the driver (psycopg has it on cursors only)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.executemany(statement.text(is_sqlite(conn)), rows)
    finally:
        cursor.close()


def integrity_error(conn: sa.Connection) -> type[Exception]:
    """The driver's IntegrityError: driver-level statements are not wrapped by SQLAlchemy."""
    dbapi = conn.dialect.dbapi
    assert dbapi is not None
    error: type[Exception] = dbapi.IntegrityError
    return error


def fetch_one(conn: sa.Connection, statement: DriverSql, params: Sequence[Any]) -> Any:
    return execute(conn, statement, params).fetchone()


def fetch_all(conn: sa.Connection, statement: DriverSql, params: Sequence[Any]) -> list[Any]:
    rows: list[Any] = execute(conn, statement, params).fetchall()
    return rows


def timestamp_param(value: datetime, sqlite: bool) -> Any:
    """A timestamp as ``UTCDateTime`` would bind it."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return format_timestamp(value) if sqlite else value


def json_param(value: Any) -> str:
    """A JSON document as text; on PostgreSQL the SQL casts it (``CAST(%s AS jsonb)``)."""
    return orjson.dumps(value).decode()


def timestamp_value(value: Any) -> datetime | None:
    """A stored timestamp as ``UTCDateTime`` would load it."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


def required_timestamp(value: Any) -> datetime:
    """``timestamp_value`` of a NOT NULL column."""
    moment = timestamp_value(value)
    assert moment is not None
    return moment


def json_value(value: Any) -> Any:
    """A stored JSON document: text on SQLite, already decoded by psycopg."""
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value
