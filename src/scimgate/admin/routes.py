"""Console pages: login, tenant list, and Administration → Access → SCIM Provisioning.

Handlers follow the SCIM endpoints' shape: check the session, one or two
service calls, render. Every POST checks the CSRF field first; every tenant
page checks that the account may manage the tenant (a tenant admin gets 404
for any other tenant, so it learns nothing about which tenants exist).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from scimgate.admin import security
from scimgate.admin.setup_guides import GUIDES, guide_html
from scimgate.config import Settings
from scimgate.errors import NotFound, RateLimited, ScimgateError
from scimgate.model.entities import Tenant
from scimgate.model.idp import IDP_NAMES
from scimgate.service import admins, setup_links, tokens
from scimgate.service.admins import AdminAccount
from scimgate.service.audit import audit_page, parse_filter
from scimgate.service.doctor import diagnose
from scimgate.service.status import TenantState, provisioning_status, tenant_states
from scimgate.service.tenants import TenantNotFound, get_tenant, list_tenants
from scimgate.storage.database import Database

_HERE = Path(__file__).parent
_templates = Jinja2Templates(directory=str(_HERE / "templates"))
_RECENT_EVENTS = 25

Handler = Callable[[Request], Awaitable[Response]]


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def render(
    request: Request,
    template: str,
    session: security.Session,
    status_code: int = 200,
    **context: Any,
) -> Response:
    response = _templates.TemplateResponse(
        request, template, {"csrf": session.csrf, **context}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def signed_in(
    handler: Callable[[Request, AdminAccount, security.Session], Awaitable[Response]],
) -> Handler:
    """Send anonymous visitors to the login page; render typed errors as a page."""

    async def endpoint(request: Request) -> Response:
        session = security.current_session(request)
        account = None
        if session is not None and session.account_id:
            account = await run_in_threadpool(
                admins.get_admin, database_of(request), session.account_id
            )
        if account is None or session is None:
            return RedirectResponse("/admin/login", status_code=303)
        try:
            response = await handler(request, account, session)
        except ScimgateError as exc:
            response = render(
                request, "error.html", session, exc.status, account=account, message=exc.detail
            )
        # Re-signed with this request's time: the idle limit counts from the last request.
        security.store(response, session.seen(security.now(request)), _settings(request))
        return response

    return endpoint


def tenant_for(request: Request, account: AdminAccount) -> Tenant:
    try:
        tenant = get_tenant(database_of(request), request.path_params["slug"])
    except TenantNotFound:
        tenant = None
    if tenant is None or not admins.may_manage(account, tenant):
        raise NotFound("No such tenant")
    return tenant


# -- login ---------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    session = security.current_session(request) or security.new_session(security.now(request))
    response = render(request, "login.html", session, error=None, email="")
    security.store(response, session, _settings(request))
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    session = security.current_session(request)
    settings = _settings(request)
    try:
        security.check_csrf(session, form.get("csrf"))
    except ScimgateError as exc:
        if session is not None:  # the form was stale: show it again with this session's token
            return render(request, "login.html", session, 403, error=exc.detail, email="")
        # No session cookie came with the POST, as with a cross-site form (SameSite=Lax
        # keeps it back). Setting a new cookie here would sign out an admin who is
        # signed in, so answer without one and let the login page start a session.
        anonymous = security.new_session(security.now(request))
        return render(request, "error.html", anonymous, 403, message=exc.detail, back="login")
    assert session is not None
    email = str(form.get("email", ""))
    try:
        account = await run_in_threadpool(_authenticate, request, email, form.get("password"))
    except ScimgateError as exc:
        response = render(request, "login.html", session, exc.status, error=exc.detail, email=email)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # A new session id (and CSRF token) at login, so a planted cookie cannot be reused.
    response = RedirectResponse("/admin/", status_code=303)
    security.store(response, security.new_session(security.now(request), account.id), settings)
    return response


def _authenticate(request: Request, email: str, password: object) -> AdminAccount:
    settings = _settings(request)
    throttle = admins.Throttle(
        failures_per_ip=settings.admin_login_failures_per_ip,
        window=timedelta(minutes=settings.admin_login_window_minutes),
    )
    return admins.authenticate(
        database_of(request),
        email,
        str(password or ""),
        security.client_ip(request, settings),
        datetime.fromtimestamp(security.now(request), UTC),
        throttle,
    )


async def logout(request: Request) -> Response:
    form = await request.form()
    security.check_csrf(security.current_session(request), form.get("csrf"))
    response = RedirectResponse("/admin/login", status_code=303)
    security.forget(response, _settings(request))
    return response


# -- pages ---------------------------------------------------------------------


def _tenant_list(
    request: Request, account: AdminAccount
) -> tuple[list[Tenant], dict[int, TenantState]]:
    db = database_of(request)
    tenants = [t for t in list_tenants(db) if admins.may_manage(account, t)]
    idle = _settings(request).idle_after_hours
    return tenants, tenant_states(db, tenants, idle_after_hours=idle)


@signed_in
async def home(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenants, states = await run_in_threadpool(_tenant_list, request, account)
    if not account.is_operator and len(tenants) == 1:
        return RedirectResponse(f"/admin/tenants/{tenants[0].slug}/scim", status_code=303)
    return render(request, "tenants.html", session, account=account, tenants=tenants, states=states)


def provisioning_context(
    request: Request, tenant: Tenant, issued: tokens.IssuedToken | None = None
) -> dict[str, Any]:
    db, settings = database_of(request), _settings(request)
    query = request.query_params
    where = parse_filter(
        idp=query.get("idp"), outcome=query.get("outcome"), resource_type=query.get("resource")
    )
    report = provisioning_status(db, tenant, idle_after_hours=settings.idle_after_hours)
    with db.tenant(tenant.id) as repo:
        idps = repo.audit.idps_seen()
    selected = query.get("guide") or report.last_idp or ""
    return {
        "tenant": tenant,
        "endpoint": settings.scim_base_url(tenant.slug),
        "status": report,
        "findings": diagnose(db, tenant, settings=settings),
        "events": audit_page(db, tenant, where, _RECENT_EVENTS),
        "filters": {"idp": where.idp, "outcome": where.outcome, "resource": where.resource_type},
        "idps": idps,
        "idp_names": IDP_NAMES,
        "guides": GUIDES,
        "guide": selected if selected in GUIDES else "",
        "issued": issued,
        "setup_links": setup_links.list_links(db, tenant),
        "expiry_choices": (setup_links.DEFAULT_EXPIRY_HOURS, 24, 72, setup_links.MAX_EXPIRY_HOURS),
        "now": datetime.now(UTC),
    }


@signed_in
async def scim_page(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenant = tenant_for(request, account)
    context = await run_in_threadpool(provisioning_context, request, tenant)
    return render(request, "scim.html", session, account=account, **context)


@signed_in
async def generate_token(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    days_text = str(form.get("expires_in_days") or "").strip()
    days = int(days_text) if days_text.isdigit() else None
    name = str(form.get("name", ""))
    issued = await run_in_threadpool(tokens.create_token, database_of(request), tenant, name, days)
    # Rendered, not redirected: the secret must never travel in a URL or be re-shown.
    context = await run_in_threadpool(provisioning_context, request, tenant, issued)
    return render(request, "scim.html", session, 201, account=account, **context)


@signed_in
async def revoke_token(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    await run_in_threadpool(
        tokens.revoke_token, database_of(request), tenant, request.path_params["token_id"]
    )
    return RedirectResponse(f"/admin/tenants/{tenant.slug}/scim", status_code=303)


@signed_in
async def guide(request: Request, account: AdminAccount, session: security.Session) -> Response:
    found = await run_in_threadpool(guide_html, request.path_params["name"])
    if found is None:
        raise NotFound("No such guide")
    title, body = found
    return render(request, "guide.html", session, account=account, title=title, body=body)


def admin_routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/tenants/{slug}/scim", scim_page, methods=["GET"]),
        Route("/tenants/{slug}/scim/tokens", generate_token, methods=["POST"]),
        Route("/tenants/{slug}/scim/tokens/{token_id}/revoke", revoke_token, methods=["POST"]),
        Route("/guides/{name}", guide, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(_HERE / "static")), name="admin-static"),
    ]
