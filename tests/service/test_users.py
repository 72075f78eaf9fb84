"""User reads and writes: the groups a response shows, read with the user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimgate.model.entities import Tenant, TenantSettings
from scimgate.model.patch import parse_patch_request
from scimgate.service import groups, listing, users
from scimgate.service.listing import ListQuery
from scimgate.service.scope import Limits, TenantScope
from scimgate.storage.database import Database

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def scope(db: Database, make_tenant: Callable[..., Tenant]) -> TenantScope:
    tenant = make_tenant("acme")
    base = "https://scim.example.test/scim/v2/acme"
    return TenantScope(db, tenant, base, Limits(), TenantSettings())


def group_names(body: dict[str, Any]) -> list[str]:
    return [g["display"] for g in body.get("groups", [])]


def test_every_user_response_lists_its_groups_by_name(scope: TenantScope) -> None:
    user = users.create_user(scope, {"userName": "ada@example.com"})
    for name in ("zeta", "Alpha", "mid", "Beta"):
        groups.create_group(scope, {"displayName": name, "members": [{"value": user.id}]})
    expected = ["Alpha", "Beta", "mid", "zeta"]
    got = users.get_user(scope, user.id)
    assert group_names(got.body) == expected
    put = users.replace_user(scope, user.id, {"userName": "ada@example.com", "nickName": "A"})
    assert group_names(put.body) == expected
    deactivate = parse_patch_request(
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
        max_operations=10,
    )
    patched = users.patch_user(scope, user.id, deactivate)
    assert group_names(patched.body) == expected
    unchanged = users.patch_user(scope, user.id, deactivate)
    assert unchanged.body == users.get_user(scope, user.id).body
    assert group_names(users.get_user(scope, user.id, related=False).body) == []


def test_a_user_in_no_group_has_no_groups_attribute(scope: TenantScope) -> None:
    user = users.create_user(scope, {"userName": "ada@example.com"})
    assert "groups" not in users.get_user(scope, user.id).body
    put = users.replace_user(scope, user.id, {"userName": "ada@example.com", "nickName": "A"})
    assert "groups" not in put.body


def test_a_response_and_a_later_read_agree(scope: TenantScope) -> None:
    user = users.create_user(scope, {"userName": "ada@example.com"})
    group = groups.create_group(scope, {"displayName": "Sales", "members": [{"value": user.id}]})
    put = users.replace_user(scope, user.id, {"userName": "ada@example.com", "nickName": "A"})
    assert put.body == users.get_user(scope, user.id).body
    assert put.body["groups"] == [
        {
            "value": group.id,
            "$ref": f"{scope.base_url}/Groups/{group.id}",
            "display": "Sales",
            "type": "direct",
        }
    ]


def _ids_matching(scope: TenantScope, text: str) -> list[str]:
    found = listing.list_resources(scope, users.page_users, ListQuery(filter=text))
    return [str(r["id"]) for r in found.resources]


# userName and externalId are indexed columns that an update writes only when their
# value changes (storage.users): each combination must leave both lookups right.
@pytest.mark.parametrize(
    ("user_name", "external_id"),
    [
        ("ada@example.com", "ext-1"),  # neither changes
        ("ADA@example.com", "ext-1"),  # same key, other case: no index change either
        ("lovelace@example.com", "ext-1"),
        ("ada@example.com", "ext-2"),
        ("lovelace@example.com", None),
    ],
)
def test_an_update_keeps_the_name_and_external_id_lookups_right(
    scope: TenantScope, user_name: str, external_id: str | None
) -> None:
    user = users.create_user(scope, {"userName": "ada@example.com", "externalId": "ext-1"})
    doc: dict[str, Any] = {"userName": user_name, "nickName": "A"}
    if external_id is not None:
        doc["externalId"] = external_id
    put = users.replace_user(scope, user.id, doc)
    assert put.body["userName"] == user_name
    assert _ids_matching(scope, f'userName eq "{user_name}"') == [user.id]
    renamed = user_name.lower() != "ada@example.com"
    assert _ids_matching(scope, 'userName eq "ada@example.com"') == ([] if renamed else [user.id])
    if external_id is not None:
        assert _ids_matching(scope, f'externalId eq "{external_id}"') == [user.id]
    assert _ids_matching(scope, 'externalId eq "ext-1"') == (
        [user.id] if external_id == "ext-1" else []
    )
    if renamed:  # the old name is free again: the unique index let go of it
        other = users.create_user(scope, {"userName": "ada@example.com"})
        assert _ids_matching(scope, 'userName eq "ada@example.com"') == [other.id]
    deactivate = parse_patch_request(
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]},
        max_operations=10,
    )
    users.patch_user(scope, user.id, deactivate)
    assert _ids_matching(scope, f'userName eq "{user_name}"') == [user.id]
