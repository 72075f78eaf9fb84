"""Per-request SCIM context: who is calling, for which tenant, and how to reach the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from scimgate.config import Settings
from scimgate.errors import TokenOfAnotherTenant
from scimgate.model.idp import UNKNOWN, detect_idp
from scimgate.scim.ratelimit import TokenBuckets
from scimgate.service.audit import TOKEN_OF_ANOTHER_TENANT
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tokens import Principal, TokenAuthenticator
from scimgate.storage.database import Database

P = ParamSpec("P")
T = TypeVar("T")


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_results=settings.max_results,
        default_page_size=settings.default_page_size,
        max_patch_operations=settings.max_patch_operations,
        max_bulk_operations=settings.max_bulk_operations,
        max_payload_bytes=settings.max_body_bytes,
        max_filter_length=settings.max_filter_length,
        body_timeout_seconds=settings.body_timeout_seconds,
    )


@dataclass(frozen=True, slots=True)
class ScimContext:
    settings: Settings
    principal: Principal
    scope: TenantScope
    inline_db: bool
    idp: str = UNKNOWN  # who sent it, as scimgate.model.idp guesses: "okta", "entra", ...

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a (blocking) service call.

        SQLite calls take tens of microseconds and SQLite has one writer
        anyway, so they run on the event loop: a thread hop would cost more
        than the query. PostgreSQL calls wait on the network and run in the
        thread pool so that one slow query does not stall other requests.
        """
        if self.inline_db:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)


async def scim_context(request: Request) -> ScimContext:
    state = request.app.state
    db: Database = state.db
    settings: Settings = state.settings
    authenticator: TokenAuthenticator = state.authenticator
    slug: str = request.path_params["tenant"]
    # Detected before authentication so that a refused request is attributed
    # too; the audit wrapper and the access log read it from the request state.
    idp = detect_idp(request.headers, request.method, request.url.path, request.query_params)
    request.state.scim_idp = idp
    authorization = request.headers.get("authorization")
    inline = db.dialect == "sqlite"
    try:
        if inline:
            principal = authenticator.authenticate(slug, authorization)
        else:
            principal = await run_in_threadpool(authenticator.authenticate, slug, authorization)
    except TokenOfAnotherTenant:
        # Told to this tenant's audit log (the connection doctor reads it), never
        # to the client, and never which tenant the token belongs to.
        request.state.scim_audit_note = TOKEN_OF_ANOTHER_TENANT
        raise
    scope = TenantScope.of(db, principal.tenant, settings.scim_base_url(slug), state.limits)
    limiter = _rate_limiter(request, settings)
    if limiter is not None:
        limiter.acquire(principal.token_id)
    request.state.scim_principal = principal  # for the audit log
    return ScimContext(
        settings=settings, principal=principal, scope=scope, inline_db=inline, idp=idp
    )


def _rate_limiter(request: Request, settings: Settings) -> TokenBuckets | None:
    """The app's per-token limiter, made on first use (None when it is off)."""
    state = request.app.state
    try:
        limiter: TokenBuckets | None = state.rate_limiter
    except AttributeError:
        limiter = state.rate_limiter = TokenBuckets.from_settings(settings)
    return limiter
