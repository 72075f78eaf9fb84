"""Units of work: one transaction each, rolled back whole on an exception, and the
pooled connection handed back without a transaction left open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.database import CheckedDatabase, Database
from scimgate.storage.directory import bump_credentials_generation
from scimgate.storage.repository import TenantRepository


class Boom(Exception):
    pass


def _in_transaction(driver: Any) -> bool:
    if isinstance(driver, sqlite3.Connection):
        return driver.in_transaction
    assert isinstance(driver, psycopg.Connection)
    return driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def _pooled_drivers_in_transaction(db: Database) -> list[bool]:
    """Whether each connection the pool hands out now is inside a transaction."""
    held = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
    try:
        return [_in_transaction(raw.driver_connection) for raw in held]
    finally:
        for raw in held:
            raw.close()


def _read_then_fail(repo: TenantRepository) -> None:
    repo.credentials_generation()
    raise Boom


def _write_twice_then_fail(repo: TenantRepository) -> None:
    repo.roles.add_role("ops", "Operations", utcnow())
    bump_credentials_generation(repo._conn, repo.tenant_id)
    raise Boom


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant()


def test_an_exception_rolls_back_every_write_of_the_unit_of_work(
    db: Database, tenant: Tenant
) -> None:
    with db.tenant(tenant.id) as repo:
        generation = repo.credentials_generation()
    with pytest.raises(Boom), db.tenant(tenant.id, write=True) as repo:
        _write_twice_then_fail(repo)
    with db.tenant(tenant.id) as repo:
        assert repo.roles.role_exists("ops") is False
        assert repo.credentials_generation() == generation


def test_a_connection_goes_back_to_the_pool_without_a_transaction_after_an_error(
    db: Database, tenant: Tenant
) -> None:
    with pytest.raises(Boom), db.tenant(tenant.id, write=True) as repo:
        _write_twice_then_fail(repo)
    with pytest.raises(Boom), db.tenant(tenant.id) as repo:
        _read_then_fail(repo)
    assert _pooled_drivers_in_transaction(db) == [False]


def _core_error(repo: TenantRepository) -> None:
    repo.roles.add_role("ops", "Operations", utcnow())
    repo._conn.exec_driver_sql("SELECT no_such_column FROM tenants")


def _driver_error(repo: TenantRepository) -> None:
    repo.roles.add_role("ops", "Operations", utcnow())
    driver = repo._conn.connection.driver_connection
    assert driver is not None
    driver.execute("SELECT no_such_column FROM tenants")


@pytest.mark.parametrize("fail", [_core_error, _driver_error], ids=["core", "driver"])
def test_a_connection_goes_back_to_the_pool_without_a_transaction_after_a_database_error(
    db: Database, tenant: Tenant, fail: Callable[[TenantRepository], None]
) -> None:
    """Also when the failed statement went straight to the driver, which leaves a
    PostgreSQL transaction aborted rather than open."""
    with pytest.raises(Exception, match="no_such_column"), db.tenant(tenant.id, write=True) as repo:
        fail(repo)
    assert _pooled_drivers_in_transaction(db) == [False]
    with db.tenant(tenant.id) as repo:
        assert repo.roles.role_exists("ops") is False


def test_a_refused_credential_check_rolls_back_and_returns_a_clean_connection(
    db: Database, tenant: Tenant
) -> None:
    def refuse(repo: TenantRepository) -> None:
        bump_credentials_generation(repo._conn, repo.tenant_id)
        raise Boom

    with db.tenant(tenant.id) as repo:
        generation = repo.credentials_generation()
    checked = CheckedDatabase(db, refuse, lambda generation: None, lambda generation: None)
    with pytest.raises(Boom), checked.tenant(tenant.id, write=True):
        pass
    assert _pooled_drivers_in_transaction(db) == [False]
    with db.tenant(tenant.id) as repo:
        assert repo.credentials_generation() == generation


def test_a_committed_unit_of_work_returns_a_clean_connection(db: Database, tenant: Tenant) -> None:
    with db.tenant(tenant.id, write=True) as repo:
        repo.roles.add_role("ops", "Operations", utcnow())
    with db.tenant(tenant.id) as repo:
        assert repo.roles.role_exists("ops")
    assert db.find_token("no such hash") is None
    assert _pooled_drivers_in_transaction(db) == [False]


@pytest.fixture
def other_sqlite_writer(db: Database) -> Iterator[sqlite3.Connection]:
    """A second connection to the same SQLite file that gives up at once on a lock."""
    if db.dialect != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's way of taking the write lock")
    path = make_url(str(db.engine.url)).database
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    yield other
    other.close()


def _can_take_the_write_lock(other: sqlite3.Connection) -> bool:
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    other.execute("ROLLBACK")
    return True


def test_a_sqlite_write_unit_of_work_takes_the_write_lock_before_its_first_statement(
    db: Database, tenant: Tenant, other_sqlite_writer: sqlite3.Connection
) -> None:
    with db.tenant(tenant.id, write=True):
        assert not _can_take_the_write_lock(other_sqlite_writer)
    with db.directory(write=True):
        assert not _can_take_the_write_lock(other_sqlite_writer)
    assert _can_take_the_write_lock(other_sqlite_writer)


def test_a_sqlite_read_unit_of_work_leaves_the_write_lock_free(
    db: Database, tenant: Tenant, other_sqlite_writer: sqlite3.Connection
) -> None:
    with db.tenant(tenant.id, write=True) as repo:  # the next read reuses this connection
        repo.credentials_generation()
    with db.tenant(tenant.id) as repo:
        repo.credentials_generation()
        assert _can_take_the_write_lock(other_sqlite_writer)
    with db.engine.begin() as conn:  # a plain Core transaction is deferred as well
        conn.exec_driver_sql("SELECT 1")
        assert _can_take_the_write_lock(other_sqlite_writer)
