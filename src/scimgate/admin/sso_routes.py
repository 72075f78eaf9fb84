"""Console page Administration → Access → SSO: the tenant's connections, the SP values an
IdP administrator copies, certificate expiry warnings, the latest sign-ins with failures
in words, each connection's Test sign-in (``service/sso_trial.py``) and the SAML and
OIDC setup guides with this tenant's values filled in."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from scimgate.admin import security
from scimgate.admin.routes import database_of, render, signed_in, tenant_for
from scimgate.admin.setup_guides import render_markdown, sso_guide_text
from scimgate.config import Settings
from scimgate.errors import NotFound
from scimgate.model.entities import Tenant
from scimgate.service import sso, sso_certificates, sso_trial
from scimgate.service.admins import AdminAccount
from scimgate.service.audit import audit_page, parse_filter
from scimgate.storage.database import Database

_RECENT = 25


def _context(db: Database, settings: Settings, tenant: Tenant) -> dict[str, Any]:
    # Read only: a GET never makes the key pair (the first SAML sign-in or
    # `scimgate sso sp-metadata` does).
    certificates = sso.sp_certificates(db, tenant)
    connections = sso.list_connections(db, tenant)
    return {
        "tenant": tenant,
        "connections": connections,
        "expiries": sso_certificates.expiries(connections, certificates or ()),
        "check_titles": sso_trial.CHECK_TITLES,
        "trial_note": sso_trial.TRIAL_NOTE,
        "sp": sso.sp_urls(settings, tenant.slug),
        "certificate": certificates[0] if certificates else None,
        "previous_certificate": certificates[1] if certificates else None,
        "redirect_uris": sso.allowed_redirects(settings),
        "sign_ins": audit_page(db, tenant, parse_filter(resource_type="SignIn"), _RECENT),
    }


@signed_in
async def sso_page(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenant = tenant_for(request, account)
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(_context, database_of(request), settings, tenant)
    return render(request, "sso.html", session, account=account, **context)


def _connection(request: Request, account: AdminAccount) -> tuple[Tenant, sso.Connection]:
    tenant = tenant_for(request, account)
    raw = str(request.path_params["connection"])
    if not raw.isdigit():
        raise NotFound("No such connection")
    return tenant, sso.get_connection(database_of(request), tenant, int(raw))


@signed_in
async def test_sign_in(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    """Start a Test sign-in. Rendered, not redirected: the console's CSP allows forms to
    go only to itself, and browsers hold a form's redirects to that too; the page moves
    on to the IdP with a refresh."""
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant, connection = await run_in_threadpool(_connection, request, account)
    ticket = await run_in_threadpool(
        sso_trial.issue_ticket, database_of(request), tenant, connection
    )
    query = urlencode({"connection": connection.id, "trial": ticket})
    target = f"/sso/{tenant.slug}/{connection.protocol}/start?{query}"
    return render(
        request,
        "sso_trial_start.html",
        session,
        account=account,
        tenant=tenant,
        connection=connection,
        target=target,
    )


@signed_in
async def test_result(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    tenant, connection = await run_in_threadpool(_connection, request, account)
    report = await run_in_threadpool(
        sso_trial.report, database_of(request), tenant, connection, request.path_params["ref"]
    )
    return render(
        request,
        "sso_trial.html",
        session,
        account=account,
        tenant=tenant,
        connection=connection,
        report=report,
    )


@signed_in
async def sso_guide(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenant = tenant_for(request, account)
    settings: Settings = request.app.state.settings
    values = {
        "{PUBLIC_URL}/sso/{tenant}": f"{settings.public_base}/sso/{tenant.slug}",
        "{PUBLIC_URL}": settings.public_base,
        "{tenant}": tenant.slug,
    }
    text = await run_in_threadpool(sso_guide_text, request.path_params["protocol"], values)
    if text is None:
        raise NotFound("No such guide")
    title, body = render_markdown(text)
    return render(
        request,
        "sso_guide.html",
        session,
        account=account,
        tenant=tenant,
        title=title,
        body=body,
    )


def sso_routes() -> list[BaseRoute]:
    base = "/tenants/{slug}/sso"
    return [
        Route(base, sso_page, methods=["GET"]),
        Route(base + "/{connection}/test", test_sign_in, methods=["POST"]),
        Route(base + "/{connection}/tests/{ref}", test_result, methods=["GET"]),
        Route(base + "/guides/{protocol}", sso_guide, methods=["GET"]),
    ]
