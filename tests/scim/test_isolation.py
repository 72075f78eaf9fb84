"""Tenants never meet: tenant B's token reaches none of tenant A's data (STYLE rule 2)."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.scim.contract import (
    BULK_REQUEST,
    ScimClient,
    assert_scim_error,
    member_ids,
    patch_body,
    resources,
)


def _tenant_a(scim: ScimClient) -> tuple[dict[str, Any], dict[str, Any]]:
    user = scim.make_user(userName="alice@acme.example", externalId="a-1")
    group = scim.make_group("Acme Staff", members=[user])
    return scim.fetch(f"/Users/{user['id']}"), scim.fetch(f"/Groups/{group['id']}")


def _attempts(b: ScimClient, user_id: str, group_id: str) -> list[tuple[str, httpx2.Response]]:
    """Every way tenant B could name tenant A's resources by id on its own URL."""
    user, group = f"/Users/{user_id}", f"/Groups/{group_id}"
    rename = {"op": "replace", "path": "displayName", "value": "Pwned"}
    return [
        (f"GET {user}", b.get(user)),
        (f"PUT {user}", b.put(user, {"userName": "pwned@example.com"})),
        (f"PATCH {user}", b.patch(user, patch_body({"op": "replace", "value": {"active": False}}))),
        (f"DELETE {user}", b.delete(user)),
        (f"GET {group}", b.get(group)),
        (f"PUT {group}", b.put(group, {"displayName": "Pwned", "members": []})),
        (f"PATCH {group}", b.patch(group, patch_body(rename))),
        (f"PATCH {group} members", b.patch(group, patch_body({"op": "remove", "path": "members"}))),
        (f"DELETE {group}", b.delete(group)),
        (f"GET {user} If-None-Match", b.get(user, headers={"If-None-Match": "*"})),
    ]


def test_tenant_b_gets_404_for_every_id_of_tenant_a(
    scim: ScimClient, other_tenant: ScimClient
) -> None:
    user, group = _tenant_a(scim)
    for request, response in _attempts(other_tenant, user["id"], group["id"]):
        assert response.status_code == 404, request
        assert_scim_error(response, 404)
    assert scim.fetch(f"/Users/{user['id']}") == user
    assert scim.fetch(f"/Groups/{group['id']}") == group


def test_tenant_b_lists_and_searches_none_of_tenant_a(
    scim: ScimClient, other_tenant: ScimClient
) -> None:
    user, _ = _tenant_a(scim)
    b = other_tenant
    assert resources(b.get("/Users")) == []
    assert resources(b.get("/Groups")) == []
    assert resources(b.get("/Users", params={"filter": 'userName eq "alice@acme.example"'})) == []
    assert resources(b.get("/Users", params={"filter": 'externalId eq "a-1"'})) == []
    assert resources(b.get("/Groups", params={"filter": f'members.value eq "{user["id"]}"'})) == []
    assert resources(b.post("/Users/.search", {"filter": "userName pr"})) == []
    assert resources(b.post("/.search", {})) == []
    # userName is unique per tenant only: B may have its own alice.
    theirs = b.make_user(userName="alice@acme.example")
    assert theirs["id"] != user["id"]
    assert "groups" not in b.fetch(f"/Users/{theirs['id']}")


def test_tenant_b_cannot_pull_tenant_a_users_into_its_groups(
    scim: ScimClient, other_tenant: ScimClient
) -> None:
    user, _ = _tenant_a(scim)
    b = other_tenant
    stolen = [{"value": user["id"]}]
    assert_scim_error(
        b.post("/Groups", {"displayName": "B", "members": stolen}), 400, "invalidValue"
    )
    own = b.make_group("B Staff")
    add = patch_body({"op": "add", "path": "members", "value": stolen})
    assert_scim_error(b.patch(f"/Groups/{own['id']}", add), 400, "invalidValue")
    assert member_ids(b.fetch(f"/Groups/{own['id']}")) == set()
    assert [g["display"] for g in scim.fetch(f"/Users/{user['id']}")["groups"]] == ["Acme Staff"]


def test_tenant_b_bulk_operations_on_tenant_a_ids_fail_each_with_404(
    scim: ScimClient, other_tenant: ScimClient
) -> None:
    user, group = _tenant_a(scim)
    body = {
        "schemas": [BULK_REQUEST],
        "Operations": [
            {"method": "PUT", "path": f"/Users/{user['id']}", "data": {"userName": "x"}},
            {
                "method": "PATCH",
                "path": f"/Groups/{group['id']}",
                "data": patch_body({"op": "remove", "path": "members"}),
            },
            {"method": "DELETE", "path": f"/Users/{user['id']}"},
            {"method": "DELETE", "path": f"/Groups/{group['id']}"},
        ],
    }
    response = other_tenant.post("/Bulk", body)
    assert response.status_code == 200
    assert [op["status"] for op in response.json()["Operations"]] == ["404"] * 4
    assert scim.fetch(f"/Users/{user['id']}") == user
    assert scim.fetch(f"/Groups/{group['id']}") == group


def test_tenant_b_token_on_tenant_a_url_is_401(scim: ScimClient, other_tenant: ScimClient) -> None:
    user, group = _tenant_a(scim)
    # B's token, A's URL: authentication fails before any id is looked at.
    intruder = ScimClient(scim.http, "acme", other_tenant.token)
    for request, response in _attempts(intruder, user["id"], group["id"]):
        assert response.status_code == 401, request
        assert_scim_error(response, 401)
    assert_scim_error(intruder.post("/Users", {"userName": "planted"}), 401)
    assert_scim_error(intruder.post("/Bulk", {"Operations": []}), 401)
    assert scim.fetch(f"/Users/{user['id']}") == user
    assert scim.fetch(f"/Groups/{group['id']}") == group
    assert scim.get("/Users").json()["totalResults"] == 1
