"""Tenant-wide recomputes staged in SQL write the same events as the per-user path."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from scimgate.model.entities import Tenant, TenantSettings
from scimgate.service import groups, lifecycle, users
from scimgate.service.clock import utcnow
from scimgate.service.scope import Limits, TenantScope
from scimgate.storage.database import Database
from scimgate.storage.engine import SQLITE_BULK_CACHE_KIB, SQLITE_CACHE_KIB
from scimgate.storage.events import StoredEvent, new_event_ids
from scimgate.storage.lifecycle_sql import SMALL_SCOPE

MULTIPLE = TenantSettings(role_mode="multiple")
STRICT = TenantSettings(role_mode="multiple", deactivate_unmapped=True)


def _tenant(db: Database, tenant: Tenant) -> TenantScope:
    """Four users, groups Eng and Ops mapped to tenant_admin and ops (multiple mode)."""
    scope = TenantScope(db, tenant, "https://scim.example.test/scim/v2/x", Limits(), MULTIPLE)
    ada = users.create_user(
        scope,
        {"userName": "ada@example.com", "externalId": "x1", "displayName": "Ada Lovelace"},
    )
    bob = users.create_user(scope, {"userName": "bob@example.com"})
    users.create_user(scope, {"userName": "cy@example.com"})
    dee = users.create_user(scope, {"userName": "dee@example.com"})
    members = {"Eng": [ada.id, bob.id], "Ops": [ada.id, dee.id]}
    for name, ids in members.items():
        groups.create_group(scope, {"displayName": name, "members": [{"value": i} for i in ids]})
    with db.tenant(tenant.id, write=True) as repo:
        repo.roles.add_role("ops", "Operations", utcnow())
        repo.roles.add_rule("display_name", "Eng", "tenant_admin", 10, utcnow())
        repo.roles.add_rule("display_name", "Ops", "ops", 20, utcnow())
        lifecycle.emit(repo, lifecycle.recompute(repo, MULTIPLE, None))
    return scope


def _changes(db: Database, tenant: Tenant, how: str) -> list[list[StoredEvent]]:
    """The events of two changes: deactivate-on-leave on and the Ops rule dropped; the
    rule put back. ``how``: recompute the whole "tenant", a "list" of its users, or
    "each" user on its own (the one-user path)."""

    def recompute(repo: Any) -> None:
        ids = [row.id for row in repo.app.users_page(None, 100)]
        scopes: list[list[str] | None] = {
            "tenant": [None],
            "list": [ids],
            "each": [[i] for i in ids],
        }[how]
        for scope in scopes:
            lifecycle.emit(repo, lifecycle.recompute(repo, STRICT, scope))

    def last_seq() -> int:
        with db.tenant(tenant.id) as repo:
            return repo.events.after(0, 1000)[-1].seq

    found = []
    seq = last_seq()
    with db.tenant(tenant.id, write=True) as repo:
        ops_rule = next(r for r in repo.roles.list_rules() if r.role_key == "ops")
        repo.roles.delete_rule(ops_rule.id)
        recompute(repo)
    with db.tenant(tenant.id) as repo:
        found.append(repo.events.after(seq, 1000))
    seq = last_seq()
    with db.tenant(tenant.id, write=True) as repo:
        repo.roles.add_rule("display_name", "Ops", "ops", 20, utcnow())
        recompute(repo)
    with db.tenant(tenant.id) as repo:
        found.append(repo.events.after(seq, 1000))
    return found


def _comparable(found: list[StoredEvent]) -> list[tuple[str, str, dict[str, Any]]]:
    """Events with the tenant-specific user ids taken out, in a tenant-independent order."""
    rows = []
    for event in found:
        data = dict(event.data)
        user = dict(data.pop("user"))
        assert user.pop("id") == event.resource_id
        rows.append((event.type, user["userName"], {"user": user, **data}))
    return sorted(rows, key=lambda row: (row[0], row[1]))


_ORDER = {"user.deactivated": 0, "user.reactivated": 1, "user.roles_changed": 2}


def _in_emit_order(found: list[StoredEvent]) -> bool:
    keys = [(_ORDER[e.type], e.resource_id) for e in found]
    return keys == sorted(keys)


def test_staged_events_equal_the_per_user_events(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    small, large, single = make_tenant("small"), make_tenant("large"), make_tenant("single")
    for tenant in (small, large, single):
        _tenant(db, tenant)
    per_user = _changes(db, small, "list")
    staged = _changes(db, large, "tenant")
    one_by_one = _changes(db, single, "each")
    for mine, theirs, each in zip(staged, per_user, one_by_one, strict=True):
        assert _comparable(mine) == _comparable(theirs) == _comparable(each)
        assert _in_emit_order(mine)
        assert _in_emit_order(theirs)
    first, second = (_comparable(change) for change in staged)
    assert [(kind, name) for kind, name, _ in first] == [
        # cy (in no group) and dee (only in Ops) are in no mapped group any more
        ("user.deactivated", "cy@example.com"),
        ("user.deactivated", "dee@example.com"),
        ("user.roles_changed", "ada@example.com"),
        ("user.roles_changed", "cy@example.com"),
        ("user.roles_changed", "dee@example.com"),
    ]
    assert [(kind, name) for kind, name, _ in second] == [
        ("user.reactivated", "dee@example.com"),
        ("user.roles_changed", "ada@example.com"),
        ("user.roles_changed", "dee@example.com"),
    ]
    ada_left, ada_back = first[2][2], second[1][2]
    assert (ada_left["before"], ada_left["after"]) == (["ops", "tenant_admin"], ["tenant_admin"])
    assert (ada_back["before"], ada_back["after"]) == (["tenant_admin"], ["ops", "tenant_admin"])
    assert ada_left["user"] == {
        "userName": "ada@example.com",
        "externalId": "x1",
        "displayName": "Ada Lovelace",
        "active": True,
        "enabled": True,
        "deactivationReason": None,
    }
    assert first[0][2] == {
        "user": {
            "userName": "cy@example.com",
            "externalId": None,
            "displayName": None,
            "active": True,
            "enabled": False,
            "deactivationReason": "left_mapped_groups",
        },
        "reason": "left_mapped_groups",
    }
    assert (first[3][2]["before"], first[3][2]["after"]) == (["member"], [])
    every = [e for change in staged + per_user + one_by_one for e in change]
    assert {uuid.UUID(e.id).version for e in every} == {7}
    assert len({e.id for e in every}) == len(every)


def test_a_large_recompute_emits_the_callers_events_first(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant()
    scope = _tenant(db, tenant)
    with db.tenant(tenant.id) as repo:
        seq = repo.events.after(0, 1000)[-1].seq
    earlier = lifecycle.group_event("group.updated", {"id": "g1", "displayName": "Eng"})
    with db.tenant(tenant.id, write=True) as repo:
        left = lifecycle.recompute(repo, STRICT, None, [earlier])
        assert left == []  # written already
    with db.tenant(tenant.id) as repo:
        found = repo.events.after(seq, 1000)
    assert [e.type for e in found][:2] == ["group.updated", "user.deactivated"]
    assert scope.settings == MULTIPLE


def test_a_scope_past_the_small_limit_takes_the_staged_path(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant()
    _tenant(db, tenant)
    with db.tenant(tenant.id, write=True) as repo:
        ids = [row.id for row in repo.app.users_page(None, 100)]
        # Unknown ids pad the scope past the limit; they match no user.
        padded = ids + [str(uuid.uuid4()) for _ in range(SMALL_SCOPE)]
        assert lifecycle.recompute(repo, STRICT, padded) == []
    with db.tenant(tenant.id) as repo:
        gone = [e for e in repo.events.after(0, 1000) if e.type == "user.deactivated"]
    # Only cy is in no mapped group; the unknown ids changed nothing.
    assert [e.data["user"]["userName"] for e in gone] == ["cy@example.com"]


def test_event_ids_are_time_ordered_uuid7() -> None:
    first = new_event_ids(1000)
    assert len(set(first)) == 1000
    assert {uuid.UUID(i).version for i in first} == {7}
    assert {uuid.UUID(i).variant for i in first} == {uuid.RFC_4122}
    later = new_event_ids(1)[0]
    assert later[:13] >= max(first)[:13]  # the millisecond prefix never goes back


def test_a_staged_recompute_gives_back_its_page_cache(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the page cache size is a SQLite setting")
    tenant = make_tenant()
    _tenant(db, tenant)
    with db.tenant(tenant.id, write=True) as repo:
        conn = repo._conn
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        lifecycle.emit(repo, lifecycle.recompute(repo, STRICT, None))
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB


def test_the_page_cache_is_given_back_when_a_staged_recompute_fails(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the page cache size is a SQLite setting")
    tenant = make_tenant()
    drivers: list[Any] = []

    def failing_recompute() -> None:
        with db.tenant(tenant.id, write=True) as repo, repo.staging():
            driver = repo._conn.connection.driver_connection
            drivers.append(driver)
            assert driver.execute("PRAGMA cache_size").fetchone()[0] == -SQLITE_BULK_CACHE_KIB
            raise RuntimeError("a statement of the recompute failed")

    with pytest.raises(RuntimeError):
        failing_recompute()
    # The pooled driver connection, after the rollback.
    assert drivers[0].execute("PRAGMA cache_size").fetchone()[0] == -SQLITE_CACHE_KIB


def test_a_scope_of_twenty_thousand_ids_stays_within_the_parameter_limits(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    """Deleting or renaming a big mapped group recomputes its former members: their ids
    must not be bound once per use in a statement (PostgreSQL takes 65,535 parameters,
    some SQLite builds 32,766)."""
    tenant = make_tenant()
    _tenant(db, tenant)
    with db.tenant(tenant.id, write=True) as repo:
        ids = [row.id for row in repo.app.users_page(None, 100)]
        padded = ids + [str(uuid.uuid4()) for _ in range(20_000 - len(ids))]
        lifecycle.emit(repo, lifecycle.recompute(repo, STRICT, padded))
    with db.tenant(tenant.id) as repo:
        gone = [e for e in repo.events.after(0, 1000) if e.type == "user.deactivated"]
    assert [e.data["user"]["userName"] for e in gone] == ["cy@example.com"]
