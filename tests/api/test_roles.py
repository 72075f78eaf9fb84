"""Roles, role mappings and what they do to users, seen through the host API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import HostApi, assert_problem
from tests.scim.contract import ScimClient, member

ACME = "/tenants/acme"


def _user(api: HostApi, user: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(f"{ACME}/users/{user['id']}")
    return found


def _events(api: HostApi, type_: str, after: int = 0) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok(f"{ACME}/events", type=type_, after=after, limit=1000)[
        "items"
    ]
    return found


def _cursor(api: HostApi) -> int:
    next_seq: int = api.ok(f"{ACME}/events", limit=1000)["next"]
    return next_seq


def _remove_member(scim: ScimClient, group: dict[str, Any], user: dict[str, Any]) -> None:
    response = scim.patch_ops(
        f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{user["id"]}"]'}
    )
    assert response.status_code in (200, 204), response.text


def _add_member(scim: ScimClient, group: dict[str, Any], user: dict[str, Any]) -> None:
    response = scim.patch_ops(
        f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [member(user)]}
    )
    assert response.status_code in (200, 204), response.text


# -- roles ---------------------------------------------------------------------------


def test_a_tenant_starts_with_the_built_in_roles(api: HostApi) -> None:
    roles = api.ok(f"{ACME}/roles")["items"]
    assert [(r["key"], r["name"]) for r in roles] == [
        ("member", "Standard User"),
        ("tenant_admin", "Tenant Admin"),
    ]


def test_add_and_delete_a_role(api: HostApi) -> None:
    created = api.created(f"{ACME}/roles", {"key": "billing", "name": "Billing"})
    assert created["key"] == "billing"
    assert created["name"] == "Billing"
    assert "billing" in [r["key"] for r in api.ok(f"{ACME}/roles")["items"]]
    assert api.delete(f"{ACME}/roles/billing").status_code == 204
    assert "billing" not in [r["key"] for r in api.ok(f"{ACME}/roles")["items"]]


def test_a_role_name_defaults_to_its_key(api: HostApi) -> None:
    assert api.created(f"{ACME}/roles", {"key": "auditor"})["name"] == "auditor"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"key": "member"}, 409, "uniqueness"),
        ({"key": "has space"}, 400, "invalid_value"),
        ({"key": ""}, 422, "invalid_request"),
        ({"name": "No key"}, 422, "invalid_request"),
        ({"key": 7}, 422, "invalid_request"),
        ({"key": "x", "extra": 1}, 422, "invalid_request"),
        ([], 422, "invalid_request"),
    ],
)
def test_bad_roles_are_refused(api: HostApi, body: Any, status: int, error: str) -> None:
    assert_problem(api.post(f"{ACME}/roles", body), status, error)


def test_a_malformed_json_body_is_a_422_problem(api: HostApi) -> None:
    response = api.request(
        "POST", f"{ACME}/roles", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "invalid_request")


def test_the_default_role_cannot_be_deleted(api: HostApi) -> None:
    assert_problem(api.delete(f"{ACME}/roles/member"), 409, "conflict")


def test_a_role_a_mapping_uses_cannot_be_deleted(api: HostApi) -> None:
    api.created(f"{ACME}/role-mappings", {"group": "Admins", "role": "tenant_admin"})
    response = api.delete(f"{ACME}/roles/tenant_admin")
    assert_problem(response, 409, "conflict")
    assert "role mappings" in response.json()["detail"]


def test_deleting_an_unknown_role_is_404(api: HostApi) -> None:
    assert_problem(api.delete(f"{ACME}/roles/nothing"), 404, "not_found")


def test_deleting_a_role_users_hold_takes_it_from_them(api: HostApi, scim: ScimClient) -> None:
    api.created(f"{ACME}/roles", {"key": "guest"})
    assert api.patch(f"{ACME}/settings", {"defaultRole": "guest"}).status_code == 200
    user = scim.make_user()
    assert _user(api, user)["roles"] == ["guest"]
    assert api.patch(f"{ACME}/settings", {"defaultRole": None}).status_code == 200
    assert api.delete(f"{ACME}/roles/guest").status_code == 204
    assert _user(api, user)["roles"] == []


# -- role mappings ------------------------------------------------------------------------


def test_add_list_and_remove_a_mapping(api: HostApi) -> None:
    created = api.created(
        f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin", "priority": 5}
    )
    assert created["group"] == "Engineering"
    assert created["matchType"] == "display_name"
    assert created["role"] == "tenant_admin"
    assert created["priority"] == 5
    assert created["memberCount"] == 0
    assert api.ok(f"{ACME}/role-mappings")["items"] == [created]
    assert api.delete(f"{ACME}/role-mappings/{created['id']}").status_code == 204
    assert api.ok(f"{ACME}/role-mappings")["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"group": "Eng", "role": "nothing"}, 400, "invalid_value"),
        ({"group": "Eng", "role": "member", "matchType": "email"}, 422, "invalid_request"),
        ({"group": "Eng", "role": "member", "priority": -1}, 422, "invalid_request"),
        ({"group": "Eng", "role": "member", "priority": "1"}, 422, "invalid_request"),
        ({"group": "", "role": "member"}, 422, "invalid_request"),
        ({"role": "member"}, 422, "invalid_request"),
    ],
)
def test_bad_mappings_are_refused(api: HostApi, body: Any, status: int, error: str) -> None:
    assert_problem(api.post(f"{ACME}/role-mappings", body), status, error)


def test_the_same_mapping_twice_is_a_conflict(api: HostApi) -> None:
    api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    again = api.post(f"{ACME}/role-mappings", {"group": "ENGINEERING", "role": "tenant_admin"})
    assert_problem(again, 409, "uniqueness")


def test_removing_an_unknown_mapping_is_404(api: HostApi) -> None:
    assert_problem(api.delete(f"{ACME}/role-mappings/999"), 404, "not_found")
    assert_problem(api.delete(f"{ACME}/role-mappings/abc"), 422, "invalid_request")


def test_a_mapped_group_gives_its_members_the_role(api: HostApi, scim: ScimClient) -> None:
    """The acceptance scenario: IdP adds a user to Engineering, mapped to tenant_admin."""
    user = scim.make_user()
    other = scim.make_user()
    scim.make_group("Engineering", [user])
    start = _cursor(api)
    rule = api.created(f"{ACME}/role-mappings", {"group": "engineering", "role": "tenant_admin"})
    assert rule["memberCount"] == 1
    assert _user(api, user)["roles"] == ["tenant_admin"]
    assert _user(api, other)["roles"] == ["member"]
    (changed,) = _events(api, "user.roles_changed", after=start)
    assert changed["resourceId"] == user["id"]
    assert changed["data"]["before"] == ["member"]
    assert changed["data"]["after"] == ["tenant_admin"]


def test_joining_a_mapped_group_later_grants_the_role(api: HostApi, scim: ScimClient) -> None:
    api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    group = scim.make_group("Engineering")
    user = scim.make_user()
    start = _cursor(api)
    _add_member(scim, group, user)
    assert _user(api, user)["roles"] == ["tenant_admin"]
    assert [e["resourceId"] for e in _events(api, "user.roles_changed", start)] == [user["id"]]


@pytest.mark.parametrize("match_type", ["external_id", "id"])
def test_a_mapping_can_match_the_external_id_or_the_id(
    api: HostApi, scim: ScimClient, match_type: str
) -> None:
    user = scim.make_user()
    group = scim.make_group("Engineering", [user], externalId="okta-00g1")
    value = "okta-00g1" if match_type == "external_id" else group["id"]
    api.created(
        f"{ACME}/role-mappings", {"group": value, "role": "tenant_admin", "matchType": match_type}
    )
    assert _user(api, user)["roles"] == ["tenant_admin"]


def test_removing_the_mapping_returns_members_to_the_default_role(
    api: HostApi, scim: ScimClient
) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    rule = api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    api.delete(f"{ACME}/role-mappings/{rule['id']}")
    assert _user(api, user)["roles"] == ["member"]


def test_single_mode_takes_the_strongest_rule_and_multiple_the_union(
    api: HostApi, scim: ScimClient
) -> None:
    api.created(f"{ACME}/roles", {"key": "billing"})
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    scim.make_group("Finance", [user])
    api.created(f"{ACME}/role-mappings", {"group": "Finance", "role": "billing", "priority": 20})
    api.created(
        f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin", "priority": 10}
    )
    assert _user(api, user)["roles"] == ["tenant_admin"]
    assert api.patch(f"{ACME}/settings", {"roleMode": "multiple"}).status_code == 200
    assert _user(api, user)["roles"] == ["billing", "tenant_admin"]
    assert api.patch(f"{ACME}/settings", {"roleMode": "single"}).status_code == 200
    assert _user(api, user)["roles"] == ["tenant_admin"]


def test_without_a_default_role_unmapped_users_hold_none(api: HostApi, scim: ScimClient) -> None:
    mapped = scim.make_user()
    unmapped = scim.make_user()
    scim.make_group("Engineering", [mapped])
    api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    start = _cursor(api)
    assert api.patch(f"{ACME}/settings", {"defaultRole": None}).status_code == 200
    assert _user(api, unmapped)["roles"] == []
    assert _user(api, mapped)["roles"] == ["tenant_admin"]
    (changed,) = _events(api, "user.roles_changed", start)
    assert (changed["resourceId"], changed["data"]["after"]) == (unmapped["id"], [])


# -- deactivation on leaving ---------------------------------------------------------------


@pytest.fixture
def engineering(api: HostApi, scim: ScimClient) -> dict[str, Any]:
    """Group Engineering mapped to tenant_admin, with "deactivate unmapped users" on."""
    group = scim.make_group("Engineering")
    api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    assert api.patch(f"{ACME}/settings", {"deactivateUnmapped": True}).status_code == 200
    return group


def test_leaving_every_mapped_group_deactivates_the_user(
    api: HostApi, scim: ScimClient, engineering: dict[str, Any]
) -> None:
    user = scim.make_user()
    _add_member(scim, engineering, user)
    assert _user(api, user)["active"] is True
    start = _cursor(api)
    _remove_member(scim, engineering, user)
    body = _user(api, user)
    assert (body["active"], body["scimActive"]) == (False, True)
    assert body["deactivationReason"] == "left_mapped_groups"
    assert body["roles"] == []
    (event,) = _events(api, "user.deactivated", start)
    assert event["resourceId"] == user["id"]
    assert event["data"]["reason"] == "left_mapped_groups"


def test_rejoining_a_mapped_group_reactivates_the_user(
    api: HostApi, scim: ScimClient, engineering: dict[str, Any]
) -> None:
    user = scim.make_user()
    _add_member(scim, engineering, user)
    _remove_member(scim, engineering, user)
    start = _cursor(api)
    _add_member(scim, engineering, user)
    body = _user(api, user)
    assert (body["active"], body["deactivationReason"], body["roles"]) == (
        True,
        None,
        ["tenant_admin"],
    )
    assert [e["resourceId"] for e in _events(api, "user.reactivated", start)] == [user["id"]]


def test_rejoining_does_not_reactivate_a_user_the_idp_deactivated(
    api: HostApi, scim: ScimClient, engineering: dict[str, Any]
) -> None:
    user = scim.make_user()
    _add_member(scim, engineering, user)
    _remove_member(scim, engineering, user)
    scim.patch_ops(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    _add_member(scim, engineering, user)
    body = _user(api, user)
    assert (body["active"], body["scimActive"]) == (False, False)
    assert body["deactivationReason"] == "idp_deactivated"
    assert body["roles"] == []


def test_a_new_user_in_no_mapped_group_starts_deactivated(
    api: HostApi, scim: ScimClient, engineering: dict[str, Any]
) -> None:
    user = scim.make_user()
    assert _user(api, user)["deactivationReason"] == "left_mapped_groups"


def test_turning_the_setting_off_reactivates_those_it_deactivated(
    api: HostApi, scim: ScimClient, engineering: dict[str, Any]
) -> None:
    user = scim.make_user()
    assert _user(api, user)["active"] is False
    start = _cursor(api)
    assert api.patch(f"{ACME}/settings", {"deactivateUnmapped": False}).status_code == 200
    assert (_user(api, user)["active"], _user(api, user)["roles"]) == (True, ["member"])
    assert [e["resourceId"] for e in _events(api, "user.reactivated", start)] == [user["id"]]


def test_turning_the_setting_on_deactivates_unmapped_users_at_once(
    api: HostApi, scim: ScimClient
) -> None:
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    loner = scim.make_user()
    api.created(f"{ACME}/role-mappings", {"group": "Engineering", "role": "tenant_admin"})
    start = _cursor(api)
    assert api.patch(f"{ACME}/settings", {"deactivateUnmapped": True}).status_code == 200
    assert _user(api, user)["active"] is True
    assert _user(api, loner)["deactivationReason"] == "left_mapped_groups"
    assert [e["resourceId"] for e in _events(api, "user.deactivated", start)] == [loner["id"]]
