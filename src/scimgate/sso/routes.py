"""The SSO routes: the start picker here, then each protocol's routes.

``GET /sso/{tenant}/start?redirect_uri=&state=[&connection=ID][&email=]`` is
where the host app sends a person to sign in. It checks the redirect URI,
picks the connection and answers 303 to that protocol's start route, which
records the sign-in (``service.sso.begin``) and sends the browser to the IdP.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.service import sso
from scimgate.sso.oidc_routes import oidc_routes
from scimgate.sso.pages import database_of, limited, refusing, settings_of, tenant_of
from scimgate.sso.saml_routes import saml_routes


def _connection_id(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise SsoRejected("connection", f"connection must be a connection id, not {raw!r}")
    return int(raw)


def _pick(request: Request) -> tuple[Tenant, sso.Connection]:
    tenant = tenant_of(request)
    redirect_uri = request.query_params.get("redirect_uri", "")
    sso.check_redirect(settings_of(request), redirect_uri, tenant)
    connection = sso.pick_connection(
        database_of(request),
        tenant,
        connection_id=_connection_id(request.query_params.get("connection")),
        email=request.query_params.get("email"),
    )
    return tenant, connection


@limited
@refusing
async def start(request: Request) -> Response:
    tenant, connection = await run_in_threadpool(_pick, request)
    query = {"connection": str(connection.id)}
    for name in ("redirect_uri", "state"):
        value = request.query_params.get(name)
        if value is not None:
            query[name] = value
    target = f"/sso/{tenant.slug}/{connection.protocol}/start?{urlencode(query)}"
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return RedirectResponse(target, status_code=303, headers=headers)


def sso_routes() -> list[BaseRoute]:
    """Everything under ``/sso``: the start picker, then the SAML and OIDC routes."""
    core: list[BaseRoute] = [Route("/{tenant}/start", start, methods=["GET"])]
    return core + saml_routes() + oidc_routes()
