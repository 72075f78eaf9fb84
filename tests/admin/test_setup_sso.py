"""The setup wizard's single sign-on over HTTP: saving the IdP's values, refusals in words,
and the test sign-in's way out to the IdP and back. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import setup_links, sso
from scimgate.service.sealing import SSO_CLIENT_SECRET, Keyring
from scimgate.storage.database import Database
from tests.admin.conftest import csrf_of
from tests.idps.keys import make_key_pair

MakeTenant = Callable[..., Tenant]
IDP_ENTITY = "https://idp.example.test/metadata"
IDP_SSO = "https://idp.example.test/sso"


def _metadata(entity_id: str = IDP_ENTITY) -> str:
    cert = make_key_pair("idp.example.test").cert_pem
    body = "".join(line for line in cert.splitlines() if "-----" not in line)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{body}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="{IDP_SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def _open(console: TestClient, db: Database, tenant: Tenant, scopes: str = "sso") -> str:
    """Open a new link of ``tenant``; the CSRF token of its Okta page."""
    issued = setup_links.create_link(db, tenant, scopes)
    assert console.get(f"/setup/{issued.secret}").status_code == 200
    return csrf_of(console.get(f"/setup/tenants/{tenant.slug}/?idp=okta").text)


def _save_saml(console: TestClient, csrf: str, xml: str | None, **fields: str) -> object:
    files = {"metadata_file": ("metadata.xml", xml.encode(), "text/xml")} if xml else None
    return console.post(
        "/setup/tenants/acme/sso?idp=okta&protocol=saml",
        data={"csrf": csrf, **fields},
        files=files,
    )


def test_uploaded_metadata_makes_the_connection_and_saving_again_updates_it(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    csrf = _open(console, db, acme)
    page = console.get("/setup/tenants/acme/?idp=okta")
    assert "Audience URI (SP Entity ID)" in page.text
    assert "Group Attribute Statements" in page.text
    assert 'data-testid="sso-connection"' not in page.text

    saved = _save_saml(console, csrf, _metadata(), group_attribute="groups", jit="on")
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert saved.headers["location"] == "/setup/tenants/acme/?idp=okta&protocol=saml#sso-h"  # type: ignore[attr-defined]
    [made] = sso.list_connections(db, acme)
    assert (made.name, made.protocol, made.jit, made.enabled) == ("Okta", "saml", True, True)
    assert made.config["idp_entity_id"] == IDP_ENTITY
    assert made.config["idp_sso_url"] == IDP_SSO
    assert made.config["group_attribute"] == "groups"
    page = console.get("/setup/tenants/acme/?idp=okta")
    assert 'data-testid="sso-connection"' in page.text
    assert IDP_ENTITY in page.text
    assert 'href="/setup/tenants/acme/sso/test?idp=okta"' in page.text

    again = _save_saml(console, csrf, _metadata("https://idp.example.test/other"))
    assert again.status_code == 303  # type: ignore[attr-defined]
    [updated] = sso.list_connections(db, acme)
    assert updated.id == made.id
    assert updated.config["idp_entity_id"] == "https://idp.example.test/other"
    assert updated.jit is False  # the box was left unticked this time
    uses = [
        u.action for u in setup_links.link_uses(db, acme, setup_links.list_links(db, acme)[0].id)
    ]
    assert uses.count("sso_configured") == 2


@pytest.mark.parametrize(
    ("xml", "fields", "words"),
    [
        ("<md:EntityDescriptor", {}, "the IdP metadata is not well-formed XML"),
        (None, {}, "Upload the IdP&#39;s metadata XML file, or give its metadata URL"),
        (None, {"metadata_url": "ftp://idp.example.test/m"}, "must be an https:// address"),
        (
            None,
            {"metadata_url": "http://127.0.0.1:9/metadata"},
            "the IdP metadata URL is refused",
        ),
        (
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            {},
            "DTD",
        ),
    ],
)
def test_refused_saml_values_are_shown_in_words_and_save_nothing(
    db: Database,
    make_tenant: MakeTenant,
    console: TestClient,
    xml: str | None,
    fields: dict[str, str],
    words: str,
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    csrf = _open(console, db, acme)
    refused = _save_saml(console, csrf, xml, **fields)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert 'data-testid="sso-error"' in refused.text  # type: ignore[attr-defined]
    assert words in refused.text  # type: ignore[attr-defined]
    assert sso.list_connections(db, acme) == []


def test_an_oidc_connection_keeps_its_secret_sealed_and_asks_for_it_once(
    db: Database, make_tenant: MakeTenant, console: TestClient, settings: Settings
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    csrf = _open(console, db, acme)
    page = console.get("/setup/tenants/acme/?idp=okta&protocol=oidc")
    assert "Sign-in redirect URIs" in page.text
    assert "https://scim.example.test/sso/acme/oidc/callback" in page.text
    url = "/setup/tenants/acme/sso?idp=okta&protocol=oidc"
    values = {"csrf": csrf, "issuer": "https://acme.okta.example", "client_id": "0oa1"}
    refused = console.post(url, data={**values, "groups_claim": "groups"})
    assert refused.status_code == 400
    assert "The client secret is empty" in refused.text
    assert "https://acme.okta.example" in refused.text  # what was typed is kept
    refused = console.post(url, data={**values, "issuer": "acme.okta", "client_secret": "s"})
    assert refused.status_code == 400
    assert "The issuer must be an https:// address" in refused.text

    made = console.post(url, data={**values, "client_secret": "s3cret", "scopes": "openid groups"})
    assert made.status_code == 303
    [connection] = sso.list_connections(db, acme)
    assert connection.protocol == "oidc"
    assert connection.config["scopes"] == ["openid", "groups"]
    keyring = Keyring.from_settings(settings, SSO_CLIENT_SECRET)
    assert sso.client_secret(db, acme, connection, keyring) == "s3cret"
    # Saved again without a secret: the stored one stays.
    assert console.post(url, data={**values, "client_id": "0oa2"}).status_code == 303
    [connection] = sso.list_connections(db, acme)
    assert connection.config["client_id"] == "0oa2"
    assert sso.client_secret(db, acme, connection, keyring) == "s3cret"


def test_a_scim_only_link_may_not_configure_sign_in(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    csrf = _open(console, db, acme, scopes="scim")
    assert 'data-testid="sso-steps"' not in console.get("/setup/tenants/acme/?idp=okta").text
    refused = _save_saml(console, csrf, _metadata())
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert sso.list_connections(db, acme) == []
    assert console.get("/setup/tenants/acme/sso/test?idp=okta").status_code == 403


def test_the_test_sign_in_goes_to_the_idp_and_comes_back_only_to_this_tenant(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    make_tenant("globex", "Globex")
    csrf = _open(console, db, acme)
    assert console.get("/setup/tenants/acme/sso/test?idp=okta").status_code == 400  # nothing saved
    _save_saml(console, csrf, _metadata())

    started = console.get("/setup/tenants/acme/sso/test?idp=okta")
    assert started.status_code == 303
    target = urlsplit(started.headers["location"])
    assert target.path == "/sso/acme/start"
    query = parse_qs(target.query)
    back = "https://scim.example.test/setup/tenants/acme/sso/tested"
    assert query["redirect_uri"] == [back]
    picked = console.get(started.headers["location"])
    assert picked.status_code == 303, picked.text
    to_idp = console.get(picked.headers["location"])
    assert to_idp.status_code == 303, to_idp.text
    assert to_idp.headers["location"].startswith(IDP_SSO)

    # Another tenant's setup page is no redirect URI for acme, nor acme's for globex.
    for slug, uri in (("acme", back.replace("acme", "globex")), ("globex", back)):
        refused = console.get(f"/sso/{slug}/start", params={"redirect_uri": uri, "state": "x"})
        assert refused.status_code == 403
        assert "redirect URI" in refused.text


def test_coming_back_without_the_session_reloads_once_and_a_forged_state_is_refused(
    db: Database, make_tenant: MakeTenant, console: TestClient, app: object
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    _open(console, db, acme)
    with TestClient(app, base_url="https://testserver") as stranger:  # type: ignore[arg-type]
        first = stranger.get("/setup/tenants/acme/sso/tested?code=c&state=okta.x")
        assert first.status_code == 200
        assert (
            'content="0;url=/setup/tenants/acme/sso/tested?code=c&amp;state=okta.x&amp;again=1"'
            in first.text
        )
        assert stranger.get("/setup/tenants/acme/sso/tested?code=c&again=1").status_code == 401
    forged = console.get("/setup/tenants/acme/sso/tested?code=c&state=okta.0123")
    assert forged.status_code == 403
    assert "not started from this setup page" in forged.text


def test_a_refused_test_sign_in_is_explained_on_the_page(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    csrf = _open(console, db, acme)
    _save_saml(console, csrf, _metadata())
    [connection] = sso.list_connections(db, acme)
    rejection = SsoRejected("jit_off", "no user matches 'alice@example.test'")
    sso.record_refusal(db, acme, connection, rejection, client=sso.ClientInfo())
    page = console.get("/setup/tenants/acme/?idp=okta")
    assert 'data-testid="sso-sign-ins"' in page.text
    assert "refused (jit_off): no user matches &#39;alice@example.test&#39;" in page.text


@pytest.mark.parametrize(
    "idp", ["okta", "entra", "google", "onelogin", "jumpcloud", "ping", "rippling", "other"]
)
def test_each_idp_has_its_sso_steps_for_each_protocol_it_offers(
    db: Database, make_tenant: MakeTenant, console: TestClient, idp: str
) -> None:
    acme = make_tenant("acme", "Acme Corp")
    _open(console, db, acme)
    saml_page = console.get(f"/setup/tenants/acme/?idp={idp}&protocol=saml")
    assert saml_page.status_code == 200
    assert 'id="sso-acs-url"' in saml_page.text
    assert 'name="metadata_file"' in saml_page.text
    oidc_page = console.get(f"/setup/tenants/acme/?idp={idp}&protocol=oidc")
    assert oidc_page.status_code == 200
    if idp == "rippling":  # SAML only: the OIDC choice falls back to it
        assert 'data-testid="protocols"' not in oidc_page.text
        assert 'id="sso-acs-url"' in oidc_page.text
    else:
        assert 'id="sso-oidc-redirect"' in oidc_page.text
        assert 'name="client_secret"' in oidc_page.text
