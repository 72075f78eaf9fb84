"""Lifecycle rules: enabled state, effective roles and the outbox, in the change's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimgate.errors import PreconditionFailed, Uniqueness
from scimgate.model.entities import Tenant, TenantSettings
from scimgate.model.patch import parse_patch_request
from scimgate.service import groups, lifecycle, users
from scimgate.service.clock import utcnow
from scimgate.service.scope import Limits, TenantScope
from scimgate.storage.database import Database
from scimgate.storage.events import StoredEvent

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def ops(*operations: dict[str, Any]) -> Any:
    return parse_patch_request(
        {"schemas": [PATCH], "Operations": list(operations)}, max_operations=100
    )


@pytest.fixture
def make_scope(db: Database, make_tenant: Callable[..., Tenant]) -> Callable[..., TenantScope]:
    tenant = make_tenant("acme")

    def make(**settings: Any) -> TenantScope:
        return TenantScope(
            db,
            tenant,
            "https://scim.example.test/scim/v2/acme",
            Limits(),
            TenantSettings(**settings),
        )

    return make


def events_of(scope: TenantScope) -> list[StoredEvent]:
    with scope.db.tenant(scope.tenant.id) as repo:
        return repo.events.after(0, 10_000)


def roles_of(scope: TenantScope, user_id: str) -> list[str]:
    with scope.db.tenant(scope.tenant.id) as repo:
        return repo.roles.roles_of([user_id]).get(user_id, [])


def state_of(scope: TenantScope, user_id: str) -> tuple[bool, str | None]:
    with scope.db.tenant(scope.tenant.id) as repo:
        row = repo.users.get(user_id)
    assert row is not None
    return row.enabled, row.deactivation_reason


def add_rule(scope: TenantScope, group: str, role: str, priority: int = 10) -> None:
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        repo.roles.add_rule("display_name", group, role, priority, utcnow())
        lifecycle.emit(repo, lifecycle.recompute(repo, scope.settings, None))


def test_a_new_user_gets_the_default_role_and_two_events(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    assert roles_of(scope, user.id) == ["member"]
    kinds = [(e.type, e.resource_id) for e in events_of(scope)]
    assert kinds == [("user.created", user.id), ("user.roles_changed", user.id)]
    created = events_of(scope)[0]
    assert created.data["user"]["userName"] == "ada@example.com"
    assert created.data["enabled"] is True


def test_no_default_role_means_no_role(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope(default_role=None)
    user = users.create_user(scope, {"userName": "ada@example.com"})
    assert roles_of(scope, user.id) == []
    assert [e.type for e in events_of(scope)] == ["user.created"]


def test_a_failed_write_leaves_no_event(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope()
    users.create_user(scope, {"userName": "ada@example.com"})
    before = len(events_of(scope))
    with pytest.raises(Exception, match="already taken"):
        users.create_user(scope, {"userName": "ADA@example.com"})
    assert len(events_of(scope)) == before


def test_idp_deactivation_disables_removes_roles_and_says_why(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": False}}))
    assert state_of(scope, user.id) == (False, "idp_deactivated")
    assert roles_of(scope, user.id) == []
    tail = events_of(scope)[-3:]
    assert [e.type for e in tail] == ["user.updated", "user.deactivated", "user.roles_changed"]
    assert tail[1].data["reason"] == "idp_deactivated"
    assert (tail[2].data["before"], tail[2].data["after"]) == (["member"], [])

    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": True}}))
    assert state_of(scope, user.id) == (True, None)
    assert roles_of(scope, user.id) == ["member"]
    assert [e.type for e in events_of(scope)[-3:]] == [
        "user.updated",
        "user.reactivated",
        "user.roles_changed",
    ]


def test_a_mapped_group_grants_its_role(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope()
    add_rule(scope, "Engineering", "tenant_admin")
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "engineering"})  # matched case-insensitively
    groups.patch_group(
        scope, group.id, ops({"op": "add", "path": "members", "value": [{"value": user.id}]})
    )
    assert roles_of(scope, user.id) == ["tenant_admin"]
    changed = [e for e in events_of(scope) if e.type == "user.roles_changed"][-1]
    assert (changed.data["before"], changed.data["after"]) == (["member"], ["tenant_admin"])
    member_added = [e for e in events_of(scope) if e.type == "group.member_added"]
    assert member_added[-1].data["member"]["id"] == user.id


def test_single_mode_takes_the_highest_priority_and_multiple_takes_all(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        repo.roles.add_role("auditor", "Auditor", utcnow())
    add_rule(scope, "Engineering", "tenant_admin", priority=20)
    add_rule(scope, "Audit", "auditor", priority=5)
    user = users.create_user(scope, {"userName": "ada@example.com"})
    for name in ("Engineering", "Audit"):
        groups.create_group(scope, {"displayName": name, "members": [{"value": user.id}]})
    assert roles_of(scope, user.id) == ["auditor"]
    multiple = make_scope(role_mode="multiple")
    with multiple.db.tenant(multiple.tenant.id, write=True) as repo:
        lifecycle.emit(repo, lifecycle.recompute(repo, multiple.settings, None))
    assert roles_of(multiple, user.id) == ["auditor", "tenant_admin"]


def test_leaving_every_mapped_group_deactivates_when_the_tenant_says_so(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope(deactivate_unmapped=True)
    add_rule(scope, "Engineering", "tenant_admin")
    user = users.create_user(scope, {"userName": "ada@example.com"})
    # In no mapped group yet: not let in.
    assert state_of(scope, user.id) == (False, "left_mapped_groups")
    group = groups.create_group(scope, {"displayName": "Engineering"})
    add = ops({"op": "add", "path": "members", "value": [{"value": user.id}]})
    remove = ops({"op": "remove", "path": f'members[value eq "{user.id}"]'})
    groups.patch_group(scope, group.id, add)
    assert state_of(scope, user.id) == (True, None)
    assert roles_of(scope, user.id) == ["tenant_admin"]

    groups.patch_group(scope, group.id, remove)
    assert state_of(scope, user.id) == (False, "left_mapped_groups")
    assert roles_of(scope, user.id) == []
    deactivated = [e for e in events_of(scope) if e.type == "user.deactivated"][-1]
    assert deactivated.data["reason"] == "left_mapped_groups"

    # The IdP deactivates the user itself; re-adding must not let it back in.
    users.patch_user(scope, user.id, ops({"op": "replace", "path": "active", "value": False}))
    groups.patch_group(scope, group.id, add)
    assert state_of(scope, user.id) == (False, "idp_deactivated")
    assert roles_of(scope, user.id) == []


def test_deactivation_keeps_memberships(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": user.id}]})
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": False}}))
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": True}}))
    fetched = groups.get_group(scope, group.id)
    assert [m["value"] for m in fetched.body["members"]] == [user.id]


def test_soft_delete_hides_the_user_and_frees_its_name(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": user.id}]})
    users.delete_user(scope, user.id)
    with pytest.raises(users.UserNotFound):
        users.get_user(scope, user.id)
    with scope.db.tenant(scope.tenant.id) as repo:
        assert repo.users.snapshots([user.id])[user.id]["deactivationReason"] == "deleted"
    assert "members" not in groups.get_group(scope, group.id).body
    kinds = [e.type for e in events_of(scope)][-3:]
    assert kinds == ["user.deleted", "user.roles_changed", "group.member_removed"]
    # The IdP may create the same userName again.
    again = users.create_user(scope, {"userName": "ada@example.com"})
    assert again.id != user.id


def test_hard_delete_removes_the_row(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope(delete_mode="hard")
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.delete_user(scope, user.id)
    with scope.db.tenant(scope.tenant.id) as repo:
        assert repo.users.snapshots([user.id]) == {}
    assert events_of(scope)[-2].type == "user.deleted"


def test_renaming_a_group_into_a_rule_grants_the_role(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    add_rule(scope, "Admins", "tenant_admin")
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "Staff", "members": [{"value": user.id}]})
    assert roles_of(scope, user.id) == ["member"]
    groups.patch_group(
        scope, group.id, ops({"op": "replace", "value": {"id": group.id, "displayName": "Admins"}})
    )
    assert roles_of(scope, user.id) == ["tenant_admin"]
    groups.delete_group(scope, group.id)
    assert roles_of(scope, user.id) == ["member"]
    assert "group.deleted" in [e.type for e in events_of(scope)]


def test_events_are_ordered_and_unique(make_scope: Callable[..., TenantScope]) -> None:
    scope = make_scope()
    for i in range(5):
        users.create_user(scope, {"userName": f"user{i}@example.com"})
    found = events_of(scope)
    assert [e.seq for e in found] == sorted(e.seq for e in found)
    assert len({e.id for e in found}) == len(found)


def test_a_write_stores_its_events_in_the_order_it_emits_them(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": False}}))
    tail = events_of(scope)[-3:]
    assert [e.type for e in tail] == ["user.updated", "user.deactivated", "user.roles_changed"]
    assert [e.seq for e in tail] == sorted(e.seq for e in tail)
    assert len({e.id for e in tail}) == 3


def test_deleting_a_deactivated_user_says_it_left_its_groups_and_no_role_change(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    made = [
        groups.create_group(scope, {"displayName": name, "members": [{"value": user.id}]})
        for name in ("Sales", "Admins", "Ops")
    ]
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": False}}))
    before = len(events_of(scope))
    users.delete_user(scope, user.id)
    tail = events_of(scope)[before:]
    assert [e.type for e in tail] == ["user.deleted"] + ["group.member_removed"] * 3
    assert [e.resource_id for e in tail[1:]] == sorted(g.id for g in made)
    assert tail[0].data["user"]["enabled"] is False
    assert tail[0].data["user"]["deactivationReason"] == "deleted"
    assert roles_of(scope, user.id) == []


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_deleting_an_enabled_user_revokes_its_roles_and_leaves_its_groups(
    make_scope: Callable[..., TenantScope], mode: str
) -> None:
    scope = make_scope(delete_mode=mode)
    user = users.create_user(
        scope, {"userName": "ada@example.com", "displayName": "Ada", "externalId": "00u1"}
    )
    group = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": user.id}]})
    version = groups.get_group(scope, group.id).version
    before = len(events_of(scope))
    users.delete_user(scope, user.id)
    tail = events_of(scope)[before:]
    assert [e.type for e in tail] == ["user.deleted", "user.roles_changed", "group.member_removed"]
    assert tail[0].data["mode"] == mode
    assert tail[0].data["user"] == {
        "id": user.id,
        "userName": "ada@example.com",
        "externalId": "00u1",
        "displayName": "Ada",
        "active": True,
        "enabled": False,
        "deactivationReason": "deleted",
    }
    assert (tail[1].data["before"], tail[1].data["after"]) == (["member"], [])
    assert tail[2].data["member"] == tail[0].data["user"]
    assert roles_of(scope, user.id) == []
    assert groups.get_group(scope, group.id).version == version + 1


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_a_delete_with_an_outdated_etag_changes_nothing(
    make_scope: Callable[..., TenantScope], mode: str
) -> None:
    scope = make_scope(delete_mode=mode)
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": user.id}]})
    before = len(events_of(scope))
    with pytest.raises(PreconditionFailed):
        users.delete_user(scope, user.id, if_match='W/"99"')
    assert len(events_of(scope)) == before
    assert roles_of(scope, user.id) == ["member"]
    assert state_of(scope, user.id) == (True, None)
    assert [m["value"] for m in groups.get_group(scope, group.id).body["members"]] == [user.id]


def test_deleting_an_unknown_or_deleted_user_is_not_found(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.delete_user(scope, user.id)
    before = len(events_of(scope))
    for missing in (user.id, "no-such-user", "nul\x00id"):
        with pytest.raises(users.UserNotFound):
            users.delete_user(scope, missing)
    assert len(events_of(scope)) == before


def test_a_taken_user_name_is_refused_without_touching_its_holder(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    with pytest.raises(Uniqueness):
        users.create_user(scope, {"userName": "ADA@example.com"})
    assert users.get_user(scope, user.id).body["userName"] == "ada@example.com"
    assert roles_of(scope, user.id) == ["member"]


def test_a_replace_that_changes_only_the_case_of_the_user_name_keeps_it(
    make_scope: Callable[..., TenantScope],
) -> None:
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.create_user(scope, {"userName": "bob@example.com"})
    renamed = users.replace_user(scope, user.id, {"userName": "Ada@Example.com"})
    assert renamed.body["userName"] == "Ada@Example.com"
    with pytest.raises(Uniqueness):
        users.replace_user(scope, user.id, {"userName": "BOB@example.com"})


def test_a_delete_revokes_whatever_roles_the_user_still_holds(
    make_scope: Callable[..., TenantScope],
) -> None:
    """The delete asks the database which roles there are, not the rule: a role
    granted to a deactivated user outside the rule goes too."""
    scope = make_scope()
    user = users.create_user(scope, {"userName": "ada@example.com"})
    users.patch_user(scope, user.id, ops({"op": "replace", "value": {"active": False}}))
    with scope.db.tenant(scope.tenant.id, write=True) as repo:
        repo.roles.grant(user.id, ["auditor"])
    users.delete_user(scope, user.id)
    last = events_of(scope)[-1]
    assert (last.type, last.data["before"], last.data["after"]) == (
        "user.roles_changed",
        ["auditor"],
        [],
    )
    assert roles_of(scope, user.id) == []
