"""/Groups over HTTP, with membership as Okta and Entra ID manage it (RFC 7644 §3.5.2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scim.contract import (
    BJENSEN,
    GROUP_SCHEMA,
    JSMITH,
    PUBLIC_BASE,
    ScimClient,
    assert_scim_error,
    assert_scim_json,
    member_ids,
    resources,
    rfc_sample,
)

BASE = f"{PUBLIC_BASE}/acme"


def _members_now(scim: ScimClient, group: dict[str, Any]) -> set[str]:
    return member_ids(scim.fetch(f"/Groups/{group['id']}"))


def _version(scim: ScimClient, group: dict[str, Any]) -> str:
    return str(scim.fetch(f"/Groups/{group['id']}")["meta"]["version"])


def test_create_a_group_with_members(scim: ScimClient) -> None:
    alice = scim.make_user(displayName="Alice")
    bob = scim.make_user(displayName="Bob")
    response = scim.post(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "Tour Guides",
            "externalId": "tg-1",
            "members": [{"value": alice["id"]}, {"value": bob["id"], "type": "User"}],
        },
    )
    assert response.status_code == 201
    assert_scim_json(response)
    group = response.json()
    assert group["schemas"] == [GROUP_SCHEMA]
    assert group["displayName"] == "Tour Guides"
    assert group["externalId"] == "tg-1"
    assert response.headers["location"] == f"{BASE}/Groups/{group['id']}"
    assert group["meta"]["location"] == response.headers["location"]
    assert response.headers["etag"] == group["meta"]["version"]
    assert group["meta"]["resourceType"] == "Group"
    assert sorted(group["members"], key=lambda m: m["display"]) == [
        {"value": alice["id"], "$ref": f"{BASE}/Users/{alice['id']}", "display": "Alice",
         "type": "User"},
        {"value": bob["id"], "$ref": f"{BASE}/Users/{bob['id']}", "display": "Bob",
         "type": "User"},
    ]  # fmt: skip
    assert scim.fetch(f"/Groups/{group['id']}") == group


def test_a_group_without_members_has_no_members_attribute(scim: ScimClient) -> None:
    group = scim.make_group("Empty")
    assert group.get("members", []) == []
    assert scim.fetch(f"/Groups/{group['id']}").get("members", []) == []


def test_a_duplicate_display_name_is_409_uniqueness_whatever_its_case(scim: ScimClient) -> None:
    scim.make_group("Tour Guides")
    for name in ("Tour Guides", "tour guides", "TOUR GUIDES"):
        response = scim.post("/Groups", {"displayName": name})
        assert_scim_error(response, 409, "uniqueness")
    assert scim.get("/Groups").json()["totalResults"] == 1


def test_renaming_onto_a_taken_display_name_is_409(scim: ScimClient) -> None:
    scim.make_group("Admins")
    other = scim.make_group("Staff")
    path = f"/Groups/{other['id']}"
    assert_scim_error(scim.put(path, {"displayName": "ADMINS"}), 409, "uniqueness")
    response = scim.patch_ops(path, {"op": "replace", "path": "displayName", "value": "admins"})
    assert_scim_error(response, 409, "uniqueness")
    assert scim.fetch(path) == other


def test_a_member_that_is_no_user_of_the_tenant_is_400_and_nothing_is_written(
    scim: ScimClient, other_tenant: ScimClient
) -> None:
    """Unknown ids and another tenant's users are refused alike, on create, PUT and PATCH."""
    theirs = other_tenant.make_user()
    mine = scim.make_user()
    group = scim.make_group("Staff", members=[mine])
    path = f"/Groups/{group['id']}"
    for stranger in ("no-such-user", theirs["id"], group["id"]):
        body = {"displayName": "Intruders", "members": [{"value": mine["id"]}, {"value": stranger}]}
        assert_scim_error(scim.post("/Groups", body), 400, "invalidValue")
        body["displayName"] = "Staff"
        assert_scim_error(scim.put(path, body), 400, "invalidValue")
        response = scim.patch_ops(
            path, {"op": "add", "path": "members", "value": [{"value": stranger}]}
        )
        assert_scim_error(response, 400, "invalidValue")
    assert scim.get("/Groups").json()["totalResults"] == 1
    assert scim.fetch(path) == group
    assert "groups" not in other_tenant.fetch(f"/Users/{theirs['id']}")


# -- membership PATCH -------------------------------------------------------------------


def test_patch_add_member_answers_204_and_adds_it(scim: ScimClient) -> None:
    """RFC 7644 §3.5.2.1's example."""
    babs = scim.make_user(displayName="Babs Jensen")
    group = scim.make_group("Tour Guides")
    response = scim.patch(
        f"/Groups/{group['id']}", rfc_sample("patch_add_member.json", {BJENSEN: babs["id"]})
    )
    assert response.status_code == 204
    assert response.content == b""
    fetched = scim.fetch(f"/Groups/{group['id']}")
    assert fetched["members"] == [
        {"value": babs["id"], "$ref": f"{BASE}/Users/{babs['id']}", "display": "Babs Jensen",
         "type": "User"}
    ]  # fmt: skip
    assert fetched["meta"]["version"] != group["meta"]["version"]


def test_patch_remove_a_member_by_value_filter(scim: ScimClient) -> None:
    """Okta's (and RFC 7644 §3.5.2.2's) ``members[value eq "id"]``."""
    babs, james = scim.make_user(), scim.make_user()
    group = scim.make_group(members=[babs, james])
    response = scim.patch(
        f"/Groups/{group['id']}", rfc_sample("patch_remove_member.json", {BJENSEN: babs["id"]})
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == {james["id"]}


def test_okta_membership_patch_removes_and_adds_in_one_request(scim: ScimClient) -> None:
    leaving, staying, joining = scim.make_user(), scim.make_user(), scim.make_user()
    group = scim.make_group(members=[leaving, staying])
    response = scim.patch_ops(
        f"/Groups/{group['id']}",
        {"op": "remove", "path": f'members[value eq "{leaving["id"]}"]'},
        {"op": "add", "path": "members", "value": [{"value": joining["id"], "display": "J"}]},
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == {staying["id"], joining["id"]}


def test_entra_remove_with_a_value_array_removes_only_those_members(scim: ScimClient) -> None:
    a, b, c = scim.make_user(), scim.make_user(), scim.make_user()
    group = scim.make_group(members=[a, b, c])
    response = scim.patch_ops(
        f"/Groups/{group['id']}",
        {
            "op": "Remove",
            "path": "members",
            "value": [{"$ref": None, "value": a["id"]}, {"$ref": None, "value": c["id"]}],
        },
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == {b["id"]}


def test_entra_add_with_a_capitalised_op(scim: ScimClient) -> None:
    a, b = scim.make_user(), scim.make_user()
    group = scim.make_group()
    response = scim.patch_ops(
        f"/Groups/{group['id']}",
        {
            "op": "Add",
            "path": "members",
            "value": [{"$ref": None, "value": a["id"]}, {"$ref": None, "value": b["id"]}],
        },
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == {a["id"], b["id"]}


def test_remove_without_a_value_removes_every_member(scim: ScimClient) -> None:
    group = scim.make_group(members=[scim.make_user(), scim.make_user()])
    response = scim.patch(f"/Groups/{group['id']}", rfc_sample("patch_remove_all_members.json"))
    assert response.status_code == 204
    assert _members_now(scim, group) == set()


def test_replace_members_sets_exactly_the_given_list(scim: ScimClient) -> None:
    """RFC 7644 §3.5.2.3, and Okta's "Push Now"."""
    old, babs, james = scim.make_user(), scim.make_user(), scim.make_user()
    group = scim.make_group(members=[old, babs])
    ids = {BJENSEN: babs["id"], JSMITH: james["id"]}
    response = scim.patch(f"/Groups/{group['id']}", rfc_sample("patch_replace_members.json", ids))
    assert response.status_code == 204
    assert _members_now(scim, group) == {babs["id"], james["id"]}


def test_remove_then_add_replaces_the_members(scim: ScimClient) -> None:
    """RFC 7644 §3.5.2.2's other way to replace every member."""
    old, babs, james = scim.make_user(), scim.make_user(), scim.make_user()
    group = scim.make_group(members=[old])
    ids = {BJENSEN: babs["id"], JSMITH: james["id"]}
    response = scim.patch(
        f"/Groups/{group['id']}", rfc_sample("patch_remove_then_add_members.json", ids)
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == {babs["id"], james["id"]}


def test_replace_members_with_an_empty_list_empties_the_group(scim: ScimClient) -> None:
    group = scim.make_group(members=[scim.make_user(), scim.make_user()])
    response = scim.patch_ops(
        f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": []}
    )
    assert response.status_code == 204
    assert _members_now(scim, group) == set()


def test_adding_a_member_twice_and_removing_a_non_member_change_nothing(
    scim: ScimClient,
) -> None:
    """JumpCloud repeats adds; Entra repeats removes: both must stay quiet."""
    inside, outside = scim.make_user(), scim.make_user()
    group = scim.make_group(members=[inside])
    path = f"/Groups/{group['id']}"
    add = {"op": "add", "path": "members", "value": [{"value": inside["id"]}]}
    assert scim.patch_ops(path, add).status_code == 204
    remove = {"op": "remove", "path": f'members[value eq "{outside["id"]}"]'}
    assert scim.patch_ops(path, remove).status_code == 204
    assert scim.fetch(path) == group


def test_every_membership_change_moves_the_version(scim: ScimClient) -> None:
    user = scim.make_user()
    group = scim.make_group()
    path = f"/Groups/{group['id']}"
    seen = [group["meta"]["version"]]
    for op in (
        {"op": "add", "path": "members", "value": [{"value": user["id"]}]},
        {"op": "remove", "path": "members"},
        {"op": "replace", "path": "members", "value": [{"value": user["id"]}]},
        {"op": "remove", "path": f'members[value eq "{user["id"]}"]'},
    ):
        assert scim.patch_ops(path, op).status_code == 204
        fetched = scim.fetch(path)
        assert fetched["meta"]["version"] not in seen, op
        assert fetched["meta"]["lastModified"] >= group["meta"]["lastModified"]
        seen.append(fetched["meta"]["version"])


def test_okta_rename_echoes_the_id_and_changes_only_the_name(scim: ScimClient) -> None:
    member = scim.make_user()
    group = scim.make_group("Old Name", members=[member])
    response = scim.patch_ops(
        f"/Groups/{group['id']}",
        {"op": "replace", "value": {"id": group["id"], "displayName": "New Name"}},
    )
    assert response.status_code == 204
    fetched = scim.fetch(f"/Groups/{group['id']}")
    assert fetched["id"] == group["id"]
    assert fetched["displayName"] == "New Name"
    assert member_ids(fetched) == {member["id"]}


def test_group_patch_answers_200_with_the_group_when_attributes_are_asked_for(
    scim: ScimClient,
) -> None:
    user = scim.make_user()
    group = scim.make_group()
    add = {"op": "add", "path": "members", "value": [{"value": user["id"]}]}
    response = scim.patch_ops(f"/Groups/{group['id']}", add, params={"attributes": "members"})
    assert response.status_code == 200
    assert_scim_json(response)
    body = response.json()
    assert member_ids(body) == {user["id"]}
    assert "displayName" not in body
    assert response.headers["etag"] == scim.fetch(f"/Groups/{group['id']}")["meta"]["version"]
    rename = {"op": "replace", "path": "displayName", "value": "Renamed"}
    response = scim.patch_ops(
        f"/Groups/{group['id']}", rename, params={"excludedAttributes": "members"}
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "Renamed"
    assert "members" not in response.json()


def test_excluded_attributes_members_leaves_the_members_out(scim: ScimClient) -> None:
    """Entra ID's ``GET /Groups/{id}?excludedAttributes=members``, and the list form."""
    group = scim.make_group("Staff", members=[scim.make_user()])
    fetched = scim.fetch(f"/Groups/{group['id']}", params={"excludedAttributes": "members"})
    assert "members" not in fetched
    assert fetched["displayName"] == "Staff"
    listed = resources(
        scim.get(
            "/Groups",
            params={"filter": 'displayName eq "Staff"', "excludedAttributes": "members"},
        )
    )
    assert [g["id"] for g in listed] == [group["id"]]
    assert "members" not in listed[0]


def test_put_replaces_the_group_and_its_members(scim: ScimClient) -> None:
    old, new = scim.make_user(), scim.make_user()
    group = scim.make_group("Staff", members=[old], externalId="x-1")
    response = scim.put(
        f"/Groups/{group['id']}",
        {"schemas": [GROUP_SCHEMA], "displayName": "Crew", "members": [{"value": new["id"]}]},
    )
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["displayName"] == "Crew"
    assert "externalId" not in replaced
    assert member_ids(replaced) == {new["id"]}
    assert replaced["meta"]["version"] != group["meta"]["version"]
    assert scim.fetch(f"/Groups/{group['id']}") == replaced


# -- membership seen from the users ---------------------------------------------------


def test_a_user_lists_the_groups_it_belongs_to(scim: ScimClient) -> None:
    user = scim.make_user()
    staff = scim.make_group("Staff", members=[user])
    admins = scim.make_group("Admins", members=[user])
    scim.make_group("Others", members=[scim.make_user()])
    fetched = scim.fetch(f"/Users/{user['id']}")
    assert sorted(fetched["groups"], key=lambda g: g["display"]) == [
        {"value": admins["id"], "$ref": f"{BASE}/Groups/{admins['id']}", "display": "Admins",
         "type": "direct"},
        {"value": staff["id"], "$ref": f"{BASE}/Groups/{staff['id']}", "display": "Staff",
         "type": "direct"},
    ]  # fmt: skip


def test_deleting_a_user_removes_it_from_its_groups_and_moves_their_version(
    scim: ScimClient,
) -> None:
    leaving, staying = scim.make_user(), scim.make_user()
    group = scim.make_group(members=[leaving, staying])
    assert scim.delete(f"/Users/{leaving['id']}").status_code == 204
    fetched = scim.fetch(f"/Groups/{group['id']}")
    assert member_ids(fetched) == {staying["id"]}
    assert fetched["meta"]["version"] != group["meta"]["version"]


def test_deleting_a_group_empties_its_members_groups(scim: ScimClient) -> None:
    user = scim.make_user()
    group = scim.make_group(members=[user])
    assert scim.fetch(f"/Users/{user['id']}")["groups"]
    response = scim.delete(f"/Groups/{group['id']}")
    assert response.status_code == 204
    assert_scim_error(scim.get(f"/Groups/{group['id']}"), 404)
    assert scim.fetch(f"/Users/{user['id']}").get("groups", []) == []
    assert_scim_error(scim.delete(f"/Groups/{group['id']}"), 404)


def test_an_unknown_group_id_is_404_on_get_put_patch_and_delete(scim: ScimClient) -> None:
    path = "/Groups/00919288221112222"
    assert_scim_error(scim.get(path), 404)
    assert_scim_error(scim.put(path, {"displayName": "Ghosts"}), 404)
    assert_scim_error(scim.patch_ops(path, {"op": "remove", "path": "members"}), 404)
    assert_scim_error(scim.delete(path), 404)
    assert scim.get("/Groups").json()["totalResults"] == 0


def test_a_group_without_a_display_name_is_400_invalid_value(scim: ScimClient) -> None:
    bodies: list[dict[str, Any]] = [{"members": []}, {"displayName": ""}, {"displayName": None}]
    for body in bodies:
        assert_scim_error(scim.post("/Groups", body), 400, "invalidValue")
    assert scim.get("/Groups").json()["totalResults"] == 0


@pytest.mark.parametrize("members", [[{"type": "User"}], [{"value": 5}], [{"value": {"id": "x"}}]])
def test_a_member_without_a_value_is_refused_by_post_put_and_patch(
    scim: ScimClient, members: list[dict[str, Any]]
) -> None:
    group = scim.make_group("Staff")
    path = f"/Groups/{group['id']}"
    responses = [
        scim.post("/Groups", {"displayName": "Others", "members": members}),
        scim.put(path, {"displayName": "Staff", "members": members}),
        scim.patch_ops(path, {"op": "add", "path": "members", "value": members}),
    ]
    for response in responses:
        assert_scim_error(response, 400, "invalidValue")
    assert scim.fetch(path) == group


def test_a_deleted_user_is_no_member_to_add(scim: ScimClient) -> None:
    """Soft-deleted users keep their row for a while, hidden; they cannot join a group."""
    gone = scim.make_user()
    assert scim.delete(f"/Users/{gone['id']}").status_code == 204
    group = scim.make_group("Staff")
    path = f"/Groups/{group['id']}"
    members = [{"value": gone["id"]}]
    assert_scim_error(scim.post("/Groups", {"displayName": "Others", "members": members}), 400)
    assert_scim_error(scim.put(path, {"displayName": "Staff", "members": members}), 400)
    response = scim.patch_ops(path, {"op": "add", "path": "members", "value": members})
    assert_scim_error(response, 400, "invalidValue")
    assert scim.fetch(path) == group
