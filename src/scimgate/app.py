"""The ASGI application factory. Nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from scimgate.config import Settings
from scimgate.errors import ScimgateError
from scimgate.scim.context import limits_from
from scimgate.scim.handlers import (
    handle_http_exception,
    handle_scimgate_error,
    handle_unexpected,
)
from scimgate.scim.routes import scim_routes
from scimgate.service.tokens import TokenAuthenticator
from scimgate.storage.database import Database

logger = logging.getLogger("scimgate")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    db: Database = request.app.state.db
    try:
        db.ping()
    except Exception as exc:  # any failure means "not ready"; the reason is logged, not shown
        logger.warning("database not reachable: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings, *, database: Database | None = None) -> Starlette:
    """Build the ASGI app. ``database`` lets tests share an engine with the app."""
    settings.check_secret_key()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
        app.state.db = db
        app.state.settings = settings
        app.state.limits = limits_from(settings)
        app.state.authenticator = TokenAuthenticator(
            db, touch_interval=settings.token_touch_interval_seconds
        )
        try:
            yield
        finally:
            if owned:
                db.dispose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount("/scim/v2/{tenant}", routes=scim_routes()),
        ],
        exception_handlers={
            ScimgateError: handle_scimgate_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """``uvicorn --factory`` entry point (several workers): settings from the environment."""
    return create_app(Settings())
