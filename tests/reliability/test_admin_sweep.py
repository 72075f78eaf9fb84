"""Every admin console route, read from the app's routing table: isolation, CSRF, sign-in.

A route added later is swept without touching this file; one with a new kind
of path parameter fails here until ``_SAMPLES`` learns a value for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import admins, setup_links, sso, sso_trial
from scimgate.service import roles as role_service
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database
from tests.reliability.conftest import GROUP, user_body
from tests.reliability.console import (
    CSRF_REFUSAL,
    PASSWORD,
    console_client,
    csrf_of,
    forged,
    sign_in,
    snapshot,
)

_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# Routes anyone may call without a session (each checks CSRF on its own).
_PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
# A form each POST route accepts, so that the right CSRF token demonstrably
# works (the refusals below are then the CSRF check's doing). Routes missing
# here are still checked for the refusals.
_FORMS: dict[str, dict[str, str]] = {
    "/login": {"email": "ops@example.com", "password": PASSWORD},
    "/logout": {},
    "/tenants/{slug}/scim/tokens": {"name": "sweep"},
    "/tenants/{slug}/scim/tokens/{token_id}/revoke": {},
    "/tenants/{slug}/roles/rules": {"group": "Ops", "role": "tenant_admin", "priority": "5"},
    "/tenants/{slug}/roles/rules/{rule_id}/remove": {},
    "/tenants/{slug}/roles/settings": {"role_mode": "multiple", "deactivate_unmapped": "on"},
}


@dataclass(frozen=True)
class AdminRoute:
    method: str
    path: str  # relative to /admin, parameters as Starlette writes them

    @property
    def template(self) -> str:
        """The path with ``{rule_id:int}`` written ``{rule_id}``."""
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def per_tenant(self) -> bool:
        return "slug" in self.params

    def url(self, samples: dict[str, str]) -> str:
        missing = [p for p in self.params if p not in samples]
        if missing:
            pytest.fail(f"no sample value for {missing} in {self.path}: add it to _SAMPLES")
        return "/admin" + _PARAM.sub(lambda m: samples[m.group(1)], self.path)


def _walk(routes: list[BaseRoute], prefix: str) -> Iterator[AdminRoute]:
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield AdminRoute(method, prefix + route.path)
        elif isinstance(route, Mount) and route.routes:
            yield from _walk(list(route.routes), prefix + route.path)
        # A Mount of a plain ASGI app (the static files) has no routes to sweep.


def admin_routes(app: Starlette) -> list[AdminRoute]:
    (console,) = [r for r in app.routes if isinstance(r, Mount) and r.path == "/admin"]
    return list(_walk(list(console.routes), ""))


@dataclass
class World:
    """Two tenants with one of everything, an operator and a tenant admin of acme."""

    samples: dict[str, dict[str, str]]  # tenant slug -> path parameter -> value
    telltales: dict[str, list[str]]  # tenant slug -> strings only that tenant's pages show


@pytest.fixture
def world(
    app: Starlette,
    client: TestClient,
    db: Database,
    make_tenant: Callable[..., Tenant],
    make_token: Callable[..., IssuedToken],
) -> World:
    samples, telltales = {}, {}
    for slug in ("acme", "globex"):
        tenant = make_tenant(slug, f"{slug.title()} Corporation")
        issued = make_token(slug, f"{slug} sync token")
        rule = role_service.add_rule(db, tenant, f"{slug}-engineers", "tenant_admin")
        auth = {"Authorization": f"Bearer {issued.secret}"}
        user = client.post(
            f"/scim/v2/{slug}/Users", json=user_body(f"ada@{slug}.example"), headers=auth
        ).json()
        group = client.post(
            f"/scim/v2/{slug}/Groups",
            json={"schemas": [GROUP], "displayName": f"{slug}-engineers"},
            headers=auth,
        ).json()
        connection = sso.create_connection(
            db, tenant, {"name": f"{slug.title()} Okta SSO", "protocol": "saml"}
        )
        link = setup_links.create_link(db, tenant)
        refused = SsoRejected("signature", "a test sign-in the sweep left behind")
        client_info = sso.ClientInfo(ip="127.0.0.1", user_agent="sweep")
        report = sso_trial.fail(db, tenant, connection, refused, client=client_info)
        samples[slug] = {
            "slug": slug,
            "token_id": issued.token.id,
            "rule_id": str(rule.id),
            "user_id": user["id"],
            "group_id": group["id"],
            "name": "okta",  # a setup guide
            "connection": str(connection.id),
            "ref": report.rsplit("/", 1)[1],  # a Test sign-in's report
            "protocol": "saml",  # an SSO setup guide
            "link_id": link.link.id,
        }
        telltales[slug] = [
            tenant.name,
            issued.token.prefix,
            f"ada@{slug}.example",
            connection.name,
            link.link.prefix,
        ]
    admins.create_admin(db, "ops@example.com", PASSWORD)
    admins.create_admin(db, "it@acme.example", PASSWORD, get_tenant(db, "acme"))
    # The SCIM requests above are audited by a background thread: write them now,
    # or a late flush would show up as a change between two snapshots.
    app.state.audit_recorder.flush()
    return World(samples, telltales)


def _send(
    console: TestClient, route: AdminRoute, url: str, form: dict[str, str] | None = None
) -> Any:
    if route.method == "GET":
        return console.get(url)
    return console.request(route.method, url, data=form or {})


def test_the_sweep_sees_the_console(app: Starlette) -> None:
    routes = admin_routes(app)
    assert sum(r.per_tenant for r in routes) >= 8
    assert {r.method for r in routes} == {"GET", "POST"}
    assert {(r.method, r.path) for r in routes} >= _PUBLIC


def test_a_tenant_admin_reaches_nothing_of_another_tenant(
    app: Starlette, engine: sa.Engine, world: World
) -> None:
    """Every per-tenant route, with globex in the URL or only globex's ids: 404, nothing changes."""
    routes = [r for r in admin_routes(app) if r.per_tenant]
    mixed = {**world.samples["globex"], "slug": "acme"}  # acme's URL, globex's ids
    with console_client(app) as console:
        csrf = sign_in(console, "it@acme.example")
        before = snapshot(engine)
        for route in routes:
            if route.method == "GET":  # the same page of its own tenant opens
                own = _send(console, route, route.url(world.samples["acme"]))
                assert own.status_code == 200, route
            urls = [route.url(world.samples["globex"])]
            # acme's URL with globex's ids; a parameter both tenants share (a guide's
            # protocol) leaves an acme page, which is not the point here.
            ids = [p for p in route.params if p != "slug"]
            if any(world.samples["globex"][p] != world.samples["acme"][p] for p in ids):
                urls.append(route.url(mixed))
            for url in urls:
                response = _send(
                    console, route, url, {**_FORMS.get(route.template, {}), "csrf": csrf}
                )
                assert response.status_code in (403, 404), (url, response.status_code)
                leaked = [t for t in world.telltales["globex"] if t in response.text]
                assert not leaked, (url, leaked)
        assert snapshot(engine) == before


@pytest.mark.parametrize("who", ["ops@example.com", "it@acme.example"])
def test_every_post_without_the_right_csrf_token_is_refused(
    app: Starlette, engine: sa.Engine, world: World, who: str
) -> None:
    posts = [r for r in admin_routes(app) if r.method == "POST"]
    for route in posts:
        url = route.url(world.samples["acme"])
        form = _FORMS.get(route.template, {})
        with console_client(app) as console:
            csrf = sign_in(console, who)
            before = snapshot(engine)
            for wrong in (None, "", forged(csrf), csrf + "x"):
                sent = form if wrong is None else {**form, "csrf": wrong}
                response = _send(console, route, url, sent)
                assert response.status_code == 403, (route, wrong, response.status_code)
                assert CSRF_REFUSAL in response.text, (route, wrong)
                assert snapshot(engine) == before, (route, wrong)
            if route.path != "/login":  # a refused login starts a fresh anonymous session
                home = console.get("/admin/")  # still signed in: not sent to the login page
                assert home.headers.get("location") != "/admin/login", route
                assert home.status_code in (200, 303), route
            if route.template in _FORMS:
                if route.path == "/login":
                    csrf = csrf_of(console.get("/admin/login").text)
                accepted = _send(console, route, url, {**form, "csrf": csrf})
                assert accepted.status_code in (200, 201, 303), (route, accepted.text)
                if route.path not in ("/login", "/logout"):
                    assert snapshot(engine) != before, route


def test_without_a_session_every_route_sends_to_the_login_page(
    app: Starlette, engine: sa.Engine, world: World
) -> None:
    before = snapshot(engine)
    with console_client(app) as console:
        for route in admin_routes(app):
            if (route.method, route.path) in _PUBLIC:
                continue
            response = _send(console, route, route.url(world.samples["acme"]), {"csrf": "x"})
            assert response.status_code == 303, route
            assert response.headers["location"] == "/admin/login", route
    assert snapshot(engine) == before
