"""Single-statement reads (``Database.reads``): the same rows and groups the stores give,
one statement each, the tenant's credentials generation alongside, and only this tenant's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from scimgate.model.entities import Tenant
from scimgate.storage.database import CheckedDatabase, Database
from scimgate.storage.reads import AwaitedReads

T = TypeVar("T")

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _user(db: Database, tenant: Tenant, name: str) -> str:
    user_id = str(uuid.uuid4())
    with db.tenant(tenant.id, write=True) as repo:
        assert repo.users.insert(
            user_id=user_id,
            now=NOW,
            doc={"userName": name, "displayName": name.title(), "active": True},
            enabled=True,
            deactivation_reason=None,
            user_name=name,
            external_id=f"ext-{name}",
            display_name=name.title(),
            active=True,
        )
    return user_id


def _group(db: Database, tenant: Tenant, name: str, members: list[str]) -> str:
    group_id = str(uuid.uuid4())
    with db.tenant(tenant.id, write=True) as repo:
        repo.groups.insert(group_id=group_id, now=NOW, display_name=name, external_id=None, doc={})
        repo.groups.add_members(group_id, members)
    return group_id


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def test_a_user_comes_back_as_the_store_gives_it_with_its_groups_in_order(
    db: Database, acme: Tenant
) -> None:
    user = _user(db, acme, "bjensen")
    # Inserted out of order: the groups come back sorted by folded displayName.
    zeta = _group(db, acme, "zeta", [user])
    alpha = _group(db, acme, "Alpha", [user])
    _group(db, acme, "others", [])
    with db.tenant(acme.id) as repo:
        stored = repo.users.get(user)
        expected_groups = repo.users.groups_of([user])[user]
    with db.reads(acme.id) as reads:
        found = reads.user(user, groups=True)
        alone = reads.user(user, groups=False)
        named = reads.user_named("bjensen", groups=True)
    assert found is not None
    assert alone is not None
    assert named is not None
    assert found.row == stored == alone.row == named.row
    assert found.groups == expected_groups
    assert [ref.id for ref in found.groups or []] == [alpha, zeta]
    assert alone.groups is None
    assert named.groups == found.groups


def test_a_user_in_no_group_has_none(db: Database, acme: Tenant) -> None:
    user = _user(db, acme, "solo")
    with db.reads(acme.id) as reads:
        found = reads.user(user, groups=True)
    assert found is not None
    assert found.groups is None


def test_another_tenants_user_and_group_are_not_found(
    db: Database, acme: Tenant, make_tenant: Callable[..., Tenant]
) -> None:
    other = make_tenant("other")
    user = _user(db, other, "bjensen")
    group = _group(db, other, "staff", [user])
    with db.reads(acme.id) as reads:
        assert reads.user(user, groups=True) is None
        assert reads.user_named("bjensen", groups=False) is None
        assert reads.group(group) is None
    with db.reads(other.id) as reads:
        assert reads.user(user, groups=True) is not None
        found_group = reads.group(group)
    assert found_group is not None
    with db.tenant(other.id) as repo:
        assert found_group == repo.groups.get(group)


def test_unknown_ids_and_nul_are_not_found(db: Database, acme: Tenant) -> None:
    with db.reads(acme.id) as reads:
        assert reads.user(str(uuid.uuid4()), groups=True) is None
        assert reads.user("bad\x00id", groups=True) is None
        assert reads.user_named("no\x00body", groups=True) is None
        assert reads.group("bad\x00id") is None


def test_the_generation_comes_with_every_read(db: Database, acme: Tenant) -> None:
    user = _user(db, acme, "bjensen")
    seen: list[int | None] = []
    checked = CheckedDatabase(db, lambda repo: None, seen.append, seen.append)
    with db.tenant(acme.id) as repo:
        generation = repo.credentials_generation()
    with checked.reads(acme.id) as reads:
        reads.user(user, groups=True)
        reads.user(str(uuid.uuid4()), groups=False)  # a miss still brings it
        reads.group(str(uuid.uuid4()))
    with checked.reads(acme.id + 1000) as reads:
        reads.user(user, groups=True)  # no such tenant: None
    assert seen == [generation, generation, generation, None]


def test_reads_leave_the_connection_outside_any_transaction(db: Database, acme: Tenant) -> None:
    user = _user(db, acme, "bjensen")
    with db.reads(acme.id) as reads:
        reads.user(user, groups=True)
    # The pooled connection is handed back as it was: a write transaction starts cleanly.
    with db.tenant(acme.id, write=True) as repo:
        assert repo.users.get(user) is not None
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if db.dialect == "sqlite":
            assert driver.in_transaction is False
        else:
            assert driver.autocommit is False
    finally:
        raw.close()


def _awaited(db: Database, tenant_id: int, read: Callable[[AwaitedReads], Awaitable[T]]) -> T:
    """``read`` on ``db.awaited_reads``, on an event loop of its own (opened and closed here)."""

    async def run() -> T:
        await db.open_awaited_reads()
        try:
            async with db.awaited_reads(tenant_id) as reads:
                return await read(reads)
        finally:
            await db.close_awaited_reads()

    return asyncio.run(run())


def test_awaited_reads_give_what_the_reads_give(db: Database, acme: Tenant) -> None:
    if db.dialect != "postgresql":
        pytest.skip("awaited reads are PostgreSQL's; SQLite's reads run inline on the loop")
    user = _user(db, acme, "bjensen")
    group = _group(db, acme, "Staff", [user])
    _group(db, acme, "alpha", [user])

    async def everything(reads: AwaitedReads) -> list[object]:
        return [
            await reads.user(user, groups=True),
            await reads.user(user, groups=False),
            await reads.user_named("bjensen", groups=True),
            await reads.group(group),
            await reads.user(str(uuid.uuid4()), groups=True),
            await reads.user("bad\x00id", groups=True),
            await reads.user_named("no\x00body", groups=False),
            await reads.group("bad\x00id"),
        ]

    with db.reads(acme.id) as reads:
        expected = [
            reads.user(user, groups=True),
            reads.user(user, groups=False),
            reads.user_named("bjensen", groups=True),
            reads.group(group),
            None,
            None,
            None,
            None,
        ]
    assert expected[0] is not None
    assert expected[3] is not None
    assert _awaited(db, acme.id, everything) == expected
    assert _awaited(db, acme.id + 1000, lambda reads: reads.user(user, groups=True)) is None


def test_awaited_reads_bring_the_generation(db: Database, acme: Tenant) -> None:
    if db.dialect != "postgresql":
        pytest.skip("awaited reads are PostgreSQL's; SQLite's reads run inline on the loop")
    user = _user(db, acme, "bjensen")
    seen: list[int | None] = []
    refused: list[int | None] = []
    checked = CheckedDatabase(db, lambda repo: None, refused.append, seen.append)
    with db.tenant(acme.id) as repo:
        generation = repo.credentials_generation()
    assert _awaited(checked, acme.id, lambda reads: reads.user(user, groups=True)) is not None
    assert _awaited(checked, acme.id, lambda reads: reads.group(str(uuid.uuid4()))) is None
    assert seen == [generation, generation]
    assert refused == []  # the awaited hook, not the one that may look the token up


def test_a_dropped_awaited_connection_is_replaced_before_use(db: Database, acme: Tenant) -> None:
    if db.dialect != "postgresql":
        pytest.skip("awaited reads are PostgreSQL's; SQLite's reads run inline on the loop")
    user = _user(db, acme, "bjensen")

    async def run() -> list[bool]:
        await db.open_awaited_reads()
        try:
            found = []
            for _ in range(2):
                async with db.awaited_reads(acme.id) as reads:
                    found.append(await reads.user(user, groups=False) is not None)
                # The server ends the pool's session (a restart, an idle timeout): the
                # next read must get a live connection, not the error.
                with db.engine.connect() as conn:
                    ended = conn.exec_driver_sql(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = '' AND pid <> pg_backend_pid()"
                        " AND datname = current_database() AND state = 'idle'"
                    ).fetchall()
                assert ended, "no idle session to end"
                await asyncio.sleep(0.05)
            return found
        finally:
            await db.close_awaited_reads()

    assert asyncio.run(run()) == [True, True]


def test_awaited_reads_connect_as_the_engine_does(db: Database, acme: Tenant) -> None:
    if db.dialect != "postgresql":
        pytest.skip("awaited reads are PostgreSQL's; SQLite's reads run inline on the loop")
    user = _user(db, acme, "bjensen")
    # SQLAlchemy's form for several hosts (failover), which a re-rendered URL loses.
    url = db.engine.url
    hosts = url.set(host=None, port=None).update_query_pairs(
        [("host", f"{url.host}:{url.port or 5432}")] * 2
    )
    several = Database.from_url(hosts.render_as_string(hide_password=False), pool_size=1)
    try:
        found = _awaited(several, acme.id, lambda reads: reads.user(user, groups=True))
    finally:
        several.dispose()
    assert found is not None
    assert found.row.id == user
