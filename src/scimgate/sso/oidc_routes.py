"""OpenID Connect routes: ``/sso/{tenant}/oidc/start`` and ``.../oidc/callback``.

``start`` (reached from ``/sso/{tenant}/start``) builds the authorization
request (``service.oidc``), records it with ``service.sso.begin`` under its
``state`` (the nonce and PKCE verifier go with it) and sends the browser to
the IdP. ``callback`` takes that record back once by ``state`` (a replayed or
forged callback finds none), exchanges the code, validates the ID token and
hands the identity to ``complete_sign_in``, which answers with the host app's
redirect URI and a one-time code. A refusal is recorded and shown as a page.

The callback URL is one per tenant, so the connection is the one whose
pending sign-in holds the callback's ``state``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import PROTOCOL_OIDC, Pending
from scimgate.service import sso, sso_trial
from scimgate.service.egress import EgressPolicy
from scimgate.service.oidc import DEFAULT_SCOPES, ClientConfig, OidcClient
from scimgate.service.sealing import SSO_CLIENT_SECRET, Keyring
from scimgate.sso.pages import (
    client_of,
    database_of,
    limited,
    refuse,
    settings_of,
    tenant_of,
)

_NO_STORE = {"Cache-Control": "no-store"}
_client_lock = threading.Lock()


def _oidc(request: Request) -> OidcClient:
    """The app's relying party (its discovery and JWKS caches), made on first use."""
    state = request.app.state
    with _client_lock:
        client: OidcClient | None = getattr(state, "oidc_client", None)
        if client is None:
            client = OidcClient(EgressPolicy.from_settings(settings_of(request)))
            state.oidc_client = client
    return client


def _scopes(raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        return tuple(raw.split())
    if isinstance(raw, list) and raw:
        return tuple(str(s) for s in raw)
    # Not "groups": Google refuses a scope it does not know, and Entra ID sends
    # groups without one; the connection names it for the IdPs that want it.
    return DEFAULT_SCOPES


def _client_config(request: Request, tenant: Tenant, connection: sso.Connection) -> ClientConfig:
    """The connection's client registration; the secret is opened only for the callback."""
    config = connection.config
    issuer, client_id = config.get("issuer"), config.get("client_id")
    if not isinstance(issuer, str) or not isinstance(client_id, str) or not issuer or not client_id:
        raise SsoRejected(
            "metadata", f"the connection {connection.name!r} needs an issuer and a client_id"
        )
    method = config.get("token_auth_method")
    groups_claim = config.get("groups_claim")
    domain = config.get("hosted_domain")
    return ClientConfig(
        issuer=issuer,
        client_id=client_id,
        client_secret="",
        redirect_uri=sso.sp_urls(settings_of(request), tenant.slug).oidc_callback_url,
        scopes=_scopes(config.get("scopes")),
        groups_claim=groups_claim if isinstance(groups_claim, str) and groups_claim else "groups",
        token_auth_method=method if isinstance(method, str) else None,
        hosted_domain=domain if isinstance(domain, str) and domain else None,
    )


def _oidc_connection(request: Request, tenant: Tenant) -> sso.Connection:
    raw = request.query_params.get("connection", "")
    connection = sso.pick_connection(
        database_of(request), tenant, connection_id=int(raw) if raw.isdigit() else None
    )
    if connection.protocol != PROTOCOL_OIDC:
        raise SsoRejected("connection", f"the connection {connection.name!r} is not OIDC")
    return connection


def _begin(request: Request, tenant: Tenant, connection: sso.Connection) -> str:
    settings = settings_of(request)
    redirect_uri = request.query_params.get("redirect_uri", "")
    ticket = request.query_params.get("trial")
    if ticket:
        redirect_uri = sso_trial.redeem_ticket(database_of(request), tenant, connection, ticket)
    else:
        sso.check_redirect(settings, redirect_uri, tenant)  # before anything is asked of the IdP
    authorization = _oidc(request).authorization_request(
        _client_config(request, tenant, connection)
    )
    sso.begin(
        database_of(request),
        tenant,
        connection,
        redirect_uri=redirect_uri,
        host_state=None if ticket else request.query_params.get("state"),
        protocol_ref=authorization.state,
        data={"nonce": authorization.nonce, "code_verifier": authorization.code_verifier},
        settings=settings,
        trial=bool(ticket),
    )
    return authorization.url


@limited
async def start(request: Request) -> Response:
    tenant: Tenant | None = None
    connection: sso.Connection | None = None
    try:
        tenant = await run_in_threadpool(tenant_of, request)
        connection = await run_in_threadpool(_oidc_connection, request, tenant)
        url = await run_in_threadpool(_begin, request, tenant, connection)
    except SsoRejected as rejection:
        return await refuse(request, tenant, connection, rejection)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def _pending(request: Request, tenant: Tenant) -> tuple[sso.Connection, Pending]:
    """The connection and sign-in the callback's ``state`` belongs to, taken once."""
    state = request.query_params.get("state", "")
    db = database_of(request)
    if state:
        for connection in sso.list_connections(db, tenant):
            if connection.protocol != PROTOCOL_OIDC:
                continue
            pending = sso.take_pending(db, tenant, connection, state)
            if pending is not None:
                return connection, pending
    raise SsoRejected(
        "state",
        "the callback's state matches no sign-in in progress "
        "(unknown, already used, or older than ten minutes)",
    )


def _identity(
    request: Request, tenant: Tenant, connection: sso.Connection, pending: Pending
) -> sso.ExternalIdentity:
    settings = settings_of(request)
    config = _client_config(request, tenant, connection)
    keyring = Keyring.from_settings(settings, SSO_CLIENT_SECRET)
    secret = sso.client_secret(database_of(request), tenant, connection, keyring)
    data: Mapping[str, str] = pending.data
    return _oidc(request).sign_in(
        replace(config, client_secret=secret),
        dict(request.query_params),
        state=pending.protocol_ref,
        nonce=data.get("nonce", ""),
        code_verifier=data.get("code_verifier", ""),
    )


def _finish_trial(
    request: Request, tenant: Tenant, connection: sso.Connection, pending: Pending
) -> str:
    """A test sign-in's callback: its report for the console, whatever the outcome."""
    db = database_of(request)
    try:
        identity = _identity(request, tenant, connection, pending)
    except SsoRejected as rejection:
        return sso_trial.fail(db, tenant, connection, rejection, client=client_of(request))
    return sso_trial.finish(
        db, tenant, connection, identity, client=client_of(request), settings=settings_of(request)
    )


@limited
async def callback(request: Request) -> Response:
    tenant: Tenant | None = None
    connection: sso.Connection | None = None
    try:
        tenant = await run_in_threadpool(tenant_of, request)
        found, pending = await run_in_threadpool(_pending, request, tenant)
        connection = found
        if sso_trial.is_trial(pending):
            report = await run_in_threadpool(_finish_trial, request, tenant, found, pending)
            return RedirectResponse(report, status_code=303, headers=_NO_STORE)
        identity = await run_in_threadpool(_identity, request, tenant, found, pending)
        url = await run_in_threadpool(
            sso.complete_sign_in,
            database_of(request),
            tenant,
            found,
            identity,
            pending=pending,
            client=client_of(request),
            settings=settings_of(request),
        )
    except SsoRejected as rejection:  # recorded once: complete_sign_in records its own
        return await refuse(request, tenant, connection, rejection)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def oidc_routes() -> list[BaseRoute]:
    return [
        Route("/{tenant}/oidc/start", start, methods=["GET"]),
        Route("/{tenant}/oidc/callback", callback, methods=["GET"]),
    ]
