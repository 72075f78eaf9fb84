"""SAML 2.0 routes: ``/sso/{tenant}/saml/metadata``, ``.../saml/start``, ``.../saml/acs``.

``start`` records the sign-in under the AuthnRequest's ID and sends the browser
to the IdP with a signed request. Its RelayState is a random reference kept with
the pending sign-in, never a URL: where the browser goes afterwards comes from
the pending sign-in, whose redirect URI was checked against the host app's list.

``acs`` verifies the response first (``service/saml.py``), then spends it: the
assertion id once (the replay cache, in the database so it holds across
workers), the AuthnRequest ID once (``take_pending``). Verifying before spending
means a forged POST cannot use up a real sign-in. IdP-initiated responses (no
InResponseTo) pass only when the connection allows them. The connection whose keys
verify a response is the one whose sign-in its InResponseTo names, else the one that
trusts its issuer, so two connections to one IdP can live side by side.

A sign-in the console started as a test (``service/sso_trial.py``) goes back to the
console with a report of each check, passed or failed, and signs nobody in.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.entities import Tenant
from scimgate.model.sso import PROTOCOL_SAML
from scimgate.service import saml, saml_metadata, sso, sso_trial
from scimgate.service.sealing import SSO_SP_KEY, Keyring
from scimgate.sso.pages import (
    client_of,
    database_of,
    limited,
    refusal_page,
    refuse,
    settings_of,
    tenant_of,
)
from scimgate.storage.database import Database

_NO_STORE = {"Cache-Control": "no-store"}
# A SAML POST is a few kilobytes of base64; the form parser stops well past it.
_MAX_FORM_FIELD = saml.MAX_MESSAGE_CHARS + 1024


def service_provider(db: Database, settings: Settings, tenant: Tenant) -> saml.ServiceProvider:
    """The tenant's SP: its URLs under PUBLIC_URL and its key pair (made on first use)."""
    urls = sso.sp_urls(settings, tenant.slug)
    keys = sso.sp_keys(db, tenant, Keyring.from_settings(settings, SSO_SP_KEY))
    return saml.ServiceProvider(
        entity_id=urls.entity_id,
        acs_url=urls.acs_url,
        cert_pem=keys.cert_pem,
        key_pem=keys.key_pem,
        previous_cert_pem=keys.previous_cert_pem,
        previous_key_pem=keys.previous_key_pem,
    )


def _saml_connection(
    db: Database, settings: Settings, tenant: Tenant, connection: sso.Connection
) -> saml.SamlConnection:
    if connection.protocol != PROTOCOL_SAML:
        raise SsoRejected("connection", f"the connection {connection.name!r} is not SAML")
    if not connection.enabled:
        raise SsoRejected("connection_disabled", f"the connection {connection.name!r} is off")
    if saml_metadata.needs_metadata(connection):
        connection = saml_metadata.refresh_idp_metadata(db, tenant, connection, settings)
    return saml.connection_from_config(connection.config, service_provider(db, settings, tenant))


# -- metadata -------------------------------------------------------------------------


async def metadata(request: Request) -> Response:
    db, settings = database_of(request), settings_of(request)

    def build() -> str:
        tenant = tenant_of(request)
        return saml.sp_metadata(service_provider(db, settings, tenant))

    try:
        xml = await run_in_threadpool(build)
    except SsoRejected as rejection:
        return refusal_page(request, rejection)
    filename = f"scimgate-{request.path_params['tenant']}-sp-metadata.xml"
    return Response(
        xml,
        media_type="application/samlmetadata+xml",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# -- start ----------------------------------------------------------------------------


def _begin(request: Request, tenant: Tenant, connection: sso.Connection) -> str:
    db, settings = database_of(request), settings_of(request)
    conn = _saml_connection(db, settings, tenant, connection)
    relay = sso.new_protocol_ref()
    redirect_uri = request.query_params.get("redirect_uri", "")
    ticket = request.query_params.get("trial")
    if ticket:
        redirect_uri = sso_trial.redeem_ticket(db, tenant, connection, ticket)
    redirect = saml.authn_request(conn, relay_state=relay)
    sso.begin(
        db,
        tenant,
        connection,
        redirect_uri=redirect_uri,
        host_state=None if ticket else request.query_params.get("state"),
        protocol_ref=redirect.request_id,
        data={"relay_state": relay},
        settings=settings,
        trial=bool(ticket),
    )
    return redirect.url


@limited
async def start(request: Request) -> Response:
    db = database_of(request)
    tenant: Tenant | None = None
    connection: sso.Connection | None = None
    try:
        tenant = await run_in_threadpool(tenant_of, request)
        raw = request.query_params.get("connection", "")
        if not raw.isdigit():
            raise SsoRejected("connection", "start needs connection=ID (see /sso/{tenant}/start)")
        connection = await run_in_threadpool(sso.get_connection, db, tenant, int(raw))
        url = await run_in_threadpool(_begin, request, tenant, connection)
    except sso.ConnectionNotFound:
        rejection = SsoRejected("connection", "there is no such SSO connection for this tenant")
        return await refuse(request, tenant, None, rejection)
    except SsoRejected as rejection:
        return await refuse(request, tenant, connection, rejection)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


# -- the assertion consumer service -----------------------------------------------------


def _fetched(
    db: Database, settings: Settings, tenant: Tenant, connection: sso.Connection
) -> sso.Connection:
    """The connection with its IdP values, fetched now if it has only a metadata URL."""
    if not saml_metadata.needs_metadata(connection):
        return connection
    try:
        return saml_metadata.refresh_idp_metadata(db, tenant, connection, settings)
    except SsoRejected:
        return connection


def _connection_for(
    db: Database, settings: Settings, tenant: Tenant, issuer: str | None
) -> sso.Connection:
    """The tenant's SAML connection that trusts ``issuer`` (the IdP's entity id)."""
    candidates = [
        _fetched(db, settings, tenant, c)
        for c in sso.list_connections(db, tenant)
        if c.protocol == PROTOCOL_SAML
    ]
    if issuer is not None:
        candidates = [c for c in candidates if c.config.get("idp_entity_id") == issuer]
    enabled = [c for c in candidates if c.enabled] or candidates
    if len(enabled) == 1:
        return enabled[0]
    if not enabled:
        raise SsoRejected(
            "issuer",
            f"the response was issued by {issuer or 'an unnamed IdP'}, which no SAML "
            "connection of this tenant trusts",
        )
    raise SsoRejected(
        "connection",
        f"{len(enabled)} SAML connections of this tenant trust {issuer or 'this IdP'}; "
        "only one may",
    )


class _Acs:
    """One POST to the ACS, step by step; ``connection`` is known once the issuer is."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        self.request = request
        self.db = database_of(request)
        self.settings = settings_of(request)
        self.saml_response = form.get("SAMLResponse", "")
        self.relay_state = form.get("RelayState")
        self.tenant: Tenant | None = None
        self.connection: sso.Connection | None = None
        self.request_id: str | None = None

    def verify(self) -> tuple[saml.VerifiedResponse, sso.Pending | None]:
        self.tenant = tenant_of(self.request)
        claimed = saml.peek(self.saml_response)
        self.request_id = claimed.in_response_to
        self.connection = self._requested() or _connection_for(
            self.db, self.settings, self.tenant, claimed.issuer
        )
        conn = _saml_connection(self.db, self.settings, self.tenant, self.connection)
        verified = saml.verify_response(
            conn,
            self.saml_response,
            request_id=claimed.in_response_to,
            allow_idp_initiated=self.connection.allow_idp_initiated,
        )
        if not sso.remember_assertion(
            self.db, self.tenant, verified.assertion_id, verified.keep_until
        ):
            raise SsoRejected(
                "replay",
                f"the assertion {verified.assertion_id} was used before; each is accepted once",
            )
        return verified, self._pending(verified)

    def _requested(self) -> sso.Connection | None:
        """The SAML connection whose sign-in the InResponseTo names (verification still
        checks that its IdP issued the response); None for an unknown or absent one."""
        assert self.tenant is not None
        if self.request_id is None:
            return None
        pending = sso.peek_pending(self.db, self.tenant, self.request_id)
        if pending is None:
            return None
        try:
            chosen = sso.get_connection(self.db, self.tenant, pending.connection_id)
        except sso.ConnectionNotFound:
            return None
        if chosen.protocol != PROTOCOL_SAML:
            return None
        return _fetched(self.db, self.settings, self.tenant, chosen)

    def _pending(self, verified: saml.VerifiedResponse) -> sso.Pending | None:
        assert self.tenant is not None
        assert self.connection is not None
        if verified.in_response_to is None:
            return None
        pending = sso.take_pending(self.db, self.tenant, self.connection, verified.in_response_to)
        if pending is None:
            raise SsoRejected(
                "in_response_to",
                f"the response answers request {verified.in_response_to}, which this service "
                "did not send, has already used, or which expired",
            )
        if pending.data.get("relay_state") != self.relay_state:
            raise SsoRejected(
                "state",
                "the RelayState that came back is not the one this sign-in sent to the IdP",
            )
        return pending

    def refused_trial(self, rejection: SsoRejected) -> str | None:
        """The console path of a refused test sign-in's report; None when this was no test."""
        if self.tenant is None or self.request_id is None:
            return None
        pending = sso.peek_pending(self.db, self.tenant, self.request_id)
        if not sso_trial.is_trial(pending):
            return None
        assert pending is not None
        connection = sso.get_connection(self.db, self.tenant, pending.connection_id)
        sso.take_pending(self.db, self.tenant, connection, self.request_id)
        return sso_trial.fail(
            self.db, self.tenant, connection, rejection, client=client_of(self.request)
        )

    def complete(self, verified: saml.VerifiedResponse, pending: sso.Pending | None) -> str:
        assert self.tenant is not None
        assert self.connection is not None
        if sso_trial.is_trial(pending):
            return sso_trial.finish(
                self.db,
                self.tenant,
                self.connection,
                verified.identity,
                client=client_of(self.request),
                settings=self.settings,
            )
        return sso.complete_sign_in(
            self.db,
            self.tenant,
            self.connection,
            verified.identity,
            pending=pending,
            client=client_of(self.request),
            settings=self.settings,
            relay_state=self.relay_state if pending is None else None,
        )


@limited
async def acs(request: Request) -> Response:
    async with request.form(max_files=0, max_fields=8, max_part_size=_MAX_FORM_FIELD) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    step = _Acs(request, fields)
    try:
        verified, pending = await run_in_threadpool(step.verify)
    except SsoRejected as rejection:
        trial = await run_in_threadpool(step.refused_trial, rejection)
        if trial is not None:
            return RedirectResponse(trial, status_code=303, headers=_NO_STORE)
        return await refuse(request, step.tenant, step.connection, rejection)
    try:
        url = await run_in_threadpool(step.complete, verified, pending)
    except SsoRejected as rejection:
        # complete_sign_in has written the refusal's audit row.
        return refusal_page(request, rejection)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def saml_routes() -> list[BaseRoute]:
    return [
        Route("/{tenant}/saml/metadata", metadata, methods=["GET"]),
        Route("/{tenant}/saml/start", start, methods=["GET"]),
        Route("/{tenant}/saml/acs", acs, methods=["POST"]),
    ]
