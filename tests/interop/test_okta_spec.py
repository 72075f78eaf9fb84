"""Okta's SCIM 2.0 SPEC test and CRUD test, step by step (okta/okta-developer-docs,
``Okta-SCIM-20-SPEC-Test.json`` and the CRUD test), on SQLite and PostgreSQL.

Okta runs these (with Runscope) before it lists an integration; the steps
and what each asserts are summarised in the project's IdP notes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.interop.client import ERROR_SCHEMA, LIST_RESPONSE, USER_SCHEMA, IdpClient


def okta_user(user_name: str = "spec.test@okta.local", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Spec", "familyName": "Test"},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "displayName": "Spec Test",
        "locale": "en-US",
        "externalId": "00u1spectest",
        "groups": [],
        "password": "t1meMa$heen",
        "active": True,
    }
    body.update(extra)
    return body


def assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == str(status)
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


@pytest.fixture
def existing(okta: IdpClient) -> dict[str, Any]:
    """The SPEC test runs against a server that already holds a user."""
    return okta.created("/Users", okta_user("existing.user@okta.local"))


# -- SPEC test --------------------------------------------------------------------------


def test_required_test_list_users_with_count_1(okta: IdpClient, existing: dict[str, Any]) -> None:
    body = okta.fetch("/Users?count=1&startIndex=1")
    assert body["schemas"] == [LIST_RESPONSE]
    for name in ("totalResults", "itemsPerPage", "startIndex"):
        assert type(body[name]) is int, name
    assert body["itemsPerPage"] == 1
    first = body["Resources"][0]
    assert first["id"]
    assert first["userName"]
    assert first["schemas"]
    assert first["name"]["familyName"]
    assert first["emails"][0]["value"]


def test_required_test_get_a_user_by_id(okta: IdpClient, existing: dict[str, Any]) -> None:
    fetched = okta.fetch(f"/Users/{existing['id']}")
    assert fetched["id"] == existing["id"]
    assert fetched["userName"] == "existing.user@okta.local"
    assert fetched["meta"]["resourceType"] == "User"


def test_required_test_filter_on_a_user_that_does_not_exist(okta: IdpClient) -> None:
    body = okta.fetch('/Users?filter=userName eq "nobody.12345@okta.local"&startIndex=1&count=100')
    assert body["totalResults"] == 0
    assert body.get("Resources", []) == []


def test_required_test_a_user_id_that_does_not_exist(okta: IdpClient) -> None:
    assert_error(okta.get("/Users/010101010101"), 404)


def test_required_test_create_then_create_again(okta: IdpClient) -> None:
    created = okta.post("/Users", okta_user())
    assert created.status_code == 201, created.text
    assert created.json()["userName"] == "spec.test@okta.local"
    assert created.json()["active"] is True
    assert "password" not in created.json()
    assert_error(okta.post("/Users", okta_user()), 409)


def test_required_test_filter_with_the_user_name_in_upper_case(okta: IdpClient) -> None:
    created = okta.created("/Users", okta_user())
    body = okta.fetch('/Users?filter=userName eq "SPEC.TEST@OKTA.LOCAL"&startIndex=1&count=100')
    assert body["totalResults"] == 1
    assert body["Resources"][0]["id"] == created["id"]


def test_required_test_list_groups_answers_fast(okta: IdpClient) -> None:
    started = time.monotonic()
    body = okta.fetch("/Groups?startIndex=1&count=100")
    assert time.monotonic() - started < 2.0
    assert body["schemas"] == [LIST_RESPONSE]
    assert body["totalResults"] == 0


def test_required_test_a_bad_token_is_refused_with_a_scim_error(okta: IdpClient) -> None:
    response = okta.get("/Users?count=1", headers={"Authorization": "Bearer not-a-real-token"})
    body = assert_error(response, 401)
    assert "WWW-Authenticate" in response.headers
    assert body["detail"]


def test_required_test_the_spec_tests_fixed_unknown_id(okta: IdpClient) -> None:
    assert_error(okta.get("/Users/00919288221112222"), 404)


# -- CRUD test --------------------------------------------------------------------------


def test_crud_create_read_update_deactivate_reactivate(okta: IdpClient) -> None:
    created = okta.created("/Users", okta_user())
    user_id = created["id"]
    assert okta.fetch(f"/Users/{user_id}")["userName"] == "spec.test@okta.local"

    updated = okta.put(
        f"/Users/{user_id}",
        okta_user(name={"givenName": "Updated", "familyName": "Test"}, id=user_id),
    )
    assert updated.status_code == 200, updated.text
    assert okta.fetch(f"/Users/{user_id}")["name"]["givenName"] == "Updated"

    off = okta.patch(f"/Users/{user_id}", {"op": "replace", "value": {"active": False}})
    assert off.status_code in (200, 204), off.text
    after = okta.get(f"/Users/{user_id}")
    assert after.status_code == 200  # a deactivated user is still returned
    assert after.json()["active"] is False
    listed = okta.fetch('/Users?filter=userName eq "spec.test@okta.local"')
    assert listed["Resources"][0]["active"] is False

    on = okta.patch(f"/Users/{user_id}", {"op": "replace", "value": {"active": True}})
    assert on.status_code in (200, 204), on.text
    assert okta.fetch(f"/Users/{user_id}")["active"] is True


def test_crud_import_pages_by_100_in_a_stable_order(okta: IdpClient) -> None:
    ids = [okta.created("/Users", okta_user(f"u{n:03d}@okta.local"))["id"] for n in range(5)]
    first = okta.fetch("/Users?startIndex=1&count=3")
    second = okta.fetch("/Users?startIndex=4&count=3")
    assert (first["totalResults"], first["itemsPerPage"], second["itemsPerPage"]) == (5, 3, 2)
    seen = [r["id"] for r in first["Resources"] + second["Resources"]]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 5
