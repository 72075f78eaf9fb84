"""The host-app API: a FastAPI application mounted at ``/api`` by ``scimgate.app.create_app``.

Separate from SCIM on purpose: SCIM is the identity provider's protocol,
authenticated with SCIM tokens; this is the host application's JSON API,
authenticated with API keys (``scimgate apikey create``), with its own error
bodies and an OpenAPI description at ``/api/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from scimgate.api import manage_routes, read_routes, sso_routes, status_routes
from scimgate.api.errors import install_error_handlers
from scimgate.api.models import Problem

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": text}
    for status, text in (
        (400, "Invalid value (bad cursor, timestamp, role, path...) or SSO code (invalid_grant)"),
        (401, "Missing, malformed, unknown or revoked API key"),
        (403, "The API key may not act on this tenant"),
        (404, "Unknown tenant or resource"),
        (409, "Conflicts with the current state"),
        (422, "The request does not match this description"),
    )
}


def create_api() -> FastAPI:
    """Build the API; ``scimgate.api.deps.attach`` gives it its database when the app starts."""
    api = FastAPI(
        title="scimgate host API",
        version="1",
        summary="Users, roles, settings and events of scimgate tenants, for the host app.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        responses=_PROBLEMS,
    )
    install_error_handlers(api)
    api.include_router(read_routes.router)
    api.include_router(manage_routes.router)
    api.include_router(status_routes.router)
    api.include_router(sso_routes.router)
    return api
