"""Administration → Access → SSO: connections, the SP values to copy, the latest sign-ins."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from starlette.testclient import TestClient

from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import sso, sso_trial
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import sign_in
from tests.idps.keys import make_key_pair


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
    assert 'refused, the Audience is not this tenant\'s <span class="muted">(audience)' in page
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


def test_test_sign_in_starts_a_trial_through_the_connections_start_route(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    acme = make_tenant("acme")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    make_admin("ops@example.com")
    token = sign_in(console, "ops@example.com")
    page = console.get("/admin/tenants/acme/sso").text
    assert f'action="/admin/tenants/acme/sso/{okta.id}/test"' in page
    url = f"/admin/tenants/acme/sso/{okta.id}/test"
    assert console.post(url, data={"csrf": "forged"}).status_code == 403
    started = console.post(url, data={"csrf": token})
    assert started.status_code == 200
    # The console's CSP holds form redirects to itself; a refresh goes on to the IdP.
    target = unescape(started.text.split('content="0;url=', 1)[1].split('"', 1)[0])
    assert target.startswith(f"/sso/acme/saml/start?connection={okta.id}&trial=_")
    ticket = target.rsplit("trial=", 1)[1]
    assert sso_trial.redeem_ticket(db, acme, okta, ticket).endswith(f"/sso/{okta.id}/tests/")


def test_a_test_sign_ins_report_shows_each_check(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    acme = make_tenant("acme")
    okta = sso.create_connection(db, acme, {"name": "Okta", "protocol": "saml"})
    wrong = SsoRejected("audience", "the assertion's Audience is https://x, expected https://y")
    path = sso_trial.fail(db, acme, okta, wrong, client=sso.ClientInfo("192.0.2.7", "Firefox"))
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    page = unescape(console.get(path).text)
    assert "The sign-in was refused" in page
    assert 'data-state="failed"><span class="mark">failed</span>' in page
    assert "<strong>Audience</strong>: the assertion's Audience is https://x" in page
    assert console.get(path + "x").status_code == 404
    listing = unescape(console.get("/admin/tenants/acme/sso").text)
    assert "<strong>test</strong>: refused, the Audience is not this tenant's" in listing


def test_the_page_warns_of_certificates_expiring_and_links_the_filled_in_guides(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    acme = make_tenant("acme")
    soon = make_key_pair("idp.example.test", days=20)
    sso.create_connection(
        db,
        acme,
        {"name": "Okta", "protocol": "saml", "config": {"idp_certificates": [soon.cert_pem]}},
    )
    sso.sp_keys(db, acme, Keyring("k", purpose=SSO_SP_KEY))
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    page = console.get("/admin/tenants/acme/sso").text
    assert '<tr class="expiry-red" data-level="red">' in page
    assert "IdP of Okta" in page
    assert "SP (this tenant)" in page
    for protocol, title in (("saml", "Sign in with SAML 2.0"), ("oidc", "OpenID Connect")):
        assert f'href="/admin/tenants/acme/sso/guides/{protocol}"' in page
        guide = unescape(console.get(f"/admin/tenants/acme/sso/guides/{protocol}").text)
        assert title in guide
        assert "{PUBLIC_URL}" not in guide
        assert "{tenant}" not in guide
        assert "https://scim.example.test/sso/acme/" in guide
        assert "Okta" in guide
        assert "PingFederate" in guide
    assert console.get("/admin/tenants/acme/sso/guides/ldap").status_code == 404
