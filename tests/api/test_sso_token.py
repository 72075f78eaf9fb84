"""The host API's single sign-on: the code exchange and connection management."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.storage.database import Database
from tests.api.conftest import HostApi, MakeKey, assert_problem
from tests.service.test_sso import HOST, identity, sign_in

ACME = "/tenants/acme"


@pytest.fixture
def settings(engine: sa.Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="https://scim.example.test",
        dev_mode=True,
        sso_redirect_uris=HOST,
        _env_file=None,  # type: ignore[call-arg]
    )


def _code(db: Database, tenant: Tenant, settings: Settings, **who: object) -> str:
    connection = sso.list_connections(db, tenant)
    okta = connection[0] if connection else None
    if okta is None:
        okta = sso.create_connection(db, tenant, {"name": "Okta", "protocol": "saml", "jit": True})
    return sign_in(db, tenant, okta, identity(**who), settings)  # type: ignore[arg-type]


def test_the_code_exchanges_once_for_the_profile(
    api: HostApi, db: Database, acme: Tenant, settings: Settings
) -> None:
    code = _code(db, acme, settings, given_name="Ada", groups=("Eng",))
    response = api.post("/sso/token", {"code": code})
    assert response.status_code == 200, response.text
    profile = response.json()
    assert set(profile) == {
        "userId",
        "tenant",
        "email",
        "userName",
        "name",
        "enabled",
        "roles",
        "groups",
        "connection",
        "claims",
    }
    assert profile["tenant"] == "acme"
    assert profile["email"] == "ada@example.test"
    assert profile["name"]["givenName"] == "Ada"
    assert profile["roles"] == ["member"]
    assert profile["groups"] == ["Eng"]
    assert profile["connection"]["protocol"] == "saml"
    # The user is the one the rest of the API shows.
    assert api.ok(f"{ACME}/users/{profile['userId']}")["userName"] == "ada@example.test"
    assert_problem(api.post("/sso/token", {"code": code}), 400, "invalid_grant")


def test_a_key_of_another_tenant_gets_invalid_grant(
    client: TestClient,
    db: Database,
    acme: Tenant,
    settings: Settings,
    make_tenant: Callable[..., Tenant],
    make_key: MakeKey,
    operator: HostApi,
) -> None:
    make_tenant("globex")
    globex = HostApi(client, make_key("globex"))
    code = _code(db, acme, settings)
    assert_problem(globex.post("/sso/token", {"code": code}), 400, "invalid_grant")
    assert operator.post("/sso/token", {"code": code}).status_code == 200


def test_an_unknown_code_and_no_key_are_refused(client: TestClient, api: HostApi) -> None:
    assert_problem(api.post("/sso/token", {"code": "nothing"}), 400, "invalid_grant")
    assert_problem(HostApi(client, None).post("/sso/token", {"code": "x"}), 401)
    assert_problem(api.post("/sso/token", {}), 422, "invalid_request")


def test_connections_are_managed_per_tenant(
    api: HostApi, client: TestClient, make_tenant: Callable[..., Tenant], make_key: MakeKey
) -> None:
    created = api.created(
        f"{ACME}/sso/connections",
        {
            "name": "Entra",
            "protocol": "oidc",
            "jit": True,
            "config": {"issuer": "https://login.example.test/v2.0", "client_id": "abc"},
            "clientSecret": "s3cret",
        },
    )
    assert created["hasClientSecret"] is True
    assert "clientSecret" not in created
    assert created["matchBy"] == "subject"
    assert created["sp"] == {
        "entityId": "https://scim.example.test/sso/acme/saml/metadata",
        "acsUrl": "https://scim.example.test/sso/acme/saml/acs",
        "metadataUrl": "https://scim.example.test/sso/acme/saml/metadata",
        "oidcCallbackUrl": "https://scim.example.test/sso/acme/oidc/callback",
    }
    path = f"{ACME}/sso/connections/{created['id']}"
    changed = api.patch(path, {"enabled": False, "matchBy": "email"}).json()
    assert (changed["enabled"], changed["matchBy"], changed["jit"]) == (False, "email", True)
    assert [c["name"] for c in api.ok(f"{ACME}/sso/connections")["items"]] == ["Entra"]
    by_url = {"idp_metadata_url": "https://idp.example.test/metadata"}
    clash = {"name": "Entra", "protocol": "saml", "config": by_url}
    assert_problem(api.post(f"{ACME}/sso/connections", clash), 409)
    assert_problem(api.post(f"{ACME}/sso/connections", {"name": "X", "protocol": "ldap"}), 422)
    # Another tenant's key neither sees nor reaches it.
    make_tenant("globex")
    globex = HostApi(client, make_key("globex"))
    assert_problem(globex.get(path), 403)
    assert_problem(globex.get(f"/tenants/globex/sso/connections/{created['id']}"), 404)
    assert_problem(globex.delete(f"/tenants/globex/sso/connections/{created['id']}"), 404)
    assert api.delete(path).status_code == 204
    assert_problem(api.get(path), 404, "not_found")
