"""What the SSO routes share (the core, SAML and OIDC routes alike): the database and
settings, the path's tenant, the client, the refusal page and the per-address limit."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from scimgate.config import Settings
from scimgate.errors import RateLimited, SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.service.ratelimit import TokenBuckets
from scimgate.service.tenants import TenantNotFound, get_tenant
from scimgate.storage.database import Database

Endpoint = Callable[[Request], Awaitable[Response]]

# The refusal page: no script, its own inline style only, never framed, and no
# Referer carrying the sign-in's parameters to wherever the person goes next.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

_templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def tenant_of(request: Request) -> Tenant:
    """The path's tenant (blocking: call it in the thread pool); an unknown or disabled
    one is refused like any other check."""
    slug = request.path_params["tenant"]
    try:
        tenant = get_tenant(database_of(request), slug)
    except TenantNotFound:
        raise SsoRejected("tenant", f"there is no tenant {slug!r}") from None
    if tenant.disabled:
        raise SsoRejected("tenant", f"the tenant {slug!r} is disabled")
    return tenant


def client_of(request: Request) -> sso.ClientInfo:
    peer = request.client.host if request.client else ""
    address = settings_of(request).client_address(peer, request.headers.get("x-forwarded-for", ""))
    return sso.ClientInfo(ip=address or None, user_agent=request.headers.get("user-agent"))


def refusal_page(request: Request, rejection: SsoRejected) -> Response:
    """The plain page a refused sign-in shows: what failed, in words, and its check code."""
    return _templates.TemplateResponse(
        request,
        "refused.html",
        {"check": rejection.check, "detail": rejection.detail},
        status_code=rejection.status,
        headers=PAGE_HEADERS,
    )


def limited(endpoint: Endpoint) -> Endpoint:
    """Wrap an anonymous SSO endpoint in the per-address limit: over it, 429 and a plain
    page before the endpoint runs, so a flood writes no pending or audit row."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        limiter: TokenBuckets | None = request.app.state.address_limiter
        if limiter is not None:
            try:
                limiter.acquire(client_of(request).ip or "")
            except RateLimited as exc:
                return _too_many_page(request, exc.retry_after)
        return await endpoint(request)

    return guarded


def _too_many_page(request: Request, retry_after: int) -> Response:
    return _templates.TemplateResponse(
        request,
        "too_many.html",
        {"retry_after": retry_after},
        status_code=429,
        headers={**PAGE_HEADERS, "Retry-After": str(retry_after)},
    )


def _tenant_or_none(request: Request) -> Tenant | None:
    try:
        return tenant_of(request)
    except SsoRejected:
        return None


def refusing(endpoint: Endpoint) -> Endpoint:
    """Wrap an SSO endpoint: a ``SsoRejected`` it raises becomes the refusal page and,
    unless it was recorded already (``complete_sign_in`` records its own), an audit row."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except SsoRejected as rejection:
            tenant = None
            if not rejection.recorded:
                tenant = await run_in_threadpool(_tenant_or_none, request)
            return await refuse(request, tenant, None, rejection)

    return guarded


async def refuse(
    request: Request,
    tenant: Tenant | None,
    connection: sso.Connection | None,
    rejection: SsoRejected,
) -> Response:
    """Record a refusal (when the tenant is known and it is not recorded yet) and render
    its page."""
    if tenant is not None and not rejection.recorded:
        await run_in_threadpool(
            sso.record_refusal,
            database_of(request),
            tenant,
            connection,
            rejection,
            client=client_of(request),
            route=(request.method, request.url.path),
        )
    return refusal_page(request, rejection)
