"""Console: the tenant's setup links on the SCIM Provisioning page (list, create, revoke)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service import setup_links
from scimgate.service.clock import utcnow
from scimgate.service.tenants import get_tenant
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import sign_in

_LINK = re.compile(r'<code id="new-setup-link">([^<]+)</code>')


def test_an_admin_creates_a_link_sees_its_url_once_and_revokes_it(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme", "Acme Corp")
    make_admin("it@acme.example", "acme")
    csrf = sign_in(console, "it@acme.example")
    page = console.get("/admin/tenants/acme/scim")
    assert 'data-testid="setup-links"' in page.text
    assert "No setup links yet." in page.text

    made = console.post(
        "/admin/tenants/acme/scim/setup-links",
        data={"csrf": csrf, "scope": ["sso"], "hours": "24"},
    )
    assert made.status_code == 201
    found = _LINK.search(made.text)
    assert found is not None
    url = found.group(1)
    assert url.startswith("https://scim.example.test/setup/sgl_")
    acme = get_tenant(db, "acme")
    [link] = setup_links.list_links(db, acme)
    assert link.scopes == ("sso",)
    assert 23.9 < (link.expires_at - link.created_at).total_seconds() / 3600 <= 24

    page = console.get("/admin/tenants/acme/scim")
    assert url not in page.text  # shown once
    row = page.text[page.text.index(f'data-link="{link.id}"') :]
    assert "state-open" in row[:400]
    assert "SSO" in row[:600]
    assert "never" in row[:800]  # last use

    # The link works until it is revoked from the console.
    assert console.get(url.removeprefix("https://scim.example.test")).status_code == 200
    assert setup_links.list_links(db, acme)[0].last_used_at is not None
    refused = console.post(
        f"/admin/tenants/acme/scim/setup-links/{link.id}/revoke", data={"csrf": "forged"}
    )
    assert refused.status_code == 403
    assert setup_links.list_links(db, acme)[0].state(utcnow()) == "open"
    revoked = console.post(
        f"/admin/tenants/acme/scim/setup-links/{link.id}/revoke", data={"csrf": csrf}
    )
    assert revoked.status_code == 303
    assert setup_links.list_links(db, acme)[0].state(utcnow()) == "revoked"
    assert "state-revoked" in console.get("/admin/tenants/acme/scim").text
    assert console.get(url.removeprefix("https://scim.example.test")).status_code == 403


def test_creating_a_link_needs_the_csrf_token_and_a_valid_scope(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    make_admin("ops@example.com")
    csrf = sign_in(console, "ops@example.com")
    forged = console.post(
        "/admin/tenants/acme/scim/setup-links", data={"csrf": "forged", "hours": "168"}
    )
    assert forged.status_code == 403
    none = console.post("/admin/tenants/acme/scim/setup-links", data={"csrf": csrf, "hours": "168"})
    assert none.status_code == 400
    assert "scope is one or more of" in none.text
    assert setup_links.list_links(db, get_tenant(db, "acme")) == []


def test_a_tenant_admin_reaches_no_other_tenants_links(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    globex = make_tenant("globex")
    theirs = setup_links.create_link(db, globex).link
    make_admin("it@acme.example", "acme")
    csrf = sign_in(console, "it@acme.example")
    for path in (
        "/admin/tenants/globex/scim/setup-links",
        f"/admin/tenants/globex/scim/setup-links/{theirs.id}/revoke",
    ):
        assert console.post(path, data={"csrf": csrf, "hours": "24"}).status_code == 404
    assert (
        console.post(
            f"/admin/tenants/acme/scim/setup-links/{theirs.id}/revoke", data={"csrf": csrf}
        ).status_code
        == 404
    )
    assert setup_links.list_links(db, globex)[0].state(utcnow()) == "open"
