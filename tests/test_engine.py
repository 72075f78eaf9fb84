import time

import psycopg
import pytest
import sqlalchemy as sa

from scimgate.storage.engine import make_engine
from scimgate.storage.tables import tenants


def test_the_schema_is_usable_on_each_backend(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("select 1"))
        count = conn.execute(sa.select(sa.func.count()).select_from(tenants)).scalar_one()
    assert count == 0


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        pid: int = conn.execute(sa.text("select pg_backend_pid()")).scalar_one()
        return pid


def test_a_quiet_pooled_postgresql_connection_is_reused_without_a_ping(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool's pre-ping is a PostgreSQL matter (SQLite has no server)")
    engine = make_engine(database_url, pool_size=1)
    try:
        first = _backend_pid(engine)
        sent: list[str] = []
        real = psycopg.Cursor.execute

        def counting(self: psycopg.Cursor, query: object, *args: object, **kw: object) -> object:
            sent.append(str(query))
            return real(self, query, *args, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(psycopg.Cursor, "execute", counting)
        assert _backend_pid(engine) == first
        assert sent == ["select pg_backend_pid()"]  # no "SELECT 1" before it
    finally:
        engine.dispose()


def test_a_pooled_postgresql_connection_the_server_ended_is_replaced(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the pool's pre-ping is a PostgreSQL matter (SQLite has no server)")
    engine, watcher = make_engine(database_url, pool_size=1), make_engine(database_url)
    try:
        first = _backend_pid(engine)
        gone = sa.text("select count(*) = 0 from pg_stat_activity where pid = :pid")
        with watcher.connect() as other:
            other.execute(sa.text("select pg_terminate_backend(:pid)"), {"pid": first})
            for _ in range(100):  # until the server has closed the session
                if other.execute(gone, {"pid": first}).scalar_one():
                    break
                time.sleep(0.05)
        assert _backend_pid(engine) != first  # no error: the pool saw it and reconnected
    finally:
        engine.dispose()
        watcher.dispose()
