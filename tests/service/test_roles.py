"""Role and rule CRUD in the service layer, and the recompute each rule change runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimgate.errors import BadRequest, Conflict, InvalidValue, Uniqueness
from scimgate.model.entities import Tenant
from scimgate.service import groups as group_service
from scimgate.service import roles
from scimgate.service import settings as settings_service
from scimgate.service import users as user_service
from scimgate.service.roles import RoleNotFound, RuleNotFound
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
def acme(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme")


def _scope(db: Database) -> TenantScope:
    """A SCIM scope with the tenant's current settings."""
    return TenantScope.of(db, get_tenant(db, "acme"), "https://x.test/scim/v2/acme", Limits())


def _user(db: Database, name: str) -> str:
    return user_service.create_user(_scope(db), {"schemas": [USER], "userName": name}).id


def _group(db: Database, name: str, members: list[str], **extra: Any) -> str:
    body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
    return group_service.create_group(_scope(db), {**body, **extra}).id


def _roles_of(db: Database, tenant: Tenant, user_id: str) -> list[str]:
    with db.tenant(tenant.id) as repo:
        return repo.roles.roles_of([user_id]).get(user_id, [])


def _events(db: Database, tenant: Tenant, kind: str) -> list[Any]:
    with db.tenant(tenant.id) as repo:
        return [e for e in repo.events.after(0, 10_000) if e.type == kind]


def test_adding_a_rule_recomputes_and_records_the_change(db: Database, acme: Tenant) -> None:
    ada = _user(db, "ada")
    bob = _user(db, "bob")
    _group(db, "Engineering", [ada])
    before = len(_events(db, acme, "user.roles_changed"))
    rule = roles.add_rule(db, acme, "Engineering", "tenant_admin")
    assert (rule.match_type, rule.match_value, rule.priority) == (
        "display_name",
        "Engineering",
        100,
    )
    assert _roles_of(db, acme, ada) == ["tenant_admin"]
    assert _roles_of(db, acme, bob) == ["member"]
    changed = _events(db, acme, "user.roles_changed")[before:]
    assert [(e.resource_id, e.data["before"], e.data["after"]) for e in changed] == [
        (ada, ["member"], ["tenant_admin"])
    ]


def test_removing_a_rule_recomputes(db: Database, acme: Tenant) -> None:
    ada = _user(db, "ada")
    _group(db, "Engineering", [ada])
    rule = roles.add_rule(db, acme, "Engineering", "tenant_admin")
    roles.remove_rule(db, acme, rule.id)
    assert _roles_of(db, acme, ada) == ["member"]
    with pytest.raises(RuleNotFound):
        roles.remove_rule(db, acme, rule.id)


def test_rules_list_strongest_first_with_member_counts(db: Database, acme: Tenant) -> None:
    ada = _user(db, "ada")
    bob = _user(db, "bob")
    _group(db, "Engineering", [ada, bob])
    _group(db, "Admins", [ada], externalId="ext-admins")
    weak = roles.add_rule(db, acme, "engineering", "member", priority=50)
    strong = roles.add_rule(
        db, acme, "ext-admins", "tenant_admin", priority=1, match_type="external_id"
    )
    assert [(r.id, n) for r, n in roles.list_rules(db, acme)] == [(strong.id, 1), (weak.id, 2)]


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (("Eng", "nothing"), {}, InvalidValue),
        (("Eng", "member"), {"match_type": "email"}, InvalidValue),
        (("Eng", "member"), {"priority": -1}, InvalidValue),
        (("Eng", "member"), {"priority": 1_000_001}, InvalidValue),
        (("Eng", "member"), {"priority": True}, InvalidValue),
        (("  ", "member"), {}, InvalidValue),
        (("x" * 513, "member"), {}, InvalidValue),
    ],
)
def test_bad_rules_are_refused(
    db: Database, acme: Tenant, args: tuple[str, str], kwargs: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        roles.add_rule(db, acme, *args, **kwargs)
    assert roles.list_rules(db, acme) == []


def test_a_duplicate_rule_is_refused_case_insensitively_by_name(db: Database, acme: Tenant) -> None:
    roles.add_rule(db, acme, "Engineering", "tenant_admin")
    with pytest.raises(Uniqueness):
        roles.add_rule(db, acme, "ENGINEERING", "tenant_admin")
    # The same group may map to another role, and an id match is another rule.
    roles.add_rule(db, acme, "Engineering", "member")
    roles.add_rule(db, acme, "Engineering", "tenant_admin", match_type="external_id")
    assert len(roles.list_rules(db, acme)) == 3


def test_roles_can_be_added_and_deleted(db: Database, acme: Tenant) -> None:
    added = roles.add_role(db, acme, "billing", " Billing ")
    assert (added.key, added.name) == ("billing", "Billing")
    with pytest.raises(Uniqueness):
        roles.add_role(db, acme, "billing")
    roles.delete_role(db, acme, "billing")
    assert [r.key for r in roles.list_roles(db, acme)] == ["member", "tenant_admin"]
    with pytest.raises(RoleNotFound):
        roles.delete_role(db, acme, "billing")


@pytest.mark.parametrize("key", ["", "with space", "-lead", "x" * 65, "é"])
def test_a_bad_role_key_is_refused(db: Database, acme: Tenant, key: str) -> None:
    with pytest.raises(InvalidValue):
        roles.add_role(db, acme, key)


def test_the_default_role_and_roles_in_use_cannot_be_deleted(db: Database, acme: Tenant) -> None:
    with pytest.raises(Conflict, match="default role"):
        roles.delete_role(db, acme, "member")
    roles.add_rule(db, acme, "Engineering", "tenant_admin")
    with pytest.raises(Conflict, match="role mappings"):
        roles.delete_role(db, acme, "tenant_admin")


def test_single_and_multiple_role_modes(db: Database, acme: Tenant) -> None:
    ada = _user(db, "ada")
    _group(db, "Engineering", [ada])
    _group(db, "Finance", [ada])
    roles.add_role(db, acme, "billing")
    roles.add_rule(db, acme, "Finance", "billing", priority=1)
    roles.add_rule(db, acme, "Engineering", "tenant_admin", priority=2)
    assert _roles_of(db, acme, ada) == ["billing"]
    settings_service.update_settings(db, acme, {"role_mode": "multiple"})
    assert _roles_of(db, acme, ada) == ["billing", "tenant_admin"]


def test_a_settings_change_that_moves_nothing_emits_nothing(db: Database, acme: Tenant) -> None:
    _user(db, "ada")
    with db.tenant(acme.id) as repo:
        before = len(repo.events.after(0, 10_000))
    settings_service.update_settings(db, acme, {"role_mode": "single", "soft_delete_days": 9})
    with db.tenant(acme.id) as repo:
        assert len(repo.events.after(0, 10_000)) == before
    assert settings_service.get_settings(db, acme).soft_delete_days == 9


@pytest.mark.parametrize(
    "changes",
    [
        {"role_mode": "both"},
        {"default_role": ""},
        {"default_role": 3},
        {"default_role": "nothing"},
        {"deactivate_unmapped": "yes"},
        {"delete_mode": "never"},
        {"soft_delete_days": True},
        {"soft_delete_days": 0},
        {"soft_delete_days": 1.5},
        {"attribute_mapping": {"x": "emails["}},
        {"scim_extensions": "urn:x"},
        {"scim_extensions": [5]},
        {"colour": "blue"},
    ],
)
def test_bad_settings_are_refused(db: Database, acme: Tenant, changes: dict[str, Any]) -> None:
    before = settings_service.get_settings(db, acme)
    with pytest.raises(BadRequest):
        settings_service.update_settings(db, acme, changes)
    assert settings_service.get_settings(db, acme) == before
