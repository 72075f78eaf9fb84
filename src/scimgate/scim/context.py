"""Per-request SCIM context: who is calling, for which tenant, and how to reach the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from scimgate.config import Settings
from scimgate.errors import TokenOfAnotherTenant
from scimgate.model.idp import UNKNOWN, detect_idp
from scimgate.service.audit import TOKEN_OF_ANOTHER_TENANT
from scimgate.service.ratelimit import TokenBuckets
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tokens import (
    CredentialCheck,
    Principal,
    StaleCredentials,
    TokenAuthenticator,
)
from scimgate.storage.database import CheckedDatabase, Database

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
    # A token served from the authenticator's cache: confirmed in the call's transactions.
    check: CredentialCheck | None = None

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

    async def read(
        self,
        fn: Callable[P, T],
        awaited: Callable[P, Awaitable[T | None]] | None,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """A read that ``awaited`` may answer on the event loop, without the worker thread
        ``run`` takes on PostgreSQL (``Database.awaited_reads``); ``fn`` answers when it
        cannot (None, no awaited form, or SQLite, whose calls run inline anyway)."""
        if awaited is not None and not self.inline_db and self.scope.db.awaits_reads():
            found = await awaited(*args, **kwargs)
            if found is not None:
                return found
        return await self.run(fn, *args, **kwargs)

    async def confirm(self) -> None:
        """Check a cached token on its own if no tenant transaction of the request did."""
        check = self.check
        if check is not None and not check.verified:
            await self.run(check.confirm_alone)


async def scim_context(request: Request) -> ScimContext:
    """Authenticate the request and describe it.

    An endpoint wrapped by ``with_cached_token`` may be served with a token this
    process verified before, taken from memory and confirmed in the request's
    own tenant transactions (``service.tokens.CredentialCheck``), or on its own
    before the response when the request opened none.
    """
    state = request.app.state
    db: Database = state.db
    settings: Settings = state.settings
    authenticator: TokenAuthenticator = state.authenticator
    slug: str = request.path_params["tenant"]
    # Detected before authentication so that a refused request is attributed
    # too; the audit wrapper and the access log read it from the request state.
    idp = detect_idp(request.headers, request.method, request.scope["path"], request.query_params)
    request.state.scim_idp = idp
    authorization = request.headers.get("authorization")
    inline = db.dialect == "sqlite"
    cached = getattr(request.state, "scim_token_cache", False)
    check = authenticator.cached(slug, authorization) if cached else None
    try:
        if check is not None:
            if check.touch_due:
                if inline:
                    authenticator.touch(check.principal.token_id)
                else:
                    await run_in_threadpool(authenticator.touch, check.principal.token_id)
            principal = check.principal
            db = CheckedDatabase(
                db, check.confirm, check.confirm_generation, check.expect_generation
            )
        elif inline:
            principal = authenticator.authenticate(slug, authorization)
        else:
            principal = await run_in_threadpool(authenticator.authenticate, slug, authorization)
    except TokenOfAnotherTenant:
        # Told to this tenant's audit log (the connection doctor reads it), never
        # to the client, and never which tenant the token belongs to.
        request.state.scim_audit_note = TOKEN_OF_ANOTHER_TENANT
        raise
    scope = TenantScope(
        db, principal.tenant, settings.scim_base_url(slug), state.limits, principal.settings
    )
    limiter = _rate_limiter(request, settings)
    if limiter is not None:
        limiter.acquire(principal.token_id)
    request.state.scim_principal = principal  # for the audit log
    request.state.scim_context = context = ScimContext(
        settings=settings,
        principal=principal,
        scope=scope,
        inline_db=inline,
        idp=idp,
        check=check,
    )
    return context


def with_cached_token(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Let ``endpoint`` authenticate from the token cache; the token is confirmed before
    any response (or error) leaves it."""

    async def cached(request: Request) -> Response:
        request.state.scim_token_cache = True
        try:
            try:
                response = await endpoint(request)
            except StaleCredentials:
                # Nothing was written: start over, this time looking the token up.
                request.state.scim_token_cache = False
                request.state.scim_context = None
                response = await endpoint(request)
        except BaseException:
            await _confirm(request)  # a revoked token gets its 401, not this error
            raise
        await _confirm(request)
        return response

    cached.__name__ = getattr(endpoint, "__name__", "cached")
    return cached


async def _confirm(request: Request) -> None:
    context: ScimContext | None = getattr(request.state, "scim_context", None)
    if context is not None:
        await context.confirm()


def _rate_limiter(request: Request, settings: Settings) -> TokenBuckets | None:
    """The app's per-token limiter, made on first use (None when it is off)."""
    state = request.app.state
    try:
        limiter: TokenBuckets | None = state.rate_limiter
    except AttributeError:
        limiter = state.rate_limiter = TokenBuckets.from_settings(settings)
    return limiter
