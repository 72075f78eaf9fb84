"""Migrations build exactly the schema the code declares, on both backends."""

# ruff: noqa: RUF001 - look-alike letters are what these tests are about

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from scimgate.model.identity import fold_user_name
from scimgate.storage.migrate import alembic_config, upgrade
from scimgate.storage.tables import tenants, users
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


def _seed_users(url: str, names: list[str]) -> dict[str, str]:
    """Users of one tenant as revision 0004 stored them (the name lower-cased); name -> id."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    engine = sa.create_engine(url)
    ids = {name: uuid.uuid4().hex for name in names}
    with engine.begin() as conn:
        tenant_id = conn.execute(
            sa.insert(tenants)
            .values(slug="acme", name="Acme", created_at=now, disabled=False, settings={})
            .returning(tenants.c.id)
        ).scalar_one()
        for name, user_id in ids.items():
            conn.execute(
                sa.insert(users).values(
                    id=user_id,
                    tenant_id=tenant_id,
                    user_name=name,
                    user_name_lower=name.lower(),
                    active=True,
                    created=now,
                    last_modified=now,
                    version=1,
                    doc={},
                )
            )
    engine.dispose()
    return ids


def _stored_folds(url: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.id, users.c.user_name_lower)).all()
    engine.dispose()
    return {row.id: row.user_name_lower for row in rows}


def test_the_unicode_migration_refolds_stored_user_names(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0004")
    names = ["BJensen", "E\u0301mile", "ｅｘａｍｐｌｅ", " padded ", "STRASSE", "straße", "İris"]
    ids = _seed_users(empty_database_url, names)
    upgrade(empty_database_url, "0005_unicode_user_names")
    assert _stored_folds(empty_database_url) == {ids[name]: fold_user_name(name) for name in names}
    assert fold_user_name("E\u0301mile") != "E\u0301mile".lower()  # the rows did move
    command.downgrade(alembic_config(empty_database_url), "0004")
    assert _stored_folds(empty_database_url) == {ids[name]: name.lower() for name in names}


def test_the_unicode_migration_refuses_to_merge_users(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0004")
    ids = _seed_users(empty_database_url, ["émile", "e\u0301mile", "ｂｏｂ", "Bob", "zoe"])
    with pytest.raises(RuntimeError, match="would share a userName") as refused:
        upgrade(empty_database_url, "0005_unicode_user_names")
    message = str(refused.value)
    assert all(ids[name] in message for name in ("émile", "e\u0301mile", "ｂｏｂ", "Bob"))
    assert ids["zoe"] not in message
    # nothing was half-done: the rows keep what 0004 stored
    assert sorted(_stored_folds(empty_database_url).values()) == sorted(
        ["émile", "e\u0301mile", "ｂｏｂ", "bob", "zoe"]
    )
