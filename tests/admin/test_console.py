"""Console security without a browser: sessions, CSRF, lockout and tenant isolation."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.groups import create_group
from scimgate.service.roles import list_rules
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken, list_tokens
from scimgate.service.users import create_user
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import PASSWORD, csrf_of, sign_in

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_pages_need_a_session(console: TestClient, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("acme")
    response = console.get("/admin/tenants/acme/scim")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    token = csrf_of(console.get("/admin/login").text)
    response = console.post(
        "/admin/login", data={"email": "ops@example.com", "password": PASSWORD, "csrf": token}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" in cookie
    assert "path=/admin" in cookie


def test_a_login_without_the_csrf_field_is_refused(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    console.get("/admin/login")
    response = console.post("/admin/login", data={"email": "ops@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert console.get("/admin/").status_code == 303  # still signed out


def test_a_forged_session_cookie_is_ignored(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    account = make_admin("ops@example.com")
    console.cookies.set("scimgate_admin", f"eyJhIjoie30.{'0' * 64}", domain="testserver")
    assert console.get("/admin/").status_code == 303
    assert account.id not in console.get("/admin/login").text


def test_repeated_failures_lock_the_account(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    token = csrf_of(console.get("/admin/login").text)
    for _ in range(5):
        wrong = {"email": "ops@example.com", "password": "wrong password", "csrf": token}
        assert console.post("/admin/login", data=wrong).status_code == 401
    right = {"email": "ops@example.com", "password": PASSWORD, "csrf": token}
    response = console.post("/admin/login", data=right)
    assert response.status_code == 429
    assert "Too many sign-in attempts for this account" in response.text


def test_a_form_post_without_the_session_csrf_token_is_refused(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    response = console.post("/admin/tenants/acme/scim/tokens", data={"name": "x", "csrf": "forged"})
    assert response.status_code == 403
    assert list_tokens(db, get_tenant(db, "acme")) == []


def test_generate_shows_the_secret_once_and_it_works_until_revoked(
    console: TestClient,
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    make_admin("ops@example.com")
    csrf = sign_in(console, "ops@example.com")
    page = console.post("/admin/tenants/acme/scim/tokens", data={"name": "Okta", "csrf": csrf})
    assert page.status_code == 201
    assert "cannot be shown again" in page.text
    (token,) = list_tokens(db, get_tenant(db, "acme"))
    secret = page.text.split('<code id="new-token">', 1)[1].split("</code>", 1)[0]
    assert secret.startswith(token.prefix)
    assert secret not in console.get("/admin/tenants/acme/scim").text
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/scim/v2/acme/Users", headers=auth).status_code == 200
    revoked = console.post(
        f"/admin/tenants/acme/scim/tokens/{token.id}/revoke", data={"csrf": csrf}
    )
    assert revoked.status_code == 303
    assert client.get("/scim/v2/acme/Users", headers=auth).status_code == 401


def test_a_tenant_admin_cannot_open_or_act_on_another_tenant(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    make_tenant("globex")
    theirs = make_token("globex")
    make_admin("it@acme.example", slug="acme")
    csrf = sign_in(console, "it@acme.example")
    assert console.get("/admin/tenants/acme/scim").status_code == 200
    assert console.get("/admin/tenants/globex/scim").status_code == 404
    revoke = console.post(
        f"/admin/tenants/globex/scim/tokens/{theirs.token.id}/revoke", data={"csrf": csrf}
    )
    assert revoke.status_code == 404
    generate = console.post("/admin/tenants/globex/scim/tokens", data={"name": "x", "csrf": csrf})
    assert generate.status_code == 404
    (token,) = list_tokens(db, get_tenant(db, "globex"))
    assert token.revoked_at is None
    assert "globex" not in console.get("/admin/", follow_redirects=True).text


def test_logout_needs_csrf_and_ends_the_session(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    make_admin("ops@example.com")
    csrf = sign_in(console, "ops@example.com")
    assert console.post("/admin/logout", data={"csrf": "nope"}).status_code == 403
    assert console.post("/admin/logout", data={"csrf": csrf}).status_code == 303
    assert console.get("/admin/").status_code == 303


def test_a_tenant_admin_cannot_open_or_change_another_tenants_role_mapping(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    globex = make_tenant("globex")
    make_admin("it@acme.example", slug="acme")
    csrf = sign_in(console, "it@acme.example")
    for page in ("roles", "users", "groups"):
        assert console.get(f"/admin/tenants/acme/{page}").status_code == 200
        assert console.get(f"/admin/tenants/globex/{page}").status_code == 404
    rule = {"group": "Eng", "role": "tenant_admin", "priority": "1", "csrf": csrf}
    assert console.post("/admin/tenants/globex/roles/rules", data=rule).status_code == 404
    assert list_rules(db, globex) == []
    assert console.post("/admin/tenants/acme/roles/rules", data=rule).status_code == 303
    forged = {**rule, "group": "Ops", "csrf": "forged"}
    assert console.post("/admin/tenants/acme/roles/rules", data=forged).status_code == 403
    assert [r.match_value for r, _ in list_rules(db, get_tenant(db, "acme"))] == ["Eng"]


def test_the_audit_log_page_filters_by_outcome(
    console: TestClient,
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    make_admin: Callable[..., AdminAccount],
) -> None:
    make_tenant("acme")
    auth = {"Authorization": f"Bearer {make_token('acme').secret}"}
    client.get("/scim/v2/acme/Users", headers=auth)
    client.get("/scim/v2/acme/Users/nope", headers=auth)
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    failures = console.get("/admin/tenants/acme/audit", params={"outcome": "failure"}).text
    assert "/scim/v2/acme/Users/nope" in failures
    assert "GET /scim/v2/acme/Users</code>" not in failures
    everything = console.get("/admin/tenants/acme/audit").text
    assert "GET /scim/v2/acme/Users</code>" in everything
    assert console.get("/admin/tenants/acme/audit", params={"outcome": "x"}).status_code == 400


def _next_link(html: str) -> str | None:
    found = re.search(r'<a href="(\?[^"]+)">Next page</a>', html)
    return unescape(found.group(1)) if found else None


def test_the_users_page_searches_user_names_and_keeps_the_search_across_pages(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    tenant = make_tenant("acme")
    scope = TenantScope.of(db, tenant, "https://x.test/scim/v2/acme", Limits())
    for name in [f"Ann{n:02d}@acme.example" for n in range(55)] + ["bob@acme.example"]:
        create_user(scope, {"schemas": [USER], "userName": name}, related=False)
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    first = console.get("/admin/tenants/acme/users", params={"q": "ann"})
    assert first.status_code == 200
    assert 'value="ann"' in first.text
    assert "Ann00@acme.example" in first.text
    assert "bob@acme.example" not in first.text
    following = _next_link(first.text)
    assert following is not None
    assert "q=ann" in following
    second = console.get("/admin/tenants/acme/users" + following)
    assert second.status_code == 200
    assert re.findall(r"<td>(Ann\d\d)@", second.text) == [f"Ann{n}" for n in range(50, 55)]
    assert _next_link(second.text) is None
    # A blank search lists everyone; pages go by id, so bob may be on either page.
    everyone = console.get("/admin/tenants/acme/users", params={"q": "   "}).text
    following = _next_link(everyone)
    if following is not None:
        everyone += console.get("/admin/tenants/acme/users" + following).text
    assert "bob@acme.example" in everyone
    assert len(re.findall(r"<td>(Ann\d\d)@", everyone)) == 55
    nobody = console.get("/admin/tenants/acme/users", params={"q": '"><b>x'}).text
    assert "No user name starts with" in nobody
    assert "<b>x" not in nobody


def test_the_groups_page_searches_display_names(
    console: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
) -> None:
    tenant = make_tenant("acme")
    scope = TenantScope.of(db, tenant, "https://x.test/scim/v2/acme", Limits())
    for name in ("Engineering", "Engagement", "Sales"):
        create_group(scope, {"schemas": [GROUP], "displayName": name}, related=False)
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    page = console.get("/admin/tenants/acme/groups", params={"q": "ENG"}).text
    assert re.findall(r"<tr><td>(\w+)</td>", page) == ["Engagement", "Engineering"]


@pytest.mark.parametrize("page", ["users", "groups"])
@pytest.mark.parametrize("search", ["x" * 257, "a\x00b"], ids=["too-long", "nul"])
def test_a_search_that_cannot_match_is_400_not_500(
    console: TestClient,
    make_tenant: Callable[..., Tenant],
    make_admin: Callable[..., AdminAccount],
    page: str,
    search: str,
) -> None:
    make_tenant("acme")
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    response = console.get(f"/admin/tenants/acme/{page}", params={"q": search})
    assert response.status_code == 400
    assert "search text" in response.text
    cursor = console.get(f"/admin/tenants/acme/{page}", params={"q": "a", "cursor": "nope"})
    assert cursor.status_code == 400


def test_the_tenant_list_shows_each_tenants_provisioning_state(
    console: TestClient,
    client: TestClient,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
    make_admin: Callable[..., AdminAccount],
) -> None:
    for slug in ("acme", "globex", "initech"):
        make_tenant(slug)
    auth = {"Authorization": f"Bearer {make_token('acme').secret}"}
    make_token("initech")
    assert client.get("/scim/v2/acme/Users", headers=auth).status_code == 200
    client.app.state.audit_recorder.flush()  # type: ignore[attr-defined]
    make_admin("ops@example.com")
    sign_in(console, "ops@example.com")
    html = console.get("/admin/").text
    states = dict(re.findall(r'data-testid="state-([\w-]+)">([^<]+)<', html))
    assert states == {
        "acme": "healthy",
        "globex": "not configured",
        "initech": "waiting for first request",
    }


def test_a_cross_site_login_post_does_not_sign_anyone_out(
    console: TestClient, make_admin: Callable[..., AdminAccount]
) -> None:
    """A forged POST to the login form arrives without the (SameSite=Lax) session
    cookie: it is refused without a Set-Cookie that would replace the admin's session."""
    make_admin("ops@example.com")
    token = csrf_of(console.get("/admin/login").text)
    console.post(
        "/admin/login", data={"email": "ops@example.com", "password": PASSWORD, "csrf": token}
    )
    assert console.get("/admin/").status_code == 200
    with TestClient(console.app, base_url="https://testserver") as attacker:
        forged = attacker.post(
            "/admin/login", data={"email": "x@example.com", "password": "x", "csrf": "x"}
        )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    assert 'href="/admin/login"' in forged.text
    assert console.get("/admin/").status_code == 200  # still signed in
