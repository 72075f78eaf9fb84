"""GET /api/v1/tenants/{slug}/users: the users as the host app sees them, page by page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import HostApi, assert_problem
from tests.scim.contract import ENTERPRISE, USER_SCHEMA, ScimClient


def _walk(api: HostApi, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Every user, following ``next`` cursors."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": limit, **filters}
        if cursor is not None:
            params["cursor"] = cursor
        body = api.ok("/tenants/acme/users", **params)
        assert len(body["items"]) <= limit
        found += body["items"]
        cursor = body["next"]
        if cursor is None:
            return found


def test_a_user_carries_its_app_state_roles_profile_and_groups(
    api: HostApi, scim: ScimClient
) -> None:
    user = scim.make_user(
        userName="bjensen@example.com",
        name={"givenName": "Barbara", "familyName": "Jensen"},
        displayName="Babs Jensen",
        title="Tour Guide",
        emails=[
            {"value": "home@example.com", "type": "home"},
            {"value": "bjensen@example.com", "type": "work", "primary": True},
        ],
        schemas=[USER_SCHEMA, ENTERPRISE],
        **{ENTERPRISE: {"department": "Tours", "manager": {"value": "boss-id"}}},
    )
    group = scim.make_group("Engineering", [user])
    body = api.ok(f"/tenants/acme/users/{user['id']}")
    assert body["id"] == user["id"]
    assert body["userName"] == "bjensen@example.com"
    assert body["displayName"] == "Babs Jensen"
    assert body["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert [e["value"] for e in body["emails"]] == ["home@example.com", "bjensen@example.com"]
    assert body["active"] is True
    assert body["scimActive"] is True
    assert body["deactivationReason"] is None
    assert body["roles"] == ["member"]  # the default role
    assert body["groups"] == [{"id": group["id"], "displayName": "Engineering"}]
    assert body["profile"]["email"] == "bjensen@example.com"
    assert body["profile"]["given_name"] == "Barbara"
    assert body["profile"]["title"] == "Tour Guide"
    assert body["profile"]["department"] == "Tours"
    assert body["profile"]["manager_id"] == "boss-id"
    assert body["profile"]["cost_center"] is None
    assert body["createdAt"].endswith("Z")
    assert body["updatedAt"] >= body["createdAt"]


def test_the_list_and_the_single_user_have_the_same_shape(api: HostApi, scim: ScimClient) -> None:
    user = scim.make_user()
    (listed,) = api.ok("/tenants/acme/users")["items"]
    assert listed == api.ok(f"/tenants/acme/users/{user['id']}")


def test_an_unknown_user_is_404(api: HostApi) -> None:
    assert_problem(api.get("/tenants/acme/users/no-such-user"), 404, "not_found")


def test_a_soft_deleted_user_is_gone_from_the_api(api: HostApi, scim: ScimClient) -> None:
    kept = scim.make_user()
    gone = scim.make_user()
    assert scim.delete(f"/Users/{gone['id']}").status_code == 204
    assert_problem(api.get(f"/tenants/acme/users/{gone['id']}"), 404)
    assert [u["id"] for u in api.ok("/tenants/acme/users")["items"]] == [kept["id"]]


def test_the_idp_deactivating_a_user_disables_it_with_a_reason(
    api: HostApi, scim: ScimClient
) -> None:
    user = scim.make_user()
    scim.patch_ops(f"/Users/{user['id']}", {"op": "replace", "path": "active", "value": False})
    body = api.ok(f"/tenants/acme/users/{user['id']}")
    assert (body["active"], body["scimActive"]) == (False, False)
    assert body["deactivationReason"] == "idp_deactivated"
    assert body["roles"] == []


def test_paging_returns_every_user_once_in_id_order(api: HostApi, scim: ScimClient) -> None:
    made = sorted(scim.make_user()["id"] for _ in range(7))
    for limit in (1, 3, 7, 500):
        assert [u["id"] for u in _walk(api, limit)] == made


def test_paging_is_stable_while_users_come_and_go(api: HostApi, scim: ScimClient) -> None:
    """Users that exist throughout are seen exactly once, whatever changes meanwhile."""
    made = [scim.make_user()["id"] for _ in range(6)]
    first = api.ok("/tenants/acme/users", limit=3)
    seen = [u["id"] for u in first["items"]]
    # Meanwhile the IdP adds users, deletes one already seen and updates one not yet seen.
    added = [scim.make_user()["id"] for _ in range(3)]
    assert scim.delete(f"/Users/{seen[0]}").status_code == 204
    unseen = sorted(set(made) - set(seen))
    scim.patch_ops(f"/Users/{unseen[0]}", {"op": "replace", "path": "title", "value": "CTO"})
    cursor = first["next"]
    while cursor is not None:
        body = api.ok("/tenants/acme/users", limit=3, cursor=cursor)
        seen += [u["id"] for u in body["items"]]
        cursor = body["next"]
    assert len(seen) == len(set(seen))
    assert set(made) <= set(seen)
    assert set(seen) <= set(made) | set(added)


def test_filter_by_app_state(api: HostApi, scim: ScimClient) -> None:
    on = scim.make_user()
    off = scim.make_user(active=False)
    assert [u["id"] for u in _walk(api, 10, active="true")] == [on["id"]]
    assert [u["id"] for u in _walk(api, 10, active="false")] == [off["id"]]


def test_filter_by_role(api: HostApi, scim: ScimClient) -> None:
    admin = scim.make_user()
    scim.make_user()
    scim.make_group("Admins", [admin])
    api.created("/tenants/acme/role-mappings", {"group": "Admins", "role": "tenant_admin"})
    assert [u["id"] for u in _walk(api, 10, role="tenant_admin")] == [admin["id"]]
    assert len(_walk(api, 10, role="member")) == 1
    assert _walk(api, 10, role="no-such-role") == []


def test_filter_by_update_time(api: HostApi, scim: ScimClient) -> None:
    old = scim.make_user()
    new = scim.make_user()
    cut = scim.fetch(f"/Users/{new['id']}")["meta"]["lastModified"]
    scim.patch_ops(f"/Users/{old['id']}", {"op": "replace", "path": "title", "value": "CTO"})
    changed = {u["id"] for u in _walk(api, 10, updated_since=cut)}
    assert changed == {old["id"], new["id"]}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert _walk(api, 10, updated_since=future) == []
    # A date alone means midnight UTC.
    assert len(_walk(api, 10, updated_since="2000-01-01")) == 2


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"cursor": "not-a-cursor!"}, 400, "invalid_value"),
        ({"cursor": "Zzp4"}, 400, "invalid_value"),  # a groups cursor ("g:x")
        ({"updated_since": "yesterday"}, 400, "invalid_value"),
        ({"limit": 0}, 422, "invalid_request"),
        ({"limit": 501}, 422, "invalid_request"),
        ({"limit": "ten"}, 422, "invalid_request"),
        ({"active": "maybe"}, 422, "invalid_request"),
    ],
)
def test_bad_query_parameters_are_4xx_problems(
    api: HostApi, params: dict[str, Any], status: int, error: str
) -> None:
    assert_problem(api.get("/tenants/acme/users", **params), status, error)


def test_search_finds_users_by_username_prefix_in_any_case_page_by_page(
    api: HostApi, scim: ScimClient
) -> None:
    for name in ("Ana.One", "ana.two", "ANA.three", "anabel", "bob", "an_a"):
        scim.make_user(userName=f"{name}@example.com")
    found = _walk(api, 2, search="ANA.")
    assert [u["userName"] for u in found] == [
        "Ana.One@example.com",
        "ANA.three@example.com",
        "ana.two@example.com",
    ]
    # "_" is a plain character, not a wildcard.
    assert [u["userName"] for u in _walk(api, 10, search="an_")] == ["an_a@example.com"]
    assert len(_walk(api, 10, search="  ")) == 6  # blank: no filter
    assert_problem(api.get("/tenants/acme/users", search="x" * 257), 422)
