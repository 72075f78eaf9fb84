"""Fixtures for deployment tests: blank databases that migrations, backups and restores fill."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.cli.conftest import Cli
from tests.conftest import POSTGRES_ADMIN_URL, REQUIRE_POSTGRES

BlankDatabase = Callable[[], str]


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlankDatabase]:
    """Makes URLs of new, empty databases (no schema), on each backend; dropped at the end."""
    created: list[str] = []
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def make() -> str:
        name = f"scimgate_test_{uuid.uuid4().hex[:10]}"
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as exc:
            if REQUIRE_POSTGRES:
                pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
            pytest.skip("PostgreSQL unreachable at SCIMGATE_TEST_POSTGRES_URL")
        created.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)

    yield make
    if created:
        with admin.connect() as conn:
            for name in created:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def migrated_url(blank_database: BlankDatabase) -> str:
    """A new database brought to the newest schema by ``scimgate db upgrade``."""
    url = blank_database()
    result = Cli(url)("db", "upgrade")
    assert result.exit_code == 0, result.output
    return url
