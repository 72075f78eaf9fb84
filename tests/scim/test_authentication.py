"""Every SCIM request is authenticated against the URL's tenant (RFC 6750 bearer)."""

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service import tokens as token_service
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def assert_unauthorized(response: object) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/scim+json")  # type: ignore[attr-defined]
    assert response.headers["www-authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "401"
    assert body["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer sgt_unknownunknownunknownunknownunknown1234567"},
    ],
)
def test_requests_without_a_valid_token_get_a_scim_401(
    client: TestClient, make_tenant: Callable[..., Tenant], headers: dict[str, str]
) -> None:
    make_tenant("acme")
    assert_unauthorized(client.get("/scim/v2/acme/Users", headers=headers))


def test_a_token_of_tenant_b_is_refused_on_tenant_a(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    issued = make_token("globex")
    response = client.get(
        "/scim/v2/acme/ServiceProviderConfig", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert_unauthorized(response)


def test_an_unknown_tenant_is_refused_like_a_bad_token(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    response = client.get(
        "/scim/v2/nobody/Users", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert_unauthorized(response)


def test_a_revoked_token_is_refused_immediately(
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    auth = {"Authorization": f"Bearer {issued.secret}"}
    assert client.get("/scim/v2/acme/NoSuchEndpoint", headers=auth).status_code == 404
    token_service.revoke_token(db, get_tenant(db, "acme"), issued.token.id)
    assert_unauthorized(client.get("/scim/v2/acme/NoSuchEndpoint", headers=auth))


def test_a_valid_token_reaches_the_tenant_endpoint(
    client: TestClient, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    make_tenant("acme")
    issued = make_token("acme")
    response = client.get(
        "/scim/v2/acme/NoSuchEndpoint", headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/scim+json")
    assert response.json()["status"] == "404"
