"""Engine construction: SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import select
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# Page cache per SQLite connection, in KiB: everyday, and during a tenant-wide recompute.
SQLITE_CACHE_KIB = 8 * 1024
SQLITE_BULK_CACHE_KIB = 64 * 1024


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _sqlite_do_begin).
    dbapi_connection.isolation_level = None
    # SQLite's built-in lower() folds ASCII only; case-insensitive SCIM filters
    # must fold "Ä" as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer. synchronous=NORMAL in WAL
    # mode survives a process crash (kill -9) but may lose the last commits on
    # power loss; FULL would cost an fsync per commit.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # SQLite's default page cache is 2 MiB per connection. Every pooled
    # connection keeps its own (up to 15 of them), so the everyday size stays
    # modest; a tenant-wide recompute raises its connection's cache while it runs
    # (scimgate.storage.staging).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    # Recompute scratch tables and large sorts stay in memory, not temp files.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


# Set on a pooled connection's info just before the transaction that must take
# SQLite's write lock; _sqlite_do_begin consumes it.
SQLITE_IMMEDIATE = "scimgate.sqlite_immediate"


def _sqlite_do_begin(connection: Any) -> None:
    # Write transactions take the write lock up front (BEGIN IMMEDIATE), so a
    # second writer waits for busy_timeout instead of failing on lock upgrade.
    # This replaces the dialect's do_begin rather than listening for the
    # engine's "begin" event: any engine event listener turns on SQLAlchemy's
    # event dispatch at every connect, begin, commit and Core statement.
    immediate = connection.info.pop(SQLITE_IMMEDIATE, False)
    connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> sa.Engine:
    """Build an engine for ``url`` with the settings scimgate relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            echo=echo,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False},
            # No ROLLBACK when a connection goes back to the pool: every
            # Connection ends its transaction itself (commit, or rollback on
            # close), and Database.find_token reads in autocommit, so the reset
            # would only add a no-op ROLLBACK to every checkin.
            pool_reset_on_return=None,
        )
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        sqlite_dialect: Any = engine.dialect
        sqlite_dialect.do_begin = _sqlite_do_begin
        return engine
    engine = sa.create_engine(
        url,
        echo=echo,
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )
    dialect: Any = engine.dialect
    dialect.do_ping = _quiet_socket_ping(dialect.do_ping)
    return engine


def socket_is_quiet(pgconn: Any) -> bool:
    """Whether an idle PostgreSQL connection can be taken as alive without a round trip.

    A server that ends a session (restart, ``pg_terminate_backend``, idle timeout) sends
    an error and closes the socket, which makes it readable; an idle, healthy session
    receives nothing. A peer that vanished without a word (a host crash) is found by the
    first statement instead, as without any check.
    """
    from psycopg import pq

    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _quiet_socket_ping(query_ping: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """The pool's check of a PostgreSQL connection before each use: no round trip when
    the connection's socket is quiet (``socket_is_quiet``), the dialect's usual
    ``SELECT 1`` otherwise."""

    def ping(dbapi_connection: Any) -> bool:
        pgconn = getattr(dbapi_connection, "pgconn", None)
        if pgconn is not None and socket_is_quiet(pgconn):
            return True
        return query_ping(dbapi_connection)

    return ping
