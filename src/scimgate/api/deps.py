"""What every host-API endpoint depends on: the database, the caller's key, the tenant.

The API is mounted inside the main Starlette app, whose lifespan owns the
database; ``attach`` hands it over when the lifespan starts (a mounted app's
own lifespan never runs).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from scimgate.config import Settings
from scimgate.errors import Forbidden, ScimgateError
from scimgate.model.entities import Tenant
from scimgate.service.api_keys import ApiKeyAuthenticator, ApiPrincipal
from scimgate.service.tenants import TenantNotFound, get_tenant
from scimgate.storage.database import Database


class NotReady(ScimgateError):
    status = 503
    default_detail = "The API is starting up"


def attach(api: FastAPI, db: Database, settings: Settings) -> None:
    """Give the API the application's database (called from the main app's lifespan)."""
    api.state.db = db
    api.state.settings = settings
    api.state.authenticator = ApiKeyAuthenticator(
        db, touch_interval=settings.token_touch_interval_seconds
    )


def _database(request: Request) -> Database:
    db: Database | None = getattr(request.app.state, "db", None)
    if db is None:
        raise NotReady()
    return db


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Documents the scheme in OpenAPI; the check itself reads the header (below) so
# that a missing or non-Bearer header gets our 401 problem body, not FastAPI's.
_bearer = HTTPBearer(auto_error=False, description="A host-app API key (`sgk_...`).")


def _principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiPrincipal:
    _database(request)
    authenticator: ApiKeyAuthenticator = request.app.state.authenticator
    return authenticator.authenticate(request.headers.get("authorization"))


Db = Annotated[Database, Depends(_database)]
AppSettings = Annotated[Settings, Depends(_settings)]
Principal = Annotated[ApiPrincipal, Depends(_principal)]


def _tenant(slug: str, db: Db, who: Principal) -> Tenant:
    try:
        tenant = get_tenant(db, slug)
    except TenantNotFound:
        # A tenant key learns nothing about which other tenants exist.
        if who.is_operator:
            raise
        raise Forbidden("this API key belongs to another tenant") from None
    who.check_tenant(tenant)
    return tenant


def _operator(who: Principal) -> ApiPrincipal:
    who.check_operator()
    return who


TenantOf = Annotated[Tenant, Depends(_tenant)]
Operator = Annotated[ApiPrincipal, Depends(_operator)]
