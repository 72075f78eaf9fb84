"""GET/PATCH .../settings and the SCIM tokens under .../scim-tokens."""

from __future__ import annotations

from typing import Any

import pytest

from scimgate.service import tokens
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from tests.api.conftest import HostApi, assert_problem
from tests.scim.contract import ENTERPRISE, USER_SCHEMA, ScimClient

ACME = "/tenants/acme"


def test_settings_start_at_the_defaults(api: HostApi) -> None:
    body = api.ok(f"{ACME}/settings")
    assert body["defaultRole"] == "member"
    assert body["roleMode"] == "single"
    assert body["deactivateUnmapped"] is False
    assert body["deleteMode"] == "soft"
    assert body["softDeleteDays"] == 30
    assert body["attributeMapping"]["department"].endswith(":User:department")
    assert body["scimExtensions"] == []


def test_a_patch_changes_only_what_it_names(api: HostApi) -> None:
    before = api.ok(f"{ACME}/settings")
    response = api.patch(f"{ACME}/settings", {"deleteMode": "hard", "softDeleteDays": 7})
    assert response.status_code == 200, response.text
    after = response.json()
    assert after == {**before, "deleteMode": "hard", "softDeleteDays": 7}
    assert api.ok(f"{ACME}/settings") == after


def test_snake_case_names_are_accepted_too(api: HostApi) -> None:
    response = api.patch(f"{ACME}/settings", {"role_mode": "multiple"})
    assert response.status_code == 200, response.text
    assert response.json()["roleMode"] == "multiple"


def test_the_delete_mode_applies_to_the_next_scim_delete(api: HostApi, scim: ScimClient) -> None:
    api.patch(f"{ACME}/settings", {"deleteMode": "hard"})
    user = scim.make_user()
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    (event,) = api.ok(f"{ACME}/events", type="user.deleted")["items"]
    assert event["data"]["mode"] == "hard"


def test_the_attribute_mapping_shapes_the_profile(api: HostApi, scim: ScimClient) -> None:
    mapping = {
        "work_email": 'emails[type eq "work"].value',
        "division": f"{ENTERPRISE}:division",
        "all_emails": "emails.value",
    }
    response = api.patch(f"{ACME}/settings", {"attributeMapping": mapping})
    assert response.status_code == 200, response.text
    user = scim.make_user(
        schemas=[USER_SCHEMA, ENTERPRISE],
        emails=[{"value": "a@x.test", "type": "home"}, {"value": "b@x.test", "type": "work"}],
        **{ENTERPRISE: {"division": "Retail"}},
    )
    profile = api.ok(f"{ACME}/users/{user['id']}")["profile"]
    assert profile == {
        "work_email": "b@x.test",
        "division": "Retail",
        "all_emails": ["a@x.test", "b@x.test"],
    }


def test_a_registered_extension_can_be_mapped(api: HostApi, scim: ScimClient) -> None:
    urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User"
    api.patch(
        f"{ACME}/settings",
        {"scimExtensions": [urn], "attributeMapping": {"badge": f"{urn}:badgeNumber"}},
    )
    user = scim.make_user(schemas=[USER_SCHEMA, urn], **{urn: {"badgeNumber": "B-7"}})
    assert api.ok(f"{ACME}/users/{user['id']}")["profile"] == {"badge": "B-7"}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"roleMode": "some"}, 422, "invalid_request"),
        ({"deleteMode": "later"}, 422, "invalid_request"),
        ({"softDeleteDays": 0}, 422, "invalid_request"),
        ({"softDeleteDays": 3651}, 422, "invalid_request"),
        ({"softDeleteDays": "30"}, 422, "invalid_request"),
        ({"deactivateUnmapped": "yes"}, 422, "invalid_request"),
        ({"defaultRole": "nothing"}, 400, "invalid_value"),
        ({"attributeMapping": {"dept": "emails[type eq"}}, 400, "invalid_path"),
        ({"attributeMapping": {"dept": 'emails[primary eq "x"].value'}}, 400, "invalid_path"),
        ({"attributeMapping": {"bad name": "title"}}, 400, "invalid_value"),
        ({"attributeMapping": {"dept": 5}}, 422, "invalid_request"),
        ({"scimExtensions": ["not-a-urn"]}, 400, "invalid_value"),
        ({"colour": "blue"}, 422, "invalid_request"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    api: HostApi, body: dict[str, Any], status: int, error: str
) -> None:
    before = api.ok(f"{ACME}/settings")
    assert_problem(api.patch(f"{ACME}/settings", body), status, error)
    assert api.ok(f"{ACME}/settings") == before


def test_a_new_default_role_is_given_to_users_at_once(api: HostApi, scim: ScimClient) -> None:
    user = scim.make_user()
    api.created(f"{ACME}/roles", {"key": "viewer"})
    assert api.patch(f"{ACME}/settings", {"defaultRole": "viewer"}).status_code == 200
    assert api.ok(f"{ACME}/users/{user['id']}")["roles"] == ["viewer"]
    (event,) = api.ok(f"{ACME}/events", type="user.roles_changed")["items"][-1:]
    assert (event["data"]["before"], event["data"]["after"]) == (["member"], ["viewer"])


# -- SCIM tokens -------------------------------------------------------------------------


def test_a_scim_token_created_through_the_api_works_for_scim(
    api: HostApi, scim: ScimClient
) -> None:
    created = api.created(f"{ACME}/scim-tokens", {"name": "Okta", "expiresInDays": 90})
    assert created["token"].startswith("sgt_")
    assert created["token"].startswith(created["prefix"])
    assert created["scimBaseUrl"] == "https://scim.example.test/scim/v2/acme"
    assert created["expiresAt"] is not None
    idp = ScimClient(scim.http, "acme", created["token"])
    assert idp.get("/Users").status_code == 200
    listed = api.ok(f"{ACME}/scim-tokens")["items"]
    mine = next(t for t in listed if t["id"] == created["id"])
    assert "token" not in mine
    assert mine["name"] == "Okta"
    assert api.delete(f"{ACME}/scim-tokens/{created['id']}").status_code == 204
    assert idp.get("/Users").status_code == 401
    revoked = next(t for t in api.ok(f"{ACME}/scim-tokens")["items"] if t["id"] == created["id"])
    assert revoked["revokedAt"] is not None


def test_a_scim_token_needs_no_body(api: HostApi) -> None:
    response = api.request("POST", f"{ACME}/scim-tokens")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "SCIM token"


def test_revoking_an_unknown_scim_token_is_404(api: HostApi) -> None:
    assert_problem(api.delete(f"{ACME}/scim-tokens/{'0' * 32}"), 404, "not_found")


def test_a_scim_token_of_another_tenant_cannot_be_revoked(
    api: HostApi, globex_scim: ScimClient, db: Database
) -> None:
    """globex's token id means nothing under acme: 404, and the token keeps working."""
    (token,) = tokens.list_tokens(db, get_tenant(db, "globex"))
    assert_problem(api.delete(f"{ACME}/scim-tokens/{token.id}"), 404)
    assert globex_scim.get("/Users").status_code == 200
