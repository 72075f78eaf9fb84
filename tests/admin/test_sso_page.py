"""Administration → Access → SSO: connections, the SP values to copy, the latest sign-ins."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from starlette.testclient import TestClient

from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import sign_in


def test_the_page_lists_connections_sp_values_and_refusals_in_words(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml", "jit": True})
    refusal = SsoRejected(
        "audience", "the assertion's Audience is https://x, this connection expects https://y"
    )
    sso.record_refusal(db, acme, okta, refusal, client=sso.ClientInfo("192.0.2.7", "Firefox"))
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    # No key pair yet: the page says so and makes none (a GET changes nothing).
    assert "made on first use" in console.get("/admin/tenants/acme/sso").text
    assert sso.sp_certificates(db, acme) is None
    sso.sp_keys(db, acme, Keyring("k", purpose=SSO_SP_KEY))
    response = console.get("/admin/tenants/acme/sso")
    assert response.status_code == 200
    page = unescape(response.text)
    assert "https://scim.example.test/sso/acme/saml/acs" in page
    assert "https://scim.example.test/sso/acme/saml/metadata" in page
    assert "https://scim.example.test/sso/acme/oidc/callback" in page
    assert "-----BEGIN CERTIFICATE-----" in page
    assert "<td>Okta</td><td>SAML</td>" in page
    assert "refused: audience" in page
    assert "the assertion's Audience is https://x, this connection expects https://y" in page
    assert "from 192.0.2.7 Firefox" in page
    assert 'href="/admin/tenants/acme/sso" aria-current="page"' in response.text
    assert 'data-testid="metadata-error"' not in response.text


def test_the_page_shows_why_the_idp_metadata_could_not_be_fetched(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    url = "https://idp.example.test/metadata"
    config = {
        "idp_metadata_url": url,
        "idp_metadata_error": f"the IdP metadata URL {url} answered HTTP 503",
    }
    sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml", "config": config})
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    page = unescape(console.get("/admin/tenants/acme/sso").text)
    assert "The IdP metadata could not be fetched" in page
    assert "answered HTTP 503" in page


def test_a_tenant_admin_cannot_see_another_tenants_sso_page(
    console: TestClient,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    make_admin("admin@globex.example", "globex")
    sign_in(console, "admin@globex.example")
    assert console.get("/admin/tenants/acme/sso").status_code == 404
    assert console.get("/admin/tenants/globex/sso").status_code == 200
