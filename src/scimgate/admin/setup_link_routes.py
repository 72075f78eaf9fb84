"""Console: the tenant's setup links, on Administration → Access → SCIM Provisioning.

The page lists them (state, scope, expiry, last use); a form makes one, whose
URL is rendered once in the answer and never again, and each open link has a
revoke button. Both POSTs check the console's CSRF field first, as every
console form does.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.admin import security
from scimgate.admin.routes import database_of, provisioning_context, render, signed_in, tenant_for
from scimgate.config import Settings
from scimgate.errors import InvalidValue
from scimgate.service import setup_links
from scimgate.service.admins import AdminAccount


def _expiry(raw: object) -> int:
    text = str(raw or "").strip()
    if not text.isdigit():
        raise InvalidValue("Choose when the setup link expires")
    return int(text)


@signed_in
async def create_link(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    scopes = [str(s) for s in form.getlist("scope")]
    issued = await run_in_threadpool(
        setup_links.create_link, database_of(request), tenant, scopes, _expiry(form.get("hours"))
    )
    settings: Settings = request.app.state.settings
    url = setup_links.link_url(settings.public_base, issued.secret)
    # Rendered, not redirected: the URL carries the secret and is shown this once.
    context = await run_in_threadpool(provisioning_context, request, tenant)
    return render(request, "scim.html", session, 201, account=account, new_link=url, **context)


@signed_in
async def revoke_link(
    request: Request, account: AdminAccount, session: security.Session
) -> Response:
    form = await request.form()
    security.check_csrf(session, form.get("csrf"))
    tenant = tenant_for(request, account)
    await run_in_threadpool(
        setup_links.revoke_link, database_of(request), tenant, request.path_params["link_id"]
    )
    return RedirectResponse(f"/admin/tenants/{tenant.slug}/scim#setup-links-h", status_code=303)


def setup_link_routes() -> list[BaseRoute]:
    return [
        Route("/tenants/{slug}/scim/setup-links", create_link, methods=["POST"]),
        Route("/tenants/{slug}/scim/setup-links/{link_id}/revoke", revoke_link, methods=["POST"]),
    ]
