"""``/sso/{tenant}/start``: the host app's entry point picks a connection or refuses in words."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.app import create_app
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.service.tenants import set_tenant_disabled
from scimgate.storage.audit import AuditFilter
from scimgate.storage.database import Database

HOST = "https://app.example.test/callback"


@pytest.fixture
def client(engine: sa.Engine, db: Database) -> Iterator[TestClient]:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="https://scim.example.test",
        dev_mode=True,
        sso_redirect_uris=HOST,
        _env_file=None,  # type: ignore[call-arg]
    )
    app: Starlette = create_app(settings, database=db)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as http:
        yield http


def _refusals(db: Database, tenant: Tenant) -> list[tuple[int, str | None, str]]:
    with db.tenant(tenant.id) as repo:
        rows = repo.audit.page(AuditFilter(resource_type="SignIn"), 10)
    return [(row.status, row.scim_type, row.path) for row in rows]


def test_start_sends_the_browser_to_the_connection_protocol(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    response = client.get("/sso/acme/start", params={"redirect_uri": HOST, "state": "abc"})
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/sso/acme/saml/start?connection={okta.id}"
        "&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcallback&state=abc"
    )


def test_start_picks_a_connection_by_email_domain(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    entra = sso.create_connection(
        db, acme, {"name": "Entra", "protocol": "oidc", "config": {"domains": ["globex.test"]}}
    )
    response = client.get(
        "/sso/acme/start", params={"redirect_uri": HOST, "email": "bob@Globex.test"}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/sso/acme/oidc/start?connection={entra.id}")
    # Two connections and nothing to choose by: refused, in words.
    refused = client.get("/sso/acme/start", params={"redirect_uri": HOST})
    assert refused.status_code == 403
    assert "2 SSO connections" in refused.text


def test_an_unregistered_redirect_uri_gets_the_refusal_page_and_an_audit_row(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    response = client.get("/sso/acme/start", params={"redirect_uri": "https://evil.test/cb"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "https://evil.test/cb" in response.text
    assert "redirect_uri" in response.text
    assert "location" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src" not in response.headers["content-security-policy"]
    assert _refusals(db, acme) == [(403, "redirect_uri", "/sso/acme/start")]


def test_unknown_and_disabled_tenants_are_refused(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    assert client.get("/sso/nobody/start", params={"redirect_uri": HOST}).status_code == 403
    make_tenant("acme")
    set_tenant_disabled(db, "acme", True)
    response = client.get("/sso/acme/start", params={"redirect_uri": HOST})
    assert response.status_code == 403
    assert "disabled" in response.text


def test_a_disabled_connection_is_refused(
    client: TestClient, db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    acme = make_tenant("acme")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml", "enabled": False})
    response = client.get(
        "/sso/acme/start", params={"redirect_uri": HOST, "connection": str(okta.id)}
    )
    assert response.status_code == 403
    assert "connection_disabled" in response.text


@pytest.mark.parametrize(
    ("peer", "recorded"),
    [("10.0.0.5", "from 203.0.113.9"), ("198.51.100.7", "from 198.51.100.7")],
)
def test_a_refusal_records_the_address_a_trusted_proxy_forwarded(
    engine: sa.Engine,
    db: Database,
    make_tenant: Callable[..., Tenant],
    peer: str,
    recorded: str,
) -> None:
    """Behind a trusted proxy the sign-in's audit row names the browser, not the proxy;
    a peer that is no trusted proxy cannot choose the address it is recorded under."""
    acme = make_tenant("acme")
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        public_url="https://scim.example.test",
        dev_mode=True,
        sso_redirect_uris=HOST,
        trusted_proxies="10.0.0.0/8",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, database=db)
    with TestClient(app, follow_redirects=False, client=(peer, 40000)) as http:
        response = http.get(
            "/sso/acme/start",
            params={"redirect_uri": "https://evil.test/cb"},
            headers={"x-forwarded-for": "203.0.113.9"},
        )
    assert response.status_code == 403
    with db.tenant(acme.id) as repo:
        (row,) = repo.audit.page(AuditFilter(resource_type="SignIn"), 10)
    assert row.change is not None
    assert row.change.startswith(recorded)
