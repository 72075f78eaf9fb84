"""Shared fixtures: every storage-touching test runs on SQLite and on PostgreSQL.

* SQLite: a fresh database file per test.
* PostgreSQL: one throw-away database per test session (created here, dropped
  at the end), emptied before each test. ``SCIMGATE_TEST_POSTGRES_URL`` names
  the server (default: the local one); ``SCIMGATE_TEST_REQUIRE_POSTGRES=1``
  (set by CI) turns "PostgreSQL unreachable" from a skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "SCIMGATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SCIMGATE_TEST_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session, with the schema created."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"scimgate_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip("PostgreSQL unreachable at SCIMGATE_TEST_POSTGRES_URL")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _truncate_all(engine: sa.Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database holding scimgate's schema, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scimgate.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
    else:
        url = request.getfixturevalue("postgres_url")
        engine = make_engine(url)
        _truncate_all(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="https://scim.example.test",
        dev_mode=True,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def db(engine: sa.Engine) -> Database:
    return Database(engine)


@pytest.fixture
def make_tenant(db: Database) -> Callable[..., Tenant]:
    counter = iter(range(1, 1_000_000))

    def make(slug: str | None = None, name: str | None = None) -> Tenant:
        return tenant_service.create_tenant(db, slug or f"tenant-{next(counter)}", name)

    return make


@pytest.fixture
def make_token(db: Database) -> Callable[..., IssuedToken]:
    def make(
        slug: str, name: str = "Test token", expires_in_days: int | None = None
    ) -> IssuedToken:
        return token_service.create_token(
            db, tenant_service.get_tenant(db, slug), name, expires_in_days
        )

    return make


@pytest.fixture
def app(settings: Settings, db: Database) -> Starlette:
    return create_app(settings, database=db)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
