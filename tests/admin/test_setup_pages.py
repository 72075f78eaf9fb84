"""The setup link's pages over HTTP: the session it starts, what it reaches, what it refuses."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scimgate.admin import setup_session
from scimgate.admin.headers import CONTENT_SECURITY_POLICY
from scimgate.model.entities import Tenant
from scimgate.service import setup_links
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.tables import setup_links as setup_links_table
from tests.admin.conftest import csrf_of
from tests.scim.contract import ScimClient

MakeTenant = Callable[..., Tenant]
_TOKEN = re.compile(r'<code id="new-token">([^<]+)</code>')


def _open(console: TestClient, secret: str) -> None:
    response = console.get(f"/setup/{secret}", headers={"User-Agent": "Firefox/140 (IT admin)"})
    assert response.status_code == 200, response.text
    assert 'http-equiv="refresh" content="0;url=/setup/tenants/acme/"' in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{setup_session.COOKIE}=")
    for part in ("HttpOnly", "Path=/setup", "SameSite=strict", "Secure"):
        assert part.lower() in cookie.lower(), part


def test_the_link_starts_a_session_for_its_tenants_wizard(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    tenant = make_tenant("acme", "Acme Corp")
    issued = setup_links.create_link(db, tenant)
    _open(console, issued.secret)
    page = console.get("/setup/tenants/acme/?idp=okta")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "https://scim.example.test/scim/v2/acme" in page.text
    assert "https://scim.example.test/sso/acme/saml/acs" in page.text
    assert "Push Groups" in page.text
    oidc = console.get("/setup/tenants/acme/?idp=okta&protocol=oidc")
    assert "https://scim.example.test/sso/acme/oidc/callback" in oidc.text
    assert issued.secret not in page.text
    [use] = setup_links.link_uses(db, tenant, issued.link.id)
    assert (use.action, use.user_agent) == ("opened", "Firefox/140 (IT admin)")


@pytest.mark.parametrize(
    "idp", ["okta", "entra", "google", "onelogin", "jumpcloud", "ping", "rippling", "other"]
)
def test_each_idp_has_its_steps(
    db: Database, make_tenant: MakeTenant, console: TestClient, idp: str
) -> None:
    tenant = make_tenant("acme", "Acme Corp")
    _open(console, setup_links.create_link(db, tenant, "scim").secret)
    page = console.get(f"/setup/tenants/acme/?idp={idp}")
    assert page.status_code == 200
    assert 'data-testid="scim-steps"' in page.text
    assert 'data-testid="attributes"' in page.text
    assert "Assign a test user in your IdP now" in page.text
    assert 'data-testid="sso-steps"' not in page.text  # the link's scope is SCIM only
    if idp != "other":
        assert 'data-testid="guide"' in page.text
        assert "{PUBLIC_URL}/scim/v2/acme" not in page.text


def test_generate_token_shows_it_once_and_the_checks_follow_the_idp(
    db: Database, make_tenant: MakeTenant, console: TestClient, app: Starlette
) -> None:
    tenant = make_tenant("acme", "Acme Corp")
    _open(console, setup_links.create_link(db, tenant, "scim").secret)
    page = console.get("/setup/tenants/acme/?idp=okta")
    refused = console.post("/setup/tenants/acme/token", data={"csrf": "forged"})
    assert refused.status_code == 403
    made = console.post("/setup/tenants/acme/token?idp=okta", data={"csrf": csrf_of(page.text)})
    assert made.status_code == 201
    found = _TOKEN.search(made.text)
    assert found is not None
    secret = found.group(1)
    assert secret not in console.get("/setup/tenants/acme/?idp=okta").text

    scim = ScimClient(console, "acme", secret)
    user = scim.make_user()
    scim.make_group("Engineering", [user])
    app.state.audit_recorder.flush()
    body = console.get("/setup/tenants/acme/checks").json()
    assert body["checks"] == [
        {"key": "token_accepted", "label": "Token accepted", "done": True},
        {"key": "user_created", "label": "First user created", "done": True},
        {"key": "group_pushed", "label": "First group pushed", "done": True},
        {"key": "member_added", "label": "First member added", "done": True},
    ]
    assert body["done"] is True
    assert body["findings"] == []
    assert "Nothing wrong so far." in body["doctor"]


@pytest.mark.parametrize(
    ("idp", "field"),
    [
        ("okta", "Okta: Applications → your app → Provisioning → Integration"),
        ("entra", "Microsoft Entra admin center: Enterprise applications → your app"),
        ("other", "your identity provider's SCIM settings"),
    ],
)
def test_the_setup_page_shows_the_doctor_with_the_fix_for_the_chosen_idp(
    db: Database,
    make_tenant: MakeTenant,
    console: TestClient,
    app: Starlette,
    idp: str,
    field: str,
) -> None:
    tenant = make_tenant("acme", "Acme Corp")
    _open(console, setup_links.create_link(db, tenant, "scim").secret)
    page = console.get(f"/setup/tenants/acme/?idp={idp}")
    assert 'data-testid="doctor-none"' in page.text
    assert f'data-url="/setup/tenants/acme/checks?idp={idp}"' in page.text
    made = console.post(f"/setup/tenants/acme/token?idp={idp}", data={"csrf": csrf_of(page.text)})
    found = _TOKEN.search(made.text)
    assert found is not None
    # A client the doctor cannot name, with the base URL pasted twice.
    doubled = console.get(
        "/scim/v2/acme/scim/v2/acme/Users",
        headers={"Authorization": f"Bearer {found.group(1)}", "User-Agent": "curl/8"},
    )
    assert doubled.status_code == 404
    app.state.audit_recorder.flush()

    body = console.get(f"/setup/tenants/acme/checks?idp={idp}").json()
    [finding] = body["findings"]
    assert finding["rule"] == "base_url_doubled"
    assert finding["fix"].startswith(f"Set {field}")
    assert 'data-rule="base_url_doubled"' in body["doctor"]
    assert "the base URL was pasted twice" in body["doctor"]
    page = console.get(f"/setup/tenants/acme/?idp={idp}")
    assert 'data-rule="base_url_doubled"' in page.text
    assert 'data-testid="doctor-none"' not in page.text
    assert field.replace("'", "&#39;") in page.text


def test_without_the_session_nothing_opens(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    make_tenant("acme")
    assert console.get("/setup/tenants/acme/").status_code == 401
    assert console.get("/setup/tenants/acme/checks").status_code == 401
    assert console.get("/setup/sgl_nothing").status_code == 404


def test_the_session_reaches_neither_another_tenant_nor_the_console(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    acme = make_tenant("acme")
    make_tenant("globex")
    _open(console, setup_links.create_link(db, acme).secret)
    assert console.get("/setup/tenants/globex/").status_code == 404
    assert console.get("/setup/tenants/globex/checks").status_code == 404
    assert console.get("/setup/tenants/nobody/").status_code == 404
    assert console.get("/setup/tenants/ac%00me/").status_code == 404
    assert console.get("/setup/sgl_a%00b").status_code == 404
    value = console.cookies[setup_session.COOKIE]
    # Sent to the console, even under the console's own cookie name, it signs no one in.
    for cookies in ({setup_session.COOKIE: value}, {"scimgate_admin": value}):
        console.cookies.clear()
        for name, item in cookies.items():
            console.cookies.set(name, item)
        response = console.get("/admin/")
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/login"
        assert console.get("/admin/tenants/acme/scim").status_code == 303


def test_revoking_or_expiring_the_link_ends_its_session(
    db: Database, make_tenant: MakeTenant, console: TestClient
) -> None:
    tenant = make_tenant("acme")
    issued = setup_links.create_link(db, tenant)
    _open(console, issued.secret)
    setup_links.revoke_link(db, tenant, issued.link.id)
    assert console.get("/setup/tenants/acme/").status_code == 403
    assert "revoked" in console.get(f"/setup/{issued.secret}").text

    other = setup_links.create_link(db, tenant)
    _open(console, other.secret)
    with db.engine.begin() as conn:
        conn.execute(
            setup_links_table.update()
            .where(setup_links_table.c.id == other.link.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert console.get("/setup/tenants/acme/").status_code == 410
    refused = console.get(f"/setup/{other.secret}")
    assert refused.status_code == 410
    assert "expired" in refused.text
    assert "set-cookie" not in refused.headers
