"""Console page Administration → Access → SSO: the tenant's connections, the SP values an
IdP administrator copies, and the latest sign-ins with failures in words."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from scimgate.admin import security
from scimgate.admin.routes import database_of, render, signed_in, tenant_for
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.service.admins import AdminAccount
from scimgate.service.audit import audit_page, parse_filter
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.storage.database import Database

_RECENT = 25


def _context(db: Database, settings: Settings, tenant: Tenant) -> dict[str, Any]:
    keys = sso.sp_keys(db, tenant, Keyring.from_settings(settings, SSO_SP_KEY))
    return {
        "tenant": tenant,
        "connections": sso.list_connections(db, tenant),
        "sp": sso.sp_urls(settings, tenant.slug),
        "certificate": keys.cert_pem,
        "previous_certificate": keys.previous_cert_pem,
        "redirect_uris": sso.allowed_redirects(settings),
        "sign_ins": audit_page(db, tenant, parse_filter(resource_type="SignIn"), _RECENT),
    }


@signed_in
async def sso_page(request: Request, account: AdminAccount, session: security.Session) -> Response:
    tenant = tenant_for(request, account)
    settings: Settings = request.app.state.settings
    context = await run_in_threadpool(_context, database_of(request), settings, tenant)
    return render(request, "sso.html", session, account=account, **context)


def sso_routes() -> list[BaseRoute]:
    return [Route("/tenants/{slug}/sso", sso_page, methods=["GET"])]
