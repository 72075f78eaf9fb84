"""The setup wizard's single sign-on: save the IdP's values, run a test sign-in, see it back.

``POST /setup/tenants/{slug}/sso?idp=&protocol=`` creates or updates the
connection (``service/setup_sso.py``); a value it refuses is shown on the page
in words (400), never as an error page. ``GET .../sso/test`` starts a real
sign-in through the IdP whose redirect URI is ``.../sso/tested``, which
exchanges the code and shows who signed in; the sign-in's audit row turns the
"Test sign-in" check green.

The browser reaches ``.../sso/tested`` from the IdP's site, usually through its
auto-submitted form: a SameSite=Strict cookie is not sent on that navigation,
so without a session the page reloads itself once, as ``GET /setup/{secret}``
does, and the reload carries the cookie.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scimgate.admin import setup_session
from scimgate.admin.setup_routes import in_setup, page, render_wizard, visitor, wizard_context
from scimgate.admin.setup_session import SetupSession
from scimgate.admin.setup_sso_context import chosen_protocol, sign_in_state, tested_idp
from scimgate.admin.setup_sso_steps import OIDC, SSO_STEPS
from scimgate.admin.setup_wizard import IDPS, IdpSteps
from scimgate.config import Settings
from scimgate.errors import Conflict, Forbidden, InvalidGrant, InvalidValue, SsoRejected
from scimgate.model.entities import SetupLink, Tenant
from scimgate.service import setup_sso
from scimgate.service.saml_metadata import MAX_METADATA_BYTES
from scimgate.service.sealing import SSO_CLIENT_SECRET, Keyring
from scimgate.storage.database import Database

_SHOWN = (InvalidValue, SsoRejected, Conflict, InvalidGrant)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _chosen(request: Request) -> IdpSteps:
    chosen = IDPS.get(request.query_params.get("idp", ""))
    if chosen is None:
        raise InvalidValue("Choose your identity provider first")
    return chosen


async def _form(request: Request) -> tuple[dict[str, str], str]:
    """The form's text fields and the uploaded metadata file's text."""
    async with request.form(max_files=1, max_fields=20) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("metadata_file")
        data = await upload.read(MAX_METADATA_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if len(data) > MAX_METADATA_BYTES:
        raise InvalidValue(f"The metadata file is larger than {MAX_METADATA_BYTES} bytes")
    return fields, data.decode("utf-8", errors="replace")


def _configure(
    request: Request,
    tenant: Tenant,
    link: SetupLink,
    chosen: IdpSteps,
    fields: dict[str, str],
    xml: str,
) -> None:
    db, settings, jit = _db(request), _settings(request), fields.get("jit") == "on"
    if chosen_protocol(request, chosen) == OIDC:
        given = setup_sso.OidcSettings(
            issuer=fields.get("issuer", ""),
            client_id=fields.get("client_id", ""),
            client_secret=fields.get("client_secret", ""),
            groups_claim=fields.get("groups_claim", ""),
            scopes=fields.get("scopes", ""),
            jit=jit,
        )
        keyring = Keyring.from_settings(settings, SSO_CLIENT_SECRET)
        setup_sso.configure_oidc(
            db, tenant, link, chosen.name, given, keyring=keyring, visitor=visitor(request)
        )
        return
    saml_given = setup_sso.SamlSettings(
        metadata_xml=xml or fields.get("metadata_xml", ""),
        metadata_url=fields.get("metadata_url", ""),
        group_attribute=fields.get("group_attribute", ""),
        jit=jit,
    )
    setup_sso.configure_saml(
        db, tenant, link, chosen.name, saml_given, settings=settings, visitor=visitor(request)
    )


def _back(tenant: Tenant, chosen: IdpSteps, protocol: str) -> str:
    query = urlencode({"idp": chosen.key, "protocol": protocol})
    return f"/setup/tenants/{tenant.slug}/?{query}#sso-h"


@in_setup()
async def save_connection(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    fields, xml = await _form(request)
    if not setup_session.check_csrf(session, fields.get("csrf")):
        raise Forbidden("The form expired; reload the page and retry")
    chosen = _chosen(request)
    try:
        await run_in_threadpool(_configure, request, tenant, link, chosen, fields, xml)
    except _SHOWN as exc:
        context = await run_in_threadpool(
            wizard_context, request, tenant, link, sso_error=exc.detail, sso_form=fields
        )
        return render_wizard(request, session, 400, **context)
    protocol = chosen_protocol(request, chosen)
    return RedirectResponse(_back(tenant, chosen, protocol), status_code=303)


@in_setup()
async def start_test(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    chosen = _chosen(request)
    if "sso" not in link.scopes:
        raise Forbidden("This setup link does not cover single sign-on.")
    connection = await run_in_threadpool(
        setup_sso.wizard_connection, _db(request), tenant, chosen.name
    )
    if connection is None:
        raise InvalidValue(f"Save the {chosen.name} connection first, then test it")
    query = {
        "connection": str(connection.id),
        "redirect_uri": setup_sso.setup_return_uri(_settings(request), tenant),
        "state": sign_in_state(session, chosen.key),
    }
    target = f"/sso/{tenant.slug}/start?{urlencode(query)}"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


@in_setup()
async def _tested(
    request: Request, tenant: Tenant, link: SetupLink, session: SetupSession
) -> Response:
    idp_key = tested_idp(session, request.query_params.get("state", ""))
    if idp_key is None:
        raise Forbidden("This sign-in was not started from this setup page; run the test again")
    code = request.query_params.get("code", "")
    tested: dict[str, Any] | None = None
    error: str | None = None
    try:
        tested = await run_in_threadpool(setup_sso.tested_profile, _db(request), tenant, link, code)
    except _SHOWN:
        error = "This test sign-in was shown already; run the test again."
    context = await run_in_threadpool(
        functools.partial(wizard_context, idp_key=idp_key, tested=tested, sso_error=error),
        request,
        tenant,
        link,
    )
    context["protocol"] = SSO_STEPS[idp_key].protocols[0] if idp_key in SSO_STEPS else "saml"
    connection = context.get("connection")
    if connection is not None:
        context["protocol"] = connection.protocol
    return render_wizard(request, session, **context)


async def tested(request: Request) -> Response:
    if setup_session.current(request) is None and request.query_params.get("again") != "1":
        query = urlencode({**request.query_params, "again": "1"})
        again = f"{request.url.path}?{query}"
        return page(request, "setup_return.html", next=again)
    return await _tested(request)


def setup_sso_routes() -> list[BaseRoute]:
    return [
        Route("/tenants/{slug}/sso", save_connection, methods=["POST"]),
        Route("/tenants/{slug}/sso/test", start_test, methods=["GET"]),
        Route("/tenants/{slug}/sso/tested", tested, methods=["GET"]),
    ]
