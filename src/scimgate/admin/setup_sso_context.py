"""The single sign-on part of the setup wizard's page, and the test sign-in's ``state``.

The wizard shows the chosen IdP's steps for the chosen protocol (SAML unless the
IdP offers only OIDC or the admin picked it), this tenant's SP values, and the
connection the wizard keeps for that IdP, once saved.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from starlette.requests import Request

from scimgate.admin.setup_session import SetupSession
from scimgate.admin.setup_sso_steps import SAML, SSO_STEPS
from scimgate.admin.setup_wizard import IdpSteps
from scimgate.config import Settings
from scimgate.model.entities import SetupLink, Tenant
from scimgate.service import setup_sso, sso
from scimgate.service.audit import audit_page, parse_filter
from scimgate.storage.database import Database

_RECENT_SIGN_INS = 3


def chosen_protocol(request: Request, chosen: IdpSteps | None) -> str:
    steps = SSO_STEPS.get(chosen.key) if chosen else None
    offered = steps.protocols if steps else (SAML,)
    wanted = request.query_params.get("protocol", "")
    return wanted if wanted in offered else offered[0]


def sso_context(
    request: Request, tenant: Tenant, link: SetupLink, chosen: IdpSteps | None
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    urls = sso.sp_urls(settings, tenant.slug)
    connection = None
    sign_ins = []
    if chosen is not None and "sso" in link.scopes:
        connection = setup_sso.wizard_connection(db, tenant, chosen.name)
        # What the test sign-ins came to since the link was made; a refusal says why.
        where = parse_filter(resource_type="SignIn", since=link.created_at)
        sign_ins = audit_page(db, tenant, where, _RECENT_SIGN_INS)
    return {
        "sso": {
            "entity_id": urls.entity_id,
            "acs_url": urls.acs_url,
            "metadata_url": urls.metadata_url,
            "oidc_redirect_uri": urls.oidc_callback_url,
        },
        "sso_steps": SSO_STEPS.get(chosen.key) if chosen else None,
        "protocol": chosen_protocol(request, chosen),
        "connection": connection,
        "sign_ins": sign_ins,
    }


def sign_in_state(session: SetupSession, idp_key: str) -> str:
    """The ``state`` of a test sign-in: the IdP key and a MAC only this session can make."""
    mac = hmac.new(session.csrf.encode(), f"sso-test:{idp_key}".encode(), hashlib.sha256)
    return f"{idp_key}.{mac.hexdigest()[:32]}"


def tested_idp(session: SetupSession, state: str) -> str | None:
    """The IdP key of a test sign-in this session started, or None for any other state."""
    idp_key = state.partition(".")[0]
    if hmac.compare_digest(sign_in_state(session, idp_key).encode(), state.encode()):
        return idp_key
    return None
