"""The console in real headless Chromium against a real ``scimgate serve``.

Screenshots of every page go to ``test-output/screenshots/`` (gitignored).
Skipped only when Debian's chromium is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from scimgate.service import admins, tenants, tokens
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from tests.admin.conftest import PASSWORD
from tests.browser import DOC_IMAGES, Page, chromium_page, csp_blocked, expect, needs_chromium, shot
from tests.live import LiveServer, live_server

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    upgrade(url)
    db = Database.from_url(url)
    tenants.create_tenant(db, "acme", "Acme Corp")
    admins.create_admin(db, "ops@example.com", PASSWORD)
    db.dispose()
    with live_server(url) as live:
        yield live


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium_page(tmp_path / "chromium-profile", width=1366) as page:
        yield page


def _reload_until(page: Page, text: str, selector: str, seconds: float = 10) -> None:
    """Reload until the text shows up: the audit log is written every half second."""
    deadline = time.monotonic() + seconds
    while text not in page.locator(selector).inner_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared in {selector}")
        time.sleep(0.3)
        page.reload()


def test_connect_an_idp_from_the_scim_provisioning_page(server: LiveServer, page: Page) -> None:
    blocked = csp_blocked(page)
    page.goto(f"{server.base_url}/admin/login")
    shot(page, "01-login")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tenants")).to_be_visible()
    shot(page, "02-tenants")

    page.get_by_role("link", name="SCIM Provisioning").click()
    expect(page.locator("#state")).to_have_text("not configured")
    expect(page.locator("#endpoint")).to_have_text(f"{server.base_url}/scim/v2/acme")
    page.get_by_role("button", name="Copy the SCIM endpoint").click()
    expect(page.get_by_role("button", name="Copy the SCIM endpoint")).to_have_text("Copied")
    shot(page, "03-scim-provisioning-empty")

    page.get_by_label("Token name").fill("Okta production")
    page.get_by_role("button", name="Generate token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("cannot be shown again")
    secret = page.locator("#new-token").inner_text().strip()
    shot(page, "04-token-generated")

    headers = {"Authorization": f"Bearer {secret}", "User-Agent": "Okta SCIM Client 1.0.0"}
    created = httpx2.post(
        f"{server.scim_url('acme')}/Users",
        json={"userName": "bjensen@example.com", "active": True},
        headers=headers,
    )
    assert created.status_code == 201

    page.goto(f"{server.base_url}/admin/tenants/acme/scim")
    _reload_until(page, "POST /scim/v2/acme/Users", "[data-testid=events]")
    expect(page.locator("#state")).to_have_text("healthy")
    expect(page.get_by_test_id("status")).to_contain_text("Okta")
    expect(page.get_by_test_id("events")).to_contain_text("create: active, userName")
    assert secret not in page.content()  # shown once only
    shot(page, "05-scim-provisioning-healthy")

    page.get_by_role("link", name="How to connect Okta").click()
    expect(page.get_by_role("heading", name="Connect Okta", exact=True)).to_be_visible()
    expect(page.get_by_test_id("guide").locator("table").first).to_be_visible()
    shot(page, "05b-setup-guide-okta")
    page.goto(f"{server.base_url}/admin/")
    expect(page.get_by_test_id("state-acme")).to_have_text("healthy")
    shot(page, "05c-tenants-with-status")

    _map_a_group_and_see_the_role_change(server, page, headers, created.json()["id"])

    page.goto(f"{server.base_url}/admin/tenants/acme/scim")
    page.get_by_role("button", name="Revoke token Okta production").click()
    expect(page.locator("tr.revoked")).to_contain_text("revoked")
    refused = httpx2.get(f"{server.scim_url('acme')}/Users", headers=headers)
    assert refused.status_code == 401
    page.reload()
    expect(page.locator("#state")).to_have_text("not configured")
    _reload_until(page, "401", "[data-testid=events]")
    shot(page, "06-token-revoked")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Outcome").select_option("failure")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("audit")).to_contain_text("The bearer token has been revoked")
    expect(page.get_by_test_id("audit")).not_to_contain_text("201")
    shot(page, "10-audit-log")
    assert blocked == [], "the content security policy blocked part of the console"


def _map_a_group_and_see_the_role_change(
    server: LiveServer, page: Page, headers: dict[str, str], user_id: str
) -> None:
    group = {"displayName": "Engineering", "members": [{"value": user_id}]}
    assert httpx2.post(f"{server.scim_url('acme')}/Groups", json=group, headers=headers).is_success
    page.goto(f"{server.base_url}/admin/tenants/acme/users")
    expect(page.get_by_test_id("users")).to_contain_text("member")

    page.get_by_role("link", name="Role mapping").click()
    page.get_by_role("combobox", name="IdP group").fill("Engineering")
    page.get_by_label("Role", exact=True).select_option("tenant_admin")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_test_id("rules")).to_contain_text("Engineering")
    expect(page.get_by_test_id("rules").locator("tbody tr").first).to_contain_text("1")
    shot(page, "07-role-mapping")

    page.get_by_role("link", name="Users").click()
    expect(page.get_by_test_id("users")).to_contain_text("tenant_admin")
    shot(page, "08-users")
    other = {"userName": "zoe@example.com", "active": True}
    assert httpx2.post(f"{server.scim_url('acme')}/Users", json=other, headers=headers).is_success
    page.get_by_role("searchbox", name="Search users").fill("BJ")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("users")).to_contain_text("bjensen@example.com")
    expect(page.get_by_test_id("users")).not_to_contain_text("zoe@example.com")
    expect(page.get_by_role("searchbox", name="Search users")).to_have_value("BJ")
    shot(page, "08b-users-search")
    page.get_by_role("link", name="Groups").click()
    expect(page.get_by_test_id("groups")).to_contain_text("Engineering")
    shot(page, "09-groups")


@pytest.fixture
def doctor_server(tmp_path: Path) -> Iterator[tuple[LiveServer, str, str]]:
    """acme (Okta's token) and globex (Entra's token), served live."""
    url = f"sqlite:///{tmp_path / 'doctor.db'}"
    upgrade(url)
    db = Database.from_url(url)
    acme = tenants.create_tenant(db, "acme", "Acme Corp")
    globex = tenants.create_tenant(db, "globex", "Globex Inc")
    okta_secret = tokens.create_token(db, acme, "Okta production").secret
    entra_secret = tokens.create_token(db, globex, "Entra production").secret
    admins.create_admin(db, "ops@example.com", PASSWORD)
    db.dispose()
    with live_server(url) as live:
        yield live, okta_secret, entra_secret


def test_the_doctor_explains_three_problems_on_the_provisioning_page(
    doctor_server: tuple[LiveServer, str, str], page: Page
) -> None:
    server, okta_secret, globex_secret = doctor_server
    acme = server.scim_url("acme")
    okta = {"Authorization": f"Bearer {okta_secret}", "User-Agent": "Okta SCIM Client 1.0.0"}
    # Entra's connection test (no User-Agent), with the token made for globex.
    entra = {
        "Authorization": f"Bearer {globex_secret}",
        "User-Agent": "",
        "Content-Type": "application/scim+json; charset=utf-8",
    }
    guid = '"7d2b0d62-4f3f-4a5c-9b1e-0c2d8a6f1e93"'
    refused = httpx2.get(f"{acme}/Users", params={"filter": f"userName eq {guid}"}, headers=entra)
    assert refused.status_code == 401
    # Okta's userNames differ by case; later its base URL gets pasted twice.
    ada = {"userName": "ada@example.com", "active": True}
    assert httpx2.post(f"{acme}/Users", json=ada, headers=okta).status_code == 201
    ada["userName"] = "Ada@example.com"
    assert httpx2.post(f"{acme}/Users", json=ada, headers=okta).status_code == 409
    assert httpx2.get(f"{acme}/scim/v2/acme/Users", headers=okta).status_code == 404

    page.goto(f"{server.base_url}/admin/login")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.base_url}/admin/tenants/acme/scim")
    _reload_until(page, "differs only by case", "[data-testid=doctor]")
    doctor = page.get_by_test_id("doctor")
    expect(doctor).to_contain_text("Microsoft Entra ID is sending the token of another tenant")
    expect(doctor).to_contain_text("the base URL was pasted twice")
    expect(doctor).to_contain_text("Okta tries to create 'Ada@example.com'")
    expect(doctor).not_to_contain_text("globex")
    shot(page, "11-connection-doctor")
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    for rule, name in (
        ("token_of_another_tenant", "doctor-token-of-another-tenant"),
        ("base_url_doubled", "doctor-base-url-pasted-twice"),
        ("user_name_case_conflict", "doctor-user-name-case"),
    ):
        finding = page.locator(f"[data-rule={rule}]")
        finding.locator("summary").click()  # open "What was seen"
        finding.screenshot(path=str(DOC_IMAGES / f"{name}.png"))
