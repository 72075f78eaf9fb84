"""/Users over HTTP: create, read, replace, modify, delete (RFC 7644 §3.3-§3.6)."""

from __future__ import annotations

from typing import Any

from tests.scim.contract import (
    BJENSEN,
    ENTERPRISE,
    PUBLIC_BASE,
    USER_SCHEMA,
    ScimClient,
    assert_scim_error,
    assert_scim_json,
    rfc_sample,
)

USERS_URL = f"{PUBLIC_BASE}/acme/Users"


def _work_and_home(scim: ScimClient, **overrides: Any) -> dict[str, Any]:
    return scim.make_user(
        userName="bjensen",
        emails=[
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        **overrides,
    )


# -- create (§3.3) -------------------------------------------------------------------


def test_create_answers_201_with_location_etag_and_the_full_resource(scim: ScimClient) -> None:
    response = scim.post("/Users", rfc_sample("create_user.json"))
    assert response.status_code == 201
    assert_scim_json(response)
    user = response.json()
    assert user["schemas"] == [USER_SCHEMA]
    assert user["id"]
    assert response.headers["location"] == f"{USERS_URL}/{user['id']}"
    assert user["meta"]["location"] == response.headers["location"]
    assert response.headers["etag"] == user["meta"]["version"]
    assert user["meta"]["resourceType"] == "User"
    assert user["meta"]["created"] == user["meta"]["lastModified"]
    assert user["userName"] == "bjensen"
    assert user["externalId"] == "bjensen"
    assert user["name"] == {
        "formatted": "Ms. Barbara J Jensen III",
        "familyName": "Jensen",
        "givenName": "Barbara",
    }
    assert user["active"] is True


def test_a_created_user_is_returned_by_get_as_it_was_created(scim: ScimClient) -> None:
    created = scim.make_user(nickName="Babs", title="Tour Guide")
    response = scim.get(f"/Users/{created['id']}")
    assert response.status_code == 200
    assert_scim_json(response)
    assert response.json() == created
    assert response.headers["etag"] == created["meta"]["version"]


def test_a_password_is_accepted_and_never_returned(scim: ScimClient) -> None:
    created = scim.make_user(password="t1meMa$heen")
    assert "password" not in created
    fetched = scim.fetch(f"/Users/{created['id']}", params={"attributes": "password,userName"})
    assert "password" not in fetched
    assert "password" not in scim.fetch(f"/Users/{created['id']}")
    listed = scim.get("/Users", params={"filter": f'userName eq "{created["userName"]}"'})
    assert listed.json()["totalResults"] == 1
    assert "password" not in listed.text


def test_read_only_attributes_sent_on_create_are_ignored(scim: ScimClient) -> None:
    created = scim.make_user(
        id="chosen-by-the-client",
        meta={"created": "2001-01-01T00:00:00Z", "version": 'W/"x"'},
        groups=[{"value": "not-a-group"}],
    )
    assert created["id"] != "chosen-by-the-client"
    assert created["meta"]["created"] != "2001-01-01T00:00:00Z"
    assert "groups" not in created


def test_entra_string_booleans_are_accepted(scim: ScimClient) -> None:
    assert scim.make_user(active="False")["active"] is False
    assert scim.make_user(active="True")["active"] is True


# -- content types -----------------------------------------------------------------------


def test_a_body_is_read_whatever_json_content_type_it_declares(scim: ScimClient) -> None:
    """RFC 7644 asks for application/scim+json; Google sends application/json, some send none."""
    for n, content_type in enumerate(
        ["application/scim+json", "application/scim+json; charset=utf-8", "application/json", None]
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        body = f'{{"userName": "typed{n}@example.com"}}'.encode()
        response = scim.request("POST", "/Users", content=body, headers=headers)
        assert response.status_code == 201, (content_type, response.text)
        assert_scim_json(response)


def test_every_response_with_a_body_is_scim_json(scim: ScimClient) -> None:
    user = scim.make_user()
    path = f"/Users/{user['id']}"
    responses = [
        scim.post("/Users", scim.user_body()),
        scim.get(path),
        scim.get("/Users"),
        scim.put(path, {"userName": user["userName"]}),
        scim.patch_ops(path, {"op": "replace", "path": "title", "value": "Boss"}),
        scim.post("/Users", {"userName": user["userName"]}),
        scim.post("/Users", {}),
        scim.get("/Users/nope"),
        scim.get("/Users", params={"filter": "userName zz"}),
    ]
    for response in responses:
        assert_scim_json(response)


# -- replace (§3.5.1) -------------------------------------------------------------------


def test_put_replaces_the_whole_user(scim: ScimClient) -> None:
    created = scim.make_user(userName="bjensen", nickName="Babs", title="Tour Guide")
    response = scim.put(
        f"/Users/{created['id']}", rfc_sample("replace_user.json", {BJENSEN: created["id"]})
    )
    assert response.status_code == 200
    assert_scim_json(response)
    replaced = response.json()
    assert replaced["id"] == created["id"]
    assert replaced["name"]["middleName"] == "Jane"
    assert [e["value"] for e in replaced["emails"]] == ["bjensen@example.com", "babs@jensen.org"]
    assert "nickName" not in replaced
    assert "title" not in replaced
    assert "displayName" not in replaced
    assert "roles" not in replaced
    assert replaced["meta"]["created"] == created["meta"]["created"]
    assert replaced["meta"]["version"] != created["meta"]["version"]
    assert response.headers["etag"] == replaced["meta"]["version"]
    assert scim.fetch(f"/Users/{created['id']}") == replaced


def test_put_ignores_read_only_attributes(scim: ScimClient) -> None:
    created = scim.make_user()
    response = scim.put(
        f"/Users/{created['id']}",
        {
            "id": "another-id",
            "userName": created["userName"],
            "meta": {"created": "2001-01-01T00:00:00Z"},
            "groups": [{"value": "g"}],
        },
    )
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["id"] == created["id"]
    assert replaced["meta"]["created"] == created["meta"]["created"]
    assert "groups" not in replaced


def test_put_without_active_keeps_the_user_inactive(scim: ScimClient) -> None:
    """A documented scimgate choice: IdPs that leave ``active`` out must not reactivate anyone."""
    created = scim.make_user(active=False)
    replaced = scim.put(f"/Users/{created['id']}", {"userName": created["userName"]}).json()
    assert replaced["active"] is False
    reactivated = scim.put(
        f"/Users/{created['id']}", {"userName": created["userName"], "active": True}
    ).json()
    assert reactivated["active"] is True


def test_put_can_rename_a_user(scim: ScimClient) -> None:
    created = scim.make_user()
    response = scim.put(f"/Users/{created['id']}", {"userName": "renamed@example.com"})
    assert response.json()["userName"] == "renamed@example.com"
    listed = scim.get("/Users", params={"filter": 'userName eq "renamed@example.com"'})
    assert listed.json()["totalResults"] == 1


# -- modify (§3.5.2) ------------------------------------------------------------------


def test_patch_add_without_a_path_merges_the_value_object(scim: ScimClient) -> None:
    """RFC 7644 §3.5.2.1's path-less add: emails are added to, nickName set."""
    created = scim.make_user(userName="bjensen")
    response = scim.patch(f"/Users/{created['id']}", rfc_sample("patch_add_without_path.json"))
    assert response.status_code == 200
    assert_scim_json(response)
    patched = response.json()
    assert patched["nickName"] == "Babs"
    assert [e["value"] for e in patched["emails"]] == [
        created["emails"][0]["value"],
        "babs@jensen.org",
    ]
    assert response.headers["etag"] == patched["meta"]["version"]
    assert patched["meta"]["version"] != created["meta"]["version"]
    assert scim.fetch(f"/Users/{created['id']}") == patched


def test_patch_replace_without_a_path_replaces_each_attribute(scim: ScimClient) -> None:
    created = _work_and_home(scim, nickName="Barbie")
    response = scim.patch(f"/Users/{created['id']}", rfc_sample("patch_replace_without_path.json"))
    patched = response.json()
    assert patched["nickName"] == "Babs"
    assert patched["emails"] == [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ]


def test_patch_remove_with_a_value_filter_removes_only_matching_items(scim: ScimClient) -> None:
    created = _work_and_home(scim)
    response = scim.patch(
        f"/Users/{created['id']}", rfc_sample("patch_remove_filtered_emails.json")
    )
    assert response.status_code == 200
    assert response.json()["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


def test_patch_replace_a_filtered_complex_item(scim: ScimClient) -> None:
    created = scim.make_user(
        addresses=[
            {"type": "work", "streetAddress": "100 Universal City Plaza", "country": "US"},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "country": "US"},
        ]
    )
    path = f"/Users/{created['id']}"
    patched = scim.patch(path, rfc_sample("patch_replace_work_address.json")).json()
    work = [a for a in patched["addresses"] if a["type"] == "work"]
    assert work == [
        {
            "type": "work",
            "streetAddress": "911 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
            "primary": True,
        }
    ]
    assert {"type": "home", "streetAddress": "456 Hollywood Blvd", "country": "US"} in patched[
        "addresses"
    ]
    patched = scim.patch(path, rfc_sample("patch_replace_street_address.json")).json()
    work = [a for a in patched["addresses"] if a["type"] == "work"]
    assert work[0]["streetAddress"] == "1010 Broadway Ave"
    assert work[0]["locality"] == "Hollywood"


def test_patch_replace_a_sub_attribute_of_the_work_email(scim: ScimClient) -> None:
    """Entra ID's ``emails[type eq "work"].value``."""
    created = _work_and_home(scim)
    patched = scim.patch_ops(
        f"/Users/{created['id']}",
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "barbara@example.com"},
    ).json()
    assert patched["emails"] == [
        {"value": "barbara@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ]


def test_patch_add_to_a_multi_valued_attribute_appends(scim: ScimClient) -> None:
    created = scim.make_user()
    patched = scim.patch_ops(
        f"/Users/{created['id']}",
        {"op": "add", "path": "phoneNumbers", "value": [{"value": "555-1234", "type": "work"}]},
        {"op": "add", "path": "phoneNumbers", "value": [{"value": "555-9876", "type": "home"}]},
    ).json()
    assert [p["value"] for p in patched["phoneNumbers"]] == ["555-1234", "555-9876"]


def test_patch_remove_a_single_valued_attribute(scim: ScimClient) -> None:
    created = scim.make_user(nickName="Babs")
    patched = scim.patch_ops(f"/Users/{created['id']}", {"op": "remove", "path": "nickName"}).json()
    assert "nickName" not in patched
    assert "nickName" not in scim.fetch(f"/Users/{created['id']}")


def test_patch_replace_a_sub_attribute_of_name_leaves_the_others(scim: ScimClient) -> None:
    created = scim.make_user(name={"givenName": "Barbara", "familyName": "Jensen"})
    patched = scim.patch_ops(
        f"/Users/{created['id']}", {"op": "replace", "path": "name.familyName", "value": "Smith"}
    ).json()
    assert patched["name"] == {"givenName": "Barbara", "familyName": "Smith"}


def test_okta_deactivation_leaves_the_user_readable_and_inactive(scim: ScimClient) -> None:
    created = scim.make_user()
    path = f"/Users/{created['id']}"
    response = scim.patch_ops(path, {"op": "replace", "value": {"active": False}})
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert scim.fetch(path)["active"] is False
    scim.patch_ops(path, {"op": "replace", "value": {"active": True}})
    assert scim.fetch(path)["active"] is True


def test_entra_deactivation_with_a_string_boolean(scim: ScimClient) -> None:
    for value in ("False", "false", False):
        created = scim.make_user()
        patched = scim.patch_ops(
            f"/Users/{created['id']}", {"op": "Replace", "path": "active", "value": value}
        ).json()
        assert patched["active"] is False, value


def test_a_patch_that_changes_nothing_keeps_the_version(scim: ScimClient) -> None:
    created = scim.make_user(title="Boss")
    response = scim.patch_ops(
        f"/Users/{created['id']}", {"op": "replace", "path": "title", "value": "Boss"}
    )
    assert response.status_code == 200
    assert response.json()["meta"]["version"] == created["meta"]["version"]


def test_a_failing_operation_leaves_the_whole_patch_unapplied(scim: ScimClient) -> None:
    """RFC 7644 §3.5.2: a PATCH is atomic."""
    created = scim.make_user(title="Boss")
    response = scim.patch_ops(
        f"/Users/{created['id']}",
        {"op": "replace", "path": "title", "value": "Intern"},
        {"op": "replace", "path": "noSuchAttribute", "value": "x"},
    )
    assert_scim_error(response, 400, "invalidPath")
    assert scim.fetch(f"/Users/{created['id']}") == created


# -- delete (§3.6) -----------------------------------------------------------------------


def test_delete_answers_204_and_the_user_is_gone(scim: ScimClient) -> None:
    created = scim.make_user()
    path = f"/Users/{created['id']}"
    response = scim.delete(path)
    assert response.status_code == 204
    assert response.content == b""
    assert_scim_error(scim.get(path), 404)
    assert_scim_error(scim.delete(path), 404)
    assert scim.get("/Users").json()["totalResults"] == 0


# -- conflicts and bad input ------------------------------------------------------------


def test_a_duplicate_user_name_is_409_uniqueness_whatever_its_case(scim: ScimClient) -> None:
    scim.make_user(userName="BJensen@Example.com")
    for name in ("BJensen@Example.com", "bjensen@example.com", "BJENSEN@EXAMPLE.COM"):
        assert_scim_error(scim.post("/Users", {"userName": name}), 409, "uniqueness")
    assert scim.get("/Users").json()["totalResults"] == 1


def test_renaming_onto_a_taken_user_name_is_409_and_changes_nothing(scim: ScimClient) -> None:
    scim.make_user(userName="taken@example.com")
    other = scim.make_user()
    path = f"/Users/{other['id']}"
    assert_scim_error(scim.put(path, {"userName": "TAKEN@example.com"}), 409, "uniqueness")
    response = scim.patch_ops(
        path, {"op": "replace", "path": "userName", "value": "Taken@Example.com"}
    )
    assert_scim_error(response, 409, "uniqueness")
    assert scim.fetch(path) == other


def test_a_user_without_a_user_name_is_400_invalid_value(scim: ScimClient) -> None:
    bodies: list[dict[str, Any]] = [
        {"name": {"givenName": "Nobody"}},
        {"userName": ""},
        {"userName": None},
        {"userName": "   "},
    ]
    for body in bodies:
        assert_scim_error(scim.post("/Users", body), 400, "invalidValue")
    assert scim.get("/Users").json()["totalResults"] == 0


def test_a_body_that_is_not_json_is_400_invalid_syntax(scim: ScimClient) -> None:
    for raw in (b'{"userName": "bjensen"', b"{'userName': 'bjensen'}", b"", b"\xff\xfe"):
        response = scim.request(
            "POST", "/Users", content=raw, headers={"Content-Type": "application/scim+json"}
        )
        assert_scim_error(response, 400, "invalidSyntax")


def test_json_that_is_not_an_object_is_400_invalid_syntax(scim: ScimClient) -> None:
    user = scim.make_user()
    for raw in (b"[]", b'["bjensen"]', b'"bjensen"', b"42", b"null", b"true"):
        for method, path in (("POST", "/Users"), ("PUT", f"/Users/{user['id']}")):
            response = scim.request(method, path, content=raw)
            assert_scim_error(response, 400, "invalidSyntax")
    assert scim.fetch(f"/Users/{user['id']}") == user


def test_an_unknown_id_is_404_on_get_put_patch_and_delete(scim: ScimClient) -> None:
    path = "/Users/00919288221112222"
    assert_scim_error(scim.get(path), 404)
    assert_scim_error(scim.put(path, {"userName": "ghost@example.com"}), 404)
    assert_scim_error(scim.patch_ops(path, {"op": "replace", "path": "title", "value": "x"}), 404)
    assert_scim_error(scim.delete(path), 404)
    assert scim.get("/Users").json()["totalResults"] == 0


# -- the enterprise extension (RFC 7643 §4.3) ------------------------------------------


def test_the_enterprise_extension_round_trips_with_its_manager(scim: ScimClient) -> None:
    boss = scim.make_user(displayName="The Boss")
    enterprise = {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {"value": boss["id"]},
    }
    created = scim.make_user(schemas=[USER_SCHEMA, ENTERPRISE], **{ENTERPRISE: enterprise})
    assert ENTERPRISE in created["schemas"]
    for key in ("employeeNumber", "costCenter", "organization", "division", "department"):
        assert created[ENTERPRISE][key] == enterprise[key]
    assert created[ENTERPRISE]["manager"]["value"] == boss["id"]
    assert scim.fetch(f"/Users/{created['id']}") == created


def test_a_manager_sent_as_a_plain_id_is_stored_as_its_value(scim: ScimClient) -> None:
    """Entra ID sends ``"manager": "<id>"``, in POST bodies and PATCH values."""
    boss = scim.make_user()
    created = scim.make_user(**{ENTERPRISE: {"manager": boss["id"]}})
    assert created[ENTERPRISE]["manager"]["value"] == boss["id"]
    other_boss = scim.make_user()
    patched = scim.patch_ops(
        f"/Users/{created['id']}",
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": other_boss["id"]},
    ).json()
    assert patched[ENTERPRISE]["manager"]["value"] == other_boss["id"]


def test_an_enterprise_attribute_can_be_patched_by_its_urn_path(scim: ScimClient) -> None:
    created = scim.make_user()
    patched = scim.patch_ops(
        f"/Users/{created['id']}",
        {"op": "Add", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"},
    ).json()
    assert patched[ENTERPRISE] == {"employeeNumber": "42"}
    assert ENTERPRISE in patched["schemas"]
    removed = scim.patch_ops(
        f"/Users/{created['id']}", {"op": "remove", "path": f"{ENTERPRISE}:employeeNumber"}
    ).json()
    assert ENTERPRISE not in removed
    assert ENTERPRISE not in removed["schemas"]


# -- attributes and excludedAttributes (§3.4.2.5, §3.9) --------------------------------


def _assert_only_user_name(body: dict[str, Any]) -> None:
    assert body["userName"]
    assert body["id"]
    assert body["schemas"]
    assert "name" not in body
    assert "emails" not in body
    assert "active" not in body


def _assert_without_emails_and_name(body: dict[str, Any]) -> None:
    assert body["userName"]
    assert body["id"]
    assert "emails" not in body
    assert "name" not in body
    assert body["active"] in (True, False)


def test_attributes_trim_get_post_put_and_patch_responses(scim: ScimClient) -> None:
    only = {"attributes": "userName"}
    created = scim.post("/Users", scim.user_body(), params=only)
    assert created.status_code == 201
    _assert_only_user_name(created.json())
    path = f"/Users/{created.json()['id']}"
    _assert_only_user_name(scim.fetch(path, params=only))
    put = scim.put(path, scim.user_body(userName=created.json()["userName"]), params=only)
    _assert_only_user_name(put.json())
    patched = scim.patch_ops(path, {"op": "replace", "path": "title", "value": "Boss"}, params=only)
    _assert_only_user_name(patched.json())


def test_excluded_attributes_trim_get_post_put_and_patch_responses(scim: ScimClient) -> None:
    without = {"excludedAttributes": "emails,name"}
    created = scim.post("/Users", scim.user_body(), params=without)
    assert created.status_code == 201
    _assert_without_emails_and_name(created.json())
    path = f"/Users/{created.json()['id']}"
    _assert_without_emails_and_name(scim.fetch(path, params=without))
    put = scim.put(path, scim.user_body(userName=created.json()["userName"]), params=without)
    _assert_without_emails_and_name(put.json())
    patched = scim.patch_ops(
        path, {"op": "replace", "path": "title", "value": "Boss"}, params=without
    )
    _assert_without_emails_and_name(patched.json())
    # What the response leaves out is still stored.
    assert scim.fetch(path)["emails"]


def test_id_and_schemas_cannot_be_excluded(scim: ScimClient) -> None:
    created = scim.make_user()
    fetched = scim.fetch(
        f"/Users/{created['id']}", params={"excludedAttributes": "id,schemas,userName"}
    )
    assert fetched["id"] == created["id"]
    assert fetched["schemas"] == created["schemas"]
    assert "userName" not in fetched


def test_sub_attributes_and_extensions_can_be_asked_for(scim: ScimClient) -> None:
    created = scim.make_user(**{ENTERPRISE: {"employeeNumber": "7", "costCenter": "CC"}})
    fetched = scim.fetch(
        f"/Users/{created['id']}",
        params={"attributes": f"name.familyName,emails.value,{ENTERPRISE}:employeeNumber"},
    )
    assert fetched["name"] == {"familyName": created["name"]["familyName"]}
    assert fetched["emails"] == [{"value": created["emails"][0]["value"]}]
    assert fetched[ENTERPRISE] == {"employeeNumber": "7"}


def test_a_patch_or_put_answers_the_user_as_a_get_then_shows_it(scim: ScimClient) -> None:
    """The written user with its groups, and meta last, as every rendering puts it."""
    user = scim.make_user()
    scim.make_group("Staff", members=[user])
    path = f"/Users/{user['id']}"
    patched = scim.patch_ops(path, {"op": "replace", "path": "displayName", "value": "Babs"})
    assert patched.status_code == 200, patched.text
    assert patched.json() == scim.fetch(path)
    assert list(patched.json())[-2:] == ["groups", "meta"]
    body = {k: v for k, v in scim.fetch(path).items() if k not in ("groups", "meta")}
    replaced = scim.put(path, {**body, "title": "Librarian"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == scim.fetch(path)
    assert list(replaced.json())[-2:] == ["groups", "meta"]
    assert [g["display"] for g in replaced.json()["groups"]] == ["Staff"]
