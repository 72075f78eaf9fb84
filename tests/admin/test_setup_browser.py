"""The setup link in real headless Chromium against a real ``scimgate serve``.

The IT admin holds nothing but the link. The IdP is played by SCIM requests
sent to the live server with the token the page shows. Screenshots go to
``test-output/screenshots/`` (gitignored); docs/images holds copies of some.
Skipped only when Debian's chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from scimgate.service import setup_links, tenants
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from scimgate.storage.tables import setup_links as setup_links_table
from tests.browser import DOC_IMAGES, Page, chromium_page, csp_blocked, expect, needs_chromium, shot
from tests.idps.simplesamlphp import running_simplesamlphp, skip_or_fail_without_simplesamlphp
from tests.live import LiveServer, live_server

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0"}

pytestmark = needs_chromium


@dataclass
class Setup:
    server: LiveServer
    db: Database

    def link(self, slug: str = "acme", scopes: str = "scim") -> str:
        tenant = tenants.get_tenant(self.db, slug)
        issued = setup_links.create_link(self.db, tenant, scopes)
        return setup_links.link_url(self.server.base_url, issued.secret)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    url = f"sqlite:///{tmp_path / 'setup.db'}"
    upgrade(url)
    db = Database.from_url(url)
    tenants.create_tenant(db, "acme", "Acme Corp")
    tenants.create_tenant(db, "globex", "Globex")
    try:
        with live_server(url) as live:
            yield Setup(live, db)
    finally:
        db.dispose()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium_page(tmp_path / "chromium-profile", width=1280) as page:
        yield page


def test_an_it_admin_connects_okta_with_only_the_link(setup: Setup, page: Page) -> None:
    blocked = csp_blocked(page)
    link = setup.link()
    page.goto(link)
    expect(page.get_by_role("heading", name="Connect your identity provider")).to_be_visible()
    assert page.url == f"{setup.server.base_url}/setup/tenants/acme/"  # the secret is gone
    page.get_by_role("link", name="Okta", exact=True).click()
    scim_url = setup.server.scim_url("acme")
    expect(page.locator("#scim-url")).to_have_text(scim_url)
    page.get_by_role("button", name="Copy the SCIM base URL").click()
    expect(page.get_by_role("button", name="Copy the SCIM base URL")).to_have_text("Copied")
    page.get_by_role("button", name="Generate token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("cannot be shown again")
    token = page.locator("#new-token").inner_text().strip()
    for key in ("token_accepted", "user_created", "group_pushed", "member_added"):
        expect(page.locator(f'[data-check="{key}"]')).to_have_class("waiting")
    shot(page, "setup-okta")

    # The IdP: Okta's test call, an assignment, a pushed group, then its members.
    headers = {**OKTA, "Authorization": f"Bearer {token}"}
    found = httpx2.get(f"{scim_url}/Users", params={"count": 1}, headers=headers)
    assert found.status_code == 200
    expect(page.locator('[data-check="token_accepted"]')).to_have_class("ok", timeout=15_000)
    expect(page.locator('[data-check="user_created"]')).to_have_class("waiting")
    user = {"userName": "jane@acme.example", "active": True, "name": {"givenName": "Jane"}}
    created = httpx2.post(f"{scim_url}/Users", json=user, headers=headers)
    assert created.status_code == 201
    group = httpx2.post(
        f"{scim_url}/Groups", json={"displayName": "Engineering", "members": []}, headers=headers
    )
    assert group.status_code == 201
    expect(page.locator('[data-check="group_pushed"]')).to_have_class("ok", timeout=15_000)
    expect(page.locator("#setup-done")).to_be_hidden()
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "add", "path": "members", "value": [{"value": created.json()["id"]}]}
        ],
    }
    added = httpx2.patch(f"{scim_url}/Groups/{group.json()['id']}", json=patch, headers=headers)
    assert added.is_success
    expect(page.locator('[data-check="member_added"]')).to_have_class("ok", timeout=15_000)
    expect(page.locator("#setup-done")).to_be_visible()
    shot(page, "setup-green")

    page.reload()
    assert token not in page.content()  # shown once only
    [listed] = setup_links.list_links(setup.db, tenants.get_tenant(setup.db, "acme"))
    assert listed.state(utcnow()) == "done"
    assert blocked == [], "the content security policy blocked part of the setup page"


def test_the_entra_steps_carry_this_tenants_scim_and_sso_values(setup: Setup, page: Page) -> None:
    page.goto(setup.link(scopes="scim,sso"))
    page.get_by_role("link", name="Microsoft Entra ID").click()
    base = setup.server.base_url
    expect(page.locator("#scim-url")).to_have_text(f"{base}/scim/v2/acme")
    expect(page.locator("#sso-entity-id")).to_have_text(f"{base}/sso/acme/saml/metadata")
    expect(page.locator("#sso-acs-url")).to_have_text(f"{base}/sso/acme/saml/acs")
    expect(page.get_by_text("Reply URL (Assertion Consumer Service URL)")).to_be_visible()
    expect(page.get_by_test_id("attributes")).to_contain_text("userPrincipalName")
    expect(page.locator('[data-check="sso_signin"]')).to_have_class("waiting")
    shot(page, "setup-entra")
    page.get_by_role("link", name="OpenID Connect").click()
    expect(page.locator("#sso-oidc-redirect")).to_have_text(f"{base}/sso/acme/oidc/callback")
    expect(page.get_by_text("Token configuration → Add groups claim")).to_be_visible()


def test_expired_and_revoked_links_are_refused(setup: Setup, page: Page) -> None:
    acme = tenants.get_tenant(setup.db, "acme")
    revoked = setup_links.create_link(setup.db, acme)
    setup_links.revoke_link(setup.db, acme, revoked.link.id)
    response = page.goto(setup_links.link_url(setup.server.base_url, revoked.secret))
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("refused")).to_contain_text("revoked")
    shot(page, "setup-revoked")

    expired = setup_links.create_link(setup.db, acme)
    with setup.db.engine.begin() as conn:
        conn.execute(
            setup_links_table.update()
            .where(setup_links_table.c.id == expired.link.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    response = page.goto(setup_links.link_url(setup.server.base_url, expired.secret))
    assert response is not None
    assert response.status == 410
    expect(page.get_by_test_id("refused")).to_contain_text("expired")
    shot(page, "setup-expired")


def test_the_links_session_reaches_no_other_tenant_and_not_the_console(
    setup: Setup, page: Page
) -> None:
    page.goto(setup.link())
    expect(page.get_by_role("heading", name="Connect your identity provider")).to_be_visible()
    base = setup.server.base_url
    response = page.goto(f"{base}/setup/tenants/globex/")
    assert response is not None
    assert response.status == 404
    assert page.request.get(f"{base}/setup/tenants/globex/checks").status == 404
    assert page.request.get(f"{base}/setup/tenants/acme/checks").status == 200
    page.goto(f"{base}/admin/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    response = page.goto(f"{base}/admin/tenants/acme/scim")
    assert response is not None
    assert page.url == f"{base}/admin/login"


def test_an_it_admin_connects_okta_sign_in_through_a_real_saml_idp(
    setup: Setup, page: Page, tmp_path: Path
) -> None:
    """The link's SSO half with SimpleSAMLphp as "Okta": its metadata uploaded through the
    wizard, alice signed in through its own login form, and the check turned green."""
    skip_or_fail_without_simplesamlphp()
    blocked = csp_blocked(page)
    with running_simplesamlphp(tmp_path / "simplesamlphp") as idp:
        page.goto(setup.link(scopes="sso"))
        page.get_by_role("link", name="Okta", exact=True).click()
        steps = page.get_by_test_id("sso-steps")
        expect(steps.get_by_role("link", name="SAML 2.0")).to_have_attribute("aria-current", "page")
        expect(steps).to_contain_text("Audience URI (SP Entity ID)")
        expect(page.locator('[data-check="sso_signin"]')).to_have_class("waiting")
        # The IdP's administrator copies the SP values from the page into the IdP.
        entity_id = page.locator("#sso-entity-id").inner_text().strip()
        acs_url = page.locator("#sso-acs-url").inner_text().strip()
        assert acs_url == f"{setup.server.base_url}/sso/acme/saml/acs"
        idp.register_sp(entity_id, acs_url)
        metadata = tmp_path / "okta-metadata.xml"
        metadata.write_text(idp.metadata_xml())

        page.locator("#saml-file").set_input_files(str(metadata))
        expect(page.get_by_label("Create people at their first sign-in")).to_be_checked()
        page.get_by_role("button", name="Save the connection").click()
        connection = page.get_by_test_id("sso-connection")
        expect(connection).to_contain_text(idp.entity_id)
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        steps.screenshot(path=str(DOC_IMAGES / "setup-sso-okta-saml.png"))

        page.get_by_role("link", name="Test sign-in").click()
        page.locator("#username").fill("alice")
        page.locator("#password").fill("alicepass")
        page.locator("#submit_button").click()
        # The IdP's form posts to the ACS, which sends the browser back to the wizard.
        tested = page.get_by_test_id("sso-tested")
        expect(tested).to_contain_text("alice@example.test", timeout=20_000)
        expect(tested).to_contain_text("scim-admins")
        assert page.url.startswith(f"{setup.server.base_url}/setup/tenants/acme/sso/tested?")
        expect(page.locator('[data-check="sso_signin"]')).to_have_class("ok")
        expect(page.locator("#setup-done")).to_be_visible()  # an SSO-only link is done
        shot(page, "setup-sso-tested")
    [listed] = setup_links.list_links(setup.db, tenants.get_tenant(setup.db, "acme"))
    assert listed.state(utcnow()) == "done"
    assert blocked == [], "the content security policy blocked part of the setup page"


def test_the_setup_page_shows_the_doctor_as_requests_arrive(setup: Setup, page: Page) -> None:
    page.goto(setup.link())
    page.get_by_role("link", name="Okta", exact=True).click()
    expect(page.get_by_test_id("doctor-none")).to_be_visible()
    page.get_by_role("button", name="Generate token").click()
    token = page.locator("#new-token").inner_text().strip()
    scim_url = setup.server.scim_url("acme")
    headers = {**OKTA, "Authorization": f"Bearer {token}"}
    doubled = httpx2.get(f"{scim_url}/scim/v2/acme/Users", headers=headers)
    assert doubled.status_code == 404
    # No reload: the page asks again with the live checks.
    finding = page.locator("[data-rule=base_url_doubled]")
    expect(finding).to_contain_text("the base URL was pasted twice", timeout=20_000)
    expect(finding).to_contain_text("SCIM connector base URL")
    expect(page.get_by_test_id("doctor-none")).to_have_count(0)
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.locator("[data-testid=checks], [data-testid=doctor]").last.scroll_into_view_if_needed()
    page.get_by_test_id("doctor").screenshot(path=str(DOC_IMAGES / "setup-doctor.png"))
