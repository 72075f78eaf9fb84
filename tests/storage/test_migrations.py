"""Migrations build exactly the schema the code declares, on both backends."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from scimgate.storage.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"scimgate_mig_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError:
        admin.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required but unreachable")
        pytest.skip("PostgreSQL unreachable")
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_upgrade_then_check_finds_no_drift(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    # raises if the models declare anything the migrations did not create
    command.check(alembic_config(empty_database_url))


def test_upgrade_is_idempotent_and_downgrade_works(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    command.downgrade(alembic_config(empty_database_url), "base")
    engine = sa.create_engine(empty_database_url)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert "users" not in names
