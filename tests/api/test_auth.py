"""API keys: who may call the host API, and on which tenants."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from scimgate.api.app import create_api
from scimgate.errors import NotFound
from scimgate.model.entities import Tenant
from scimgate.service import api_keys
from scimgate.service import tenants as tenant_service
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.api.conftest import HostApi, MakeKey, assert_problem

TENANT_PATHS = [
    "/tenants/acme/users",
    "/tenants/acme/users/00000000-0000-0000-0000-000000000000",
    "/tenants/acme/groups",
    "/tenants/acme/roles",
    "/tenants/acme/role-mappings",
    "/tenants/acme/settings",
    "/tenants/acme/scim-tokens",
    "/tenants/acme/events",
]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic c2drXzp4",
        "Bearer sgk_" + "x" * 43,
        "Bearer sgk_bad!chars",
        "Bearer " + "sgk_" + "a" * 300,
    ],
)
def test_a_missing_or_invalid_key_is_refused_with_401(
    client: TestClient, acme: Tenant, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/tenants/acme/users", headers=headers)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", TENANT_PATHS)
def test_every_tenant_endpoint_needs_a_key(client: TestClient, acme: Tenant, path: str) -> None:
    assert_problem(HostApi(client, None).get(path), 401, "unauthorized")


def test_a_scim_token_is_not_an_api_key(
    client: TestClient, acme: Tenant, make_token: Callable[..., IssuedToken]
) -> None:
    scim_token = make_token("acme").secret
    assert_problem(HostApi(client, scim_token).get("/tenants/acme/users"), 401)


def test_a_revoked_key_is_refused_on_the_next_request(
    client: TestClient, db: Database, acme: Tenant
) -> None:
    issued = api_keys.create_api_key(db, get_tenant(db, "acme"))
    host = HostApi(client, issued.secret)
    assert host.get("/tenants/acme/users").status_code == 200
    api_keys.revoke_api_key(db, issued.key.id)
    response = host.get("/tenants/acme/users")
    assert_problem(response, 401)
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize("path", TENANT_PATHS)
def test_a_tenant_key_gets_403_on_another_tenant(
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_key: MakeKey,
    acme: Tenant,
    path: str,
) -> None:
    make_tenant("globex")
    globex = HostApi(client, make_key("globex"))
    assert_problem(globex.get(path), 403, "forbidden")


def test_a_tenant_key_cannot_tell_unknown_tenants_from_foreign_ones(api: HostApi) -> None:
    assert_problem(api.get("/tenants/nobody/users"), 403, "forbidden")


def test_an_operator_key_acts_on_every_tenant(
    operator: HostApi, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    for slug in ("acme", "globex"):
        assert operator.get(f"/tenants/{slug}/users").status_code == 200


def test_an_operator_key_gets_404_for_an_unknown_tenant(operator: HostApi) -> None:
    assert_problem(operator.get("/tenants/nobody/users"), 404, "not_found")


def test_only_operator_keys_list_tenants(
    operator: HostApi, api: HostApi, make_tenant: Callable[..., Tenant]
) -> None:
    make_tenant("globex")
    body = operator.ok("/tenants")
    assert [t["slug"] for t in body["items"]] == ["acme", "globex"]
    assert body["items"][0]["name"] == "Acme Corp"
    assert body["items"][0]["scimBaseUrl"] == "https://scim.example.test/scim/v2/acme"
    assert_problem(api.get("/tenants"), 403, "forbidden")


def test_a_key_records_when_it_was_last_used(api: HostApi, db: Database) -> None:
    assert [k.last_used_at for k in api_keys.list_api_keys(db)] == [None]
    api.ok("/tenants/acme/roles")
    (key,) = api_keys.list_api_keys(db)
    assert key.last_used_at is not None


def test_keys_are_stored_as_hashes_and_shown_by_prefix(db: Database, acme: Tenant) -> None:
    issued = api_keys.create_api_key(db, get_tenant(db, "acme"), "Billing backend")
    assert issued.secret.startswith("sgk_")
    assert issued.secret.startswith(issued.key.prefix)
    assert len(issued.key.prefix) < 16
    (listed,) = api_keys.list_api_keys(db)
    assert listed.tenant_slug == "acme"
    assert listed.name == "Billing backend"
    assert issued.secret not in repr(listed)


def test_revoking_an_unknown_key_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        api_keys.revoke_api_key(db, "0" * 32)


def test_a_disabled_tenant_stays_reachable_for_its_host_app(api: HostApi, db: Database) -> None:
    """Disabling stops the IdP's SCIM tokens, not the host app's view of the data."""
    tenant_service.set_tenant_disabled(db, "acme", True)
    assert api.get("/tenants/acme/users").status_code == 200


def test_an_api_without_its_database_yet_answers_503() -> None:
    with TestClient(create_api()) as bare:
        response = bare.get("/v1/tenants", headers={"Authorization": "Bearer sgk_x"})
    assert_problem(response, 503, "unavailable")
