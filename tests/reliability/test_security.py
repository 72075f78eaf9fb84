"""Tenant isolation, secrets kept out of responses, and roles that only mappings grant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service import roles as role_service
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.reliability.conftest import GROUP, assert_scim_error, patch_body, user_body


@pytest.fixture
def tenants(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> dict[str, Any]:
    """acme with a user and a group; globex with its own token."""
    acme, globex = make_tenant("acme"), make_tenant("globex")
    a = {"Authorization": f"Bearer {make_token('acme').secret}"}
    g = {"Authorization": f"Bearer {make_token('globex').secret}"}
    user = client.post("/scim/v2/acme/Users", json=user_body("ada"), headers=a).json()
    group = client.post(
        "/scim/v2/acme/Groups",
        json={"schemas": [GROUP], "displayName": "Eng", "members": [{"value": user["id"]}]},
        headers=a,
    ).json()
    return {"acme": acme, "globex": globex, "a": a, "g": g, "user": user, "group": group}


def _requests(user_id: str, group_id: str) -> list[tuple[str, str, Any]]:
    replace = patch_body({"op": "replace", "path": "displayName", "value": "pwned"})
    return [
        ("GET", f"/Users/{user_id}", None),
        ("PUT", f"/Users/{user_id}", user_body("pwned")),
        ("PATCH", f"/Users/{user_id}", replace),
        ("DELETE", f"/Users/{user_id}", None),
        ("GET", f"/Groups/{group_id}", None),
        ("PUT", f"/Groups/{group_id}", {"schemas": [GROUP], "displayName": "pwned"}),
        ("PATCH", f"/Groups/{group_id}", replace),
        ("DELETE", f"/Groups/{group_id}", None),
    ]


def test_another_tenants_token_reaches_nothing(client: TestClient, tenants: dict[str, Any]) -> None:
    user_id, group_id = tenants["user"]["id"], tenants["group"]["id"]
    before = [
        client.get(f"/scim/v2/acme{p}", headers=tenants["a"]).json()
        for p in (f"/Users/{user_id}", f"/Groups/{group_id}")
    ]
    for method, path, body in _requests(user_id, group_id):
        # globex's token on acme's URL: refused outright.
        on_acme = client.request(method, f"/scim/v2/acme{path}", json=body, headers=tenants["g"])
        assert_scim_error(on_acme, 401)
        # globex's token on globex's URL with acme's ids: as if they did not exist.
        on_own = client.request(method, f"/scim/v2/globex{path}", json=body, headers=tenants["g"])
        assert_scim_error(on_own, 404)
    for query in ("/Users", f'/Users?filter=id eq "{user_id}"', "/Groups"):
        listed = client.get(f"/scim/v2/globex{query}", headers=tenants["g"]).json()
        assert listed["totalResults"] == 0
    after = [
        client.get(f"/scim/v2/acme{p}", headers=tenants["a"]).json()
        for p in (f"/Users/{user_id}", f"/Groups/{group_id}")
    ]
    assert after == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/scim/v2/acme/Users", None),
        ("GET", "/scim/v2/acme/Users?filter=((", None),
        ("POST", "/scim/v2/acme/Users", {"userName": 5}),
        ("PATCH", "/scim/v2/acme/Users/nope", {"Operations": 1}),
        ("GET", "/scim/v2/nope/Users", None),
    ],
)
def test_error_bodies_never_echo_the_authorization_header(
    client: TestClient, tenants: dict[str, Any], method: str, path: str, body: Any
) -> None:
    real = tenants["a"]["Authorization"]
    forged = "Bearer sgt_forgedsecretvalue0123456789"
    for authorization in (real, forged, real + "x", "Basic c2d0X3NlY3JldA=="):
        response = client.request(method, path, json=body, headers={"Authorization": authorization})
        assert response.status_code >= 400 or authorization == real
        secret = authorization.split(" ", 1)[1]
        assert secret not in response.text
        assert "sgt_" not in response.text
        assert all(secret not in v for v in response.headers.values())


def test_a_scim_client_cannot_grant_itself_a_role(
    client: TestClient, db: Database, tenants: dict[str, Any]
) -> None:
    acme = tenants["acme"]
    role_service.add_rule(db, acme, "Eng", "tenant_admin")
    bob = client.post("/scim/v2/acme/Users", json=user_body("bob"), headers=tenants["a"]).json()

    def roles(user_id: str) -> list[str]:
        with db.tenant(acme.id) as repo:
            return repo.roles.roles_of([user_id]).get(user_id, [])

    expected = {tenants["user"]["id"]: roles(tenants["user"]["id"]), bob["id"]: roles(bob["id"])}
    assert expected[tenants["user"]["id"]] == ["tenant_admin"]
    assert "tenant_admin" not in expected[bob["id"]]
    grant = [{"value": "tenant_admin"}, {"value": "owner"}]
    attempts = [
        ("PATCH", patch_body({"op": "add", "path": "roles", "value": grant})),
        ("PATCH", patch_body({"op": "replace", "value": {"roles": grant}})),
        (
            "PATCH",
            patch_body(
                {"op": "add", "path": "groups", "value": [{"value": tenants["group"]["id"]}]}
            ),
        ),
        ("PUT", user_body("bob", roles=grant)),
    ]
    for method, body in attempts:
        client.request(method, f"/scim/v2/acme/Users/{bob['id']}", json=body, headers=tenants["a"])
        assert roles(bob["id"]) == expected[bob["id"]], (method, body)
    created = client.post(
        "/scim/v2/acme/Users", json=user_body("eve", roles=grant), headers=tenants["a"]
    ).json()
    assert "tenant_admin" not in roles(created["id"])
    assert roles(tenants["user"]["id"]) == ["tenant_admin"]
