"""Console security without a browser: sessions, CSRF, lockout and tenant isolation."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from scimgate.model.entities import Tenant
from scimgate.service.roles import list_rules
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken, list_tokens
from scimgate.storage.admins import AdminAccount
from scimgate.storage.database import Database
from tests.admin.conftest import PASSWORD, csrf_of, sign_in


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
    assert response.status_code == 401
    assert "Too many failed attempts" in response.text


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
    assert list_tokens(db, "acme") == []


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
    (token,) = list_tokens(db, "acme")
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
    make_admin("it@acme.example", tenant="acme")
    csrf = sign_in(console, "it@acme.example")
    assert console.get("/admin/tenants/acme/scim").status_code == 200
    assert console.get("/admin/tenants/globex/scim").status_code == 404
    revoke = console.post(
        f"/admin/tenants/globex/scim/tokens/{theirs.token.id}/revoke", data={"csrf": csrf}
    )
    assert revoke.status_code == 404
    generate = console.post("/admin/tenants/globex/scim/tokens", data={"name": "x", "csrf": csrf})
    assert generate.status_code == 404
    (token,) = list_tokens(db, "globex")
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
    make_admin("it@acme.example", tenant="acme")
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
