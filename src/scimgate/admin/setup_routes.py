"""The setup link's pages at ``/setup``: open the link, the wizard, its live checks.

``GET /setup/{secret}`` exchanges the secret for a setup session
(``admin/setup_session.py``) and sends the browser on to the wizard with a
same-origin refresh, so the secret leaves the address bar. It is a page, not a
303: the link usually arrives by email, and a browser does not send a
SameSite=Strict cookie on a redirect that a cross-site click started, while it
does on a navigation the page itself makes.

Every other page is ``/setup/tenants/{slug}/...`` and needs the session of a
link of that very tenant; the link is checked again on every request, so a
revoked or expired link stops working at once. Nothing here reads the
console's session, and the console never reads this one. The wizard's single
sign-on forms and test sign-in are in ``admin/setup_sso_routes.py``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from scimgate.admin import setup_session
from scimgate.admin.security import client_ip
from scimgate.admin.setup_session import SetupSession
from scimgate.admin.setup_sso_context import sso_context
from scimgate.admin.setup_wizard import IDPS, IdpSteps, filled_guide
from scimgate.config import Settings
from scimgate.errors import Forbidden, NotFound, RateLimited, ScimgateError, Unauthorized
from scimgate.model.entities import SetupLink, Tenant
from scimgate.model.idp import IDP_NAMES
from scimgate.service import setup_links
from scimgate.service.doctor import Finding, diagnose
from scimgate.service.ratelimit import TokenBuckets
from scimgate.service.setup_links import Visitor
from scimgate.service.tenants import TenantNotFound, get_tenant
from scimgate.service.tokens import IssuedToken
from scimgate.storage.database import Database

_templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_SLUG = re.compile(r"[a-z0-9-]{1,63}")
_NO_SESSION = "This page opens from a setup link. Open the link you were sent again."

SetupHandler = Callable[[Request, Tenant, SetupLink, SetupSession], Awaitable[Response]]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def visitor(request: Request) -> Visitor:
    return Visitor(
        client_ip=client_ip(request, _settings(request)),
        user_agent=request.headers.get("user-agent", ""),
    )


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    response = _templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refusal(request: Request, exc: ScimgateError) -> Response:
    return page(request, "setup_refused.html", exc.status, message=exc.detail)


def _over_limit(request: Request) -> Response | None:
    """The per-address limit on opening links (each try costs a lookup and maybe a
    link-use row): over it, 429 and a page, before anything is read or written."""
    limiter: TokenBuckets | None = request.app.state.address_limiter
    if limiter is None:
        return None
    try:
        limiter.acquire(visitor(request).client_ip)
    except RateLimited as exc:
        response = page(request, "setup_too_many.html", 429, retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return None


async def open_link(request: Request) -> Response:
    refused = _over_limit(request)
    if refused is not None:
        return refused
    try:
        link, tenant = await run_in_threadpool(
            setup_links.open_link, _db(request), request.path_params["secret"], visitor(request)
        )
    except ScimgateError as exc:
        return _refusal(request, exc)
    response = page(request, "setup_opening.html", tenant=tenant, next=_home(tenant))
    setup_session.start(response, link.id, tenant.id, link.expires_at, request)
    return response


def _home(tenant: Tenant) -> str:
    return f"/setup/tenants/{tenant.slug}/"


def _resolve(request: Request, session: SetupSession | None) -> tuple[Tenant, SetupLink]:
    if session is None:
        raise Unauthorized(_NO_SESSION)
    slug: str = request.path_params["slug"]
    try:
        # Only a well-formed slug reaches the database (a NUL byte would fail there).
        tenant = get_tenant(_db(request), slug) if _SLUG.fullmatch(slug) else None
    except TenantNotFound:
        tenant = None
    # Another tenant's pages look exactly like pages that do not exist.
    if tenant is None or tenant.id != session.tenant_id:
        raise NotFound("No such setup page")
    return tenant, setup_links.session_link(_db(request), tenant, session.link_id)


def in_setup(
    *, as_json: bool = False
) -> Callable[[SetupHandler], Callable[[Request], Awaitable[Response]]]:
    """Run a handler only with a live setup session for the tenant in the URL."""

    def wrap(handler: SetupHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = setup_session.current(request)
            try:
                tenant, link = await run_in_threadpool(_resolve, request, session)
                assert session is not None
                return await handler(request, tenant, link, session)
            except ScimgateError as exc:
                if as_json:
                    return JSONResponse({"error": exc.detail}, status_code=exc.status)
                return _refusal(request, exc)

        return endpoint

    return wrap


def wizard_context(
    request: Request,
    tenant: Tenant,
    link: SetupLink,
    issued: IssuedToken | None = None,
    *,
    idp_key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Everything the wizard's page shows; ``extra`` adds what one answer has to say."""
    scim_url = _settings(request).scim_base_url(tenant.slug)
    chosen = IDPS.get(idp_key or request.query_params.get("idp", ""))
    return {
        "tenant": tenant,
        "link": link,
        "idps": IDPS,
        "idp": chosen,
        "guide": filled_guide(chosen.key, scim_url) if chosen else None,
        "scim_url": scim_url,
        **sso_context(request, tenant, link, chosen),
        "issued": issued,
        "progress": setup_links.progress(_db(request), tenant, link),
        "findings": _findings(request, tenant, chosen),
        "home": _home(tenant),
        **extra,
    }


def render_wizard(
    request: Request, session: SetupSession, status_code: int = 200, **context: Any
) -> Response:
    return page(request, "setup.html", status_code, csrf=session.csrf, **context)


def _findings(request: Request, tenant: Tenant, chosen: IdpSteps | None) -> list[Finding]:
    """The doctor's findings, with the fixes worded for the IdP chosen in the wizard."""
    idp = chosen.key if chosen and chosen.key in IDP_NAMES else None
    return diagnose(_db(request), tenant, settings=_settings(request), idp=idp)


@in_setup()
async def wizard(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    context = await run_in_threadpool(wizard_context, request, tenant, link)
    return render_wizard(request, session, **context)


@in_setup()
async def generate_token(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    form = await request.form()
    if not setup_session.check_csrf(session, form.get("csrf")):
        raise Forbidden("The form expired; reload the page and retry")
    issued = await run_in_threadpool(
        setup_links.issue_token, _db(request), tenant, link, visitor(request)
    )
    # Rendered, not redirected: the token must never travel in a URL or be shown again.
    context = await run_in_threadpool(wizard_context, request, tenant, link, issued)
    return render_wizard(request, session, 201, **context)


@in_setup(as_json=True)
async def checks(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    found = await run_in_threadpool(setup_links.progress, _db(request), tenant, link)
    chosen = IDPS.get(request.query_params.get("idp", ""))
    findings = await run_in_threadpool(_findings, request, tenant, chosen)
    doctor = _templates.get_template("setup_doctor.html").render(findings=findings)
    body = {
        "checks": [{"key": c.key, "label": c.label, "done": c.done} for c in found.checks],
        "done": found.done,
        "findings": [f.to_dict() for f in findings],
        "doctor": doctor,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def setup_routes() -> list[BaseRoute]:
    return [
        Route("/tenants/{slug}/", wizard, methods=["GET"]),
        Route("/tenants/{slug}/token", generate_token, methods=["POST"]),
        Route("/tenants/{slug}/checks", checks, methods=["GET"]),
        Route("/{secret}", open_link, methods=["GET"]),
    ]
