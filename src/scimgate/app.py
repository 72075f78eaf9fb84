"""The ASGI application factory. Nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from scimgate import observability
from scimgate.admin.directory_routes import directory_routes
from scimgate.admin.headers import SecurityHeaders
from scimgate.admin.routes import admin_routes
from scimgate.admin.setup_link_routes import setup_link_routes
from scimgate.admin.setup_routes import setup_routes
from scimgate.admin.setup_sso_routes import setup_sso_routes
from scimgate.admin.sso_routes import sso_routes as admin_sso_routes
from scimgate.api.app import create_api
from scimgate.api.deps import attach as attach_api
from scimgate.config import Settings
from scimgate.errors import ScimgateError
from scimgate.events.worker import BackgroundWorker, WorkerOptions
from scimgate.scim.audit import AuditedScim
from scimgate.scim.context import limits_from
from scimgate.scim.handlers import (
    handle_http_exception,
    handle_scimgate_error,
    handle_unexpected,
)
from scimgate.scim.params import DrainRefusedBody
from scimgate.scim.routes import scim_routes
from scimgate.scim.surface import ScimSurface
from scimgate.service.audit import AuditRecorder
from scimgate.service.ratelimit import TokenBuckets
from scimgate.service.sealing import WEBHOOK_SECRET, Keyring
from scimgate.service.tokens import TokenAuthenticator
from scimgate.sso.routes import sso_routes
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
    api = create_api()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database.from_url(settings.database_url, pool_size=settings.db_pool_size)
        app.state.db = db
        app.state.settings = settings
        # Per process, like the SCIM token buckets; None when the setting turns it off.
        app.state.address_limiter = TokenBuckets.per_address(settings)
        app.state.limits = limits_from(settings)
        app.state.authenticator = TokenAuthenticator(
            db, touch_interval=settings.token_touch_interval_seconds
        )
        attach_api(api, db, settings)
        # Whatever started is stopped, last first, also when a later start fails.
        async with AsyncExitStack() as started:
            if owned:
                started.callback(db.dispose)
            await db.open_awaited_reads()
            started.push_async_callback(db.close_awaited_reads)
            app.state.audit_recorder = recorder = AuditRecorder(
                db, on_unknown_tenant=app.state.metrics.unknown_tenant_requests.inc
            ).start()
            started.callback(recorder.stop)
            if settings.run_worker:
                # Webhook delivery on a thread of this process (`serve --with-worker`).
                worker = BackgroundWorker(
                    db,
                    WorkerOptions.from_settings(settings),
                    Keyring.from_settings(settings, WEBHOOK_SECRET),
                ).start()
                started.callback(worker.stop)
            yield

    scim = scim_routes()
    app = Starlette(
        routes=[
            # First: nearly every request is a SCIM one, and the router tries routes in order.
            # (The commonest never reach the router: ScimSurface, below.)
            Mount("/scim/v2/{tenant}", app=DrainRefusedBody(AuditedScim(Router(scim)))),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount("/api", app=api),
            Mount(
                "/admin",
                app=SecurityHeaders(
                    Router(
                        admin_routes()
                        + directory_routes()
                        + admin_sso_routes()
                        + setup_link_routes()
                    )
                ),
            ),
            Mount("/setup", app=SecurityHeaders(Router(setup_sso_routes() + setup_routes()))),
            Mount("/sso", app=Router(sso_routes())),
        ],
        exception_handlers={
            ScimgateError: handle_scimgate_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.add_middleware(ScimSurface, routes=scim)  # inside the observability middleware
    observability.install(app)
    return app


def app_from_environment() -> Starlette:
    """``uvicorn --factory`` entry point (several workers): settings from the environment."""
    settings = Settings()
    observability.configure_logging(settings.log_level)
    return create_app(settings)
