"""The checks of Microsoft's SCIM reference code Postman collection
(AzureAD/SCIMReferenceCode, ``PostmanCollection.json``), folder by folder, on
SQLite and PostgreSQL.

Bodies are the collection's, including its oddities (``"Primary"``,
``"active": "True"``, a misspelled attribute, malformed JSON, bare filter
values). Two answers differ from what the collection expects, on purpose:

* a User PATCH answers 200 with the user where the collection expects 204
  (RFC 7644 §3.5.2 allows both; Group PATCHes do answer 204);
* a member id that is no user of the tenant is refused with 400
  ``invalidValue`` (the collection adds "string id 1" and expects 204):
  accepting it would store a dangling membership;
* the collection's first request spells the endpoint ``/users``: resource
  endpoints are case-sensitive URL paths (``/Users``), so that one is left out.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.client import (
    ENTERPRISE,
    ERROR_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    IdpClient,
)

USER_PATCH_OK = (200, 204)


def ms_user(user_name: str, **extra: Any) -> dict[str, Any]:
    """The collection's 'Post User' body, with its capitalised "Primary"."""
    body: dict[str, Any] = {
        "userName": user_name,
        "active": True,
        "displayName": "BobIsAmazing",
        "schemas": [USER_SCHEMA],
        "externalId": f"ext-{user_name}",
        "name": {"formatted": "Ryan Leenay", "familyName": "Leenay", "givenName": "Ryan"},
        "emails": [
            {"Primary": True, "type": "work", "value": "testing@bob.com"},
            {"Primary": False, "type": "home", "value": "testinghome@bob.com"},
        ],
    }
    body.update(extra)
    return body


def garbage_user(user_name: str | None, family: str = "Employee", **extra: Any) -> dict[str, Any]:
    """The collection's 'User tests with garbage' body: meta, nulls, addresses."""
    body: dict[str, Any] = {
        "active": True,
        "addresses": [
            {
                "country": "Bermuda",
                "formatted": "9132 Jennifer Way Suite 040\nSouth Nancy, MI 55645",
                "locality": "West Mercedes",
                "postalCode": "99265",
                "region": "Montana",
                "streetAddress": "4939 Hess Fork",
                "type": "work",
                "primary": False,
            },
            {
                "country": None,
                "formatted": "18522 Lisa Unions\nEast Gregory, CT 52311",
                "locality": None,
                "type": "other",
                "primary": False,
            },
        ],
        "displayName": "Kimberly Baker",
        "emails": [
            {"type": "work", "primary": True, "value": "anna33@gmail.com"},
            {"type": "work", "primary": False, "value": "anna33@example.com"},
        ],
        "meta": {
            "created": "2019-09-18T18:15:26.5788954+00:00",
            "lastModified": "2019-09-18T18:15:26.5788976+00:00",
            "resourceType": "User",
        },
        "name": {
            "formatted": "Daniel Mcgee",
            "familyName": family,
            "givenName": "Darl",
            "honorificPrefix": None,
            "honorificSuffix": None,
        },
        "phoneNumbers": [
            {"type": "fax", "primary": False, "value": "312-320-0500"},
            {"type": "work", "primary": True, "value": "312-320-0932"},
        ],
        "preferredLanguage": "xh",
        "roles": [],
        "title": "Site engineer",
        "externalId": "22fbc523-6032-4c5f-939d-5d4850cf3e52",
        "schemas": [USER_SCHEMA],
    }
    if user_name is not None:
        body["userName"] = user_name
    body.update(extra)
    return body


def total(client: IdpClient, path: str) -> int:
    count: int = client.fetch(path)["totalResults"]
    return count


# -- Endpoint tests ------------------------------------------------------------------------


def test_endpoints(postman: IdpClient) -> None:
    assert postman.fetch("/Users")["totalResults"] == 0
    assert postman.fetch("/Groups")["totalResults"] == 0
    assert postman.fetch("/ResourceTypes")["Resources"][0]["endpoint"] == "/Users"
    assert postman.fetch("/ServiceProviderConfig")["patch"]["supported"] is True
    assert "User Account" in postman.get("/Schemas").text


# -- User tests -----------------------------------------------------------------------------


def test_user_tests(postman: IdpClient) -> None:
    first = postman.created("/Users", ms_user("UserName123"))
    assert first["emails"][0] == {"primary": True, "type": "work", "value": "testing@bob.com"}
    second = postman.created(
        "/Users",
        ms_user(
            "UserName222",
            schemas=[ENTERPRISE, USER_SCHEMA],
            displayName="lennay",
            **{ENTERPRISE: {"Department": "bob", "Manager": {"Value": "SuzzyQ"}}},
        ),
    )
    assert second[ENTERPRISE] == {"department": "bob", "manager": {"value": "SuzzyQ"}}
    assert postman.fetch(f"/Users/{first['id']}")["id"] == first["id"]
    assert postman.fetch(f"/Users/{second['id']}")["id"] == second["id"]
    assert first["id"] in postman.get("/Users?attributes=userName,emails").text
    assert first["id"] in postman.get('/Users/?filter=DisplayName+eq+"BobIsAmazing"').text

    patched = postman.patch(
        f"/Users/{first['id']}", {"op": "replace", "path": "userName", "value": "ryan3"}
    )
    assert patched.status_code in USER_PATCH_OK, patched.text
    assert postman.fetch(f"/Users/{first['id']}")["userName"] == "ryan3"

    replaced = postman.put(
        f"/Users/{second['id']}",
        ms_user(
            "UserNameReplace2",
            id=second["id"],
            schemas=[ENTERPRISE, USER_SCHEMA],
            name={"formatted": "NewName", "familyName": "Leenay", "givenName": "Ryan"},
        ),
    )
    assert replaced.status_code == 200, replaced.text
    assert postman.fetch(f"/Users/{second['id']}")["name"]["formatted"] == "NewName"

    assert postman.delete(f"/Users/{first['id']}").status_code == 204
    assert postman.delete(f"/Users/{second['id']}").status_code == 204


# -- Group tests ----------------------------------------------------------------------------


def test_group_tests(postman: IdpClient) -> None:
    group1 = postman.created(
        "/Groups",
        {
            "externalId": "g1",
            "schemas": [GROUP_SCHEMA],
            "displayName": "Group1DisplayName",
            "members": [],
        },
    )
    user3 = postman.created("/Users", ms_user("UserName333", displayName="lennay"))
    user4 = postman.created("/Users", ms_user("UserName444", displayName="new User"))
    group2 = postman.created(
        "/Groups",
        {
            "schemas": [GROUP_SCHEMA],
            "displayName": "GroupDisplayName2",
            "members": [{"value": user3["id"], "display": "VP"}],
        },
    )
    assert [m["value"] for m in group2["members"]] == [user3["id"]]
    assert postman.get("/Groups").status_code == 200

    group3 = postman.created(
        "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "GroupDisplayName3", "members": []}
    )
    put = postman.put(
        f"/Groups/{group3['id']}",
        {
            "schemas": [GROUP_SCHEMA],
            "id": group3["id"],
            "displayName": "putName",
            "members": [
                {"value": user3["id"], "display": "VP"},
                {"value": user4["id"], "display": "SenorVP"},
            ],
        },
    )
    assert put.status_code == 200, put.text
    validated = postman.fetch(f"/Groups/{group3['id']}")
    assert validated["id"] == group3["id"]
    assert user3["id"] in postman.get(f"/Groups/{group3['id']}").text
    assert {m["value"] for m in validated["members"]} == {user3["id"], user4["id"]}

    add = {
        "name": "addMember",
        "op": "add",
        "path": "members",
        "value": [{"displayName": "new User", "value": user4["id"]}],
    }
    assert postman.patch(f"/Groups/{group1['id']}", add).status_code == 204
    remove = {"op": "remove", "path": f'members[value eq "{user4["id"]}"]'}
    assert postman.patch(f"/Groups/{group1['id']}", remove).status_code == 204
    assert "members" not in postman.fetch(f"/Groups/{group1['id']}")
    assert postman.patch(f"/Groups/{group1['id']}", add).status_code == 204
    # The member's display is the user's own displayName ("new User"), read-only.
    assert "new User" in postman.get(f"/Groups/{group1['id']}").text

    assert (
        postman.patch(f"/Groups/{group1['id']}", {"op": "remove", "path": "members"}).status_code
        == 204
    )
    emptied = postman.get(f"/Groups/{group1['id']}")
    assert emptied.status_code == 200
    assert "new User" not in emptied.text

    for path in (f"/Users/{user3['id']}", f"/Users/{user4['id']}"):
        assert postman.delete(path).status_code == 204
    for group in (group1, group2, group3):
        assert postman.delete(f"/Groups/{group['id']}").status_code == 204


# -- ComplexAttribute tests -------------------------------------------------------------------


def test_complex_attribute_tests(postman: IdpClient) -> None:
    first = postman.created(
        "/Users",
        ms_user(
            "UserName111",
            schemas=[ENTERPRISE, USER_SCHEMA],
            emails=[
                {"Primary": True, "type": "work", "value": "emailName357"},
                {"Primary": False, "type": "home", "value": "testinghome@bob.com"},
            ],
        ),
    )
    postman.created(
        "/Users", ms_user("UserName222", emails=[{"type": "work", "value": "jump@bob.com"}])
    )
    by_type = postman.get('/Users?attributes=emails[type+eq+"work"]')
    assert by_type.status_code == 200, by_type.text
    assert "emailName357" in by_type.text
    by_value = postman.get('/Users?attributes=emails[value+eq+"emailName357"]')
    assert by_value.status_code == 200, by_value.text
    assert "emailName357" in by_value.text
    assert postman.delete(f"/Users/{first['id']}").status_code == 204


# -- User tests with garbage --------------------------------------------------------------------


def test_user_tests_with_garbage(postman: IdpClient) -> None:
    omalley = postman.created("/Users", garbage_user("OMalley", family="OMalley"))
    assert omalley["userName"] == "OMalley"
    assert omalley["active"] is True
    emp1 = postman.created("/Users", garbage_user("emp1", active="True"))
    assert emp1["active"] is True
    everyone = postman.fetch("/Users")
    assert everyone["totalResults"] == 2
    assert "OMalley" in str(everyone)
    postman.created("/Users", garbage_user("emp2"))
    postman.created("/Users", garbage_user("emp3"))

    missing = postman.post("/Users", garbage_user(None))
    assert missing.status_code == 400, missing.text
    junk = postman.post("/Users", raw=b'{\r\n    "acve": tre,\r\n    "adadfdresses": [')
    assert junk.status_code == 400, junk.text
    for _ in range(2):
        again = postman.post("/Users", garbage_user("emp3"))
        assert again.status_code == 409, again.text
        assert again.json()["schemas"] == [ERROR_SCHEMA]
        assert "detail" in again.text

    no_user_name = garbage_user(None, family="OMalley", id=omalley["id"], active=False)
    no_user_name["userame"] = "OMalley"
    assert postman.put(f"/Users/{omalley['id']}", no_user_name).status_code == 400

    misspelled = garbage_user("OMalley", family="OMalley", id=omalley["id"], active=False)
    misspelled["adreses"] = misspelled.pop("addresses")
    put = postman.put(f"/Users/{omalley['id']}", misspelled)
    assert put.status_code == 200, put.text
    assert "Addresses" not in put.text
    assert "adreses" not in put.text

    enterprise = postman.created(
        "/Users",
        garbage_user(
            "enterprise",
            schemas=[USER_SCHEMA, ENTERPRISE],
            **{ENTERPRISE: {"Department": "some department"}},
        ),
    )
    assert enterprise[ENTERPRISE] == {"department": "some department"}

    rename = {"op": "Replace", "path": "userName", "value": "newusername"}
    assert postman.patch(f"/Users/{omalley['id']}", rename).status_code in USER_PATCH_OK
    disable = {"op": "Replace", "path": "active", "value": False}
    assert postman.patch(f"/Users/{omalley['id']}", disable).status_code in USER_PATCH_OK
    fetched = postman.fetch(f"/Users/{omalley['id']}")
    assert fetched["userName"] == "newusername"
    assert fetched["active"] is False

    restored = garbage_user("OMalley", family="OMalley", id=omalley["id"], active=False)
    restored["addresses"][0]["country"] = "Germany"
    put = postman.put(f"/Users/{omalley['id']}", restored)
    assert put.status_code == 200, put.text
    assert put.json()["userName"] == "OMalley"
    assert put.json()["active"] is False
    assert "Germany" in put.text

    page = postman.fetch("/Users?startIndex=1&count=2")
    assert (page["totalResults"], page["itemsPerPage"]) == (5, 2)
    assert total(postman, "/Users?attributes=userName,emails") == 5
    assert postman.post("/Users", garbage_user("emp3")).status_code == 409
    bare = (
        "/Users?filter=name.FamilyName eq Employee and "
        "(emails.Value co example.com or emails.Value co example.org)"
    )
    assert total(postman, bare) == 4
    assert total(postman, "/Users?filter=userName sw O") == 1
    assert total(postman, "/Users?filter=meta.Created gt 2015-10-10T14:38:21.8617979-07:00") == 5


# -- Group tests with garbage ---------------------------------------------------------------------


def test_group_tests_with_garbage(postman: IdpClient) -> None:
    group = postman.created(
        "/Groups",
        {"displayName": "Group 1", "externalId": "015489ea", "schemas": [GROUP_SCHEMA]},
    )
    user = postman.created("/Users", ms_user("member1"))
    patch_path = f"/Groups/{group['id']}"
    body = {"id": group["id"], "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    add_bare = {**body, "Operations": [{"op": "add", "path": "members", "value": user["id"]}]}
    assert postman.request("PATCH", patch_path, add_bare).status_code == 204
    assert [m["value"] for m in postman.fetch(patch_path)["members"]] == [user["id"]]

    unknown = {**body, "Operations": [{"op": "add", "path": "members", "value": "string id 1"}]}
    refused = postman.request("PATCH", patch_path, unknown)
    assert refused.status_code == 400, refused.text  # a deliberate deviation, see above
    assert refused.json()["scimType"] == "invalidValue"

    assert postman.get(patch_path).status_code == 200
    excluded = postman.fetch(f"{patch_path}?excludedAttributes=members")
    assert "members" not in excluded
    put = postman.put(
        patch_path,
        {
            "id": group["id"],
            "displayName": "Tiffany Ortiz",
            "externalId": "6c6b54c2",
            "schemas": [GROUP_SCHEMA],
        },
    )
    assert put.status_code == 200, put.text
    assert put.json()["displayName"] == "Tiffany Ortiz"


# -- Teardown -------------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["/Users?attributes=userName", "/Groups"])
def test_teardown_leaves_nothing(postman: IdpClient, collection: str) -> None:
    created = postman.created("/Users", ms_user("short.lived"))
    group = postman.created("/Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Short"})
    assert postman.delete(f"/Users/{created['id']}").status_code == 204
    assert postman.delete(f"/Groups/{group['id']}").status_code == 204
    assert postman.fetch(collection)["Resources"] == []
