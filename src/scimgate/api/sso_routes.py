"""Single sign-on for the host app: the code exchange, and each tenant's connections."""

from __future__ import annotations

from fastapi import APIRouter, Response

from scimgate.api.deps import AppSettings, Db, Principal, TenantOf
from scimgate.api.models import (
    SpKeysOut,
    SpKeysRotateIn,
    SsoConnectionIn,
    SsoConnectionList,
    SsoConnectionOut,
    SsoConnectionPatch,
    SsoProfile,
    SsoTokenIn,
)
from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.model.sso import Connection
from scimgate.service import sso
from scimgate.service.sealing import SSO_CLIENT_SECRET, SSO_SP_KEY, Keyring

router = APIRouter(prefix="/v1")


def _out(settings: Settings, tenant: Tenant, connection: Connection) -> SsoConnectionOut:
    return SsoConnectionOut.of(connection, sso.sp_urls(settings, tenant.slug))


@router.post("/sso/token", response_model=SsoProfile, tags=["single sign-on"])
def exchange_code(who: Principal, db: Db, body: SsoTokenIn) -> SsoProfile:
    """Exchange the one-time code of a sign-in redirect for the person's profile.

    A code works once, within `SSO_CODE_TTL_SECONDS`, with a key of its tenant
    (or an operator key); anything else is 400 `invalid_grant`.
    """
    profile = sso.exchange_code(db, body.code, caller_tenant_id=who.tenant_id)
    return SsoProfile.model_validate(profile)


@router.get(
    "/tenants/{slug}/sso/connections", response_model=SsoConnectionList, tags=["single sign-on"]
)
def list_connections(tenant: TenantOf, db: Db, settings: AppSettings) -> SsoConnectionList:
    found = sso.list_connections(db, tenant)
    return SsoConnectionList(items=[_out(settings, tenant, c) for c in found])


@router.post(
    "/tenants/{slug}/sso/connections",
    response_model=SsoConnectionOut,
    status_code=201,
    tags=["single sign-on"],
)
def create_connection(
    tenant: TenantOf, db: Db, settings: AppSettings, body: SsoConnectionIn
) -> SsoConnectionOut:
    """Add a SAML or OIDC connection (409 when the tenant has one by that name)."""
    connection = sso.create_connection(
        db,
        tenant,
        body.changes(),
        client_secret=body.client_secret,
        keyring=Keyring.from_settings(settings, SSO_CLIENT_SECRET),
        settings=settings,
    )
    return _out(settings, tenant, connection)


@router.get(
    "/tenants/{slug}/sso/connections/{connection_id}",
    response_model=SsoConnectionOut,
    tags=["single sign-on"],
)
def get_connection(
    tenant: TenantOf, db: Db, settings: AppSettings, connection_id: int
) -> SsoConnectionOut:
    return _out(settings, tenant, sso.get_connection(db, tenant, connection_id))


@router.patch(
    "/tenants/{slug}/sso/connections/{connection_id}",
    response_model=SsoConnectionOut,
    tags=["single sign-on"],
)
def update_connection(
    tenant: TenantOf, db: Db, settings: AppSettings, connection_id: int, body: SsoConnectionPatch
) -> SsoConnectionOut:
    """Change the fields sent; `clientSecret` replaces the stored secret."""
    connection = sso.update_connection(
        db,
        tenant,
        connection_id,
        body.changes(),
        client_secret=body.client_secret,
        keyring=Keyring.from_settings(settings, SSO_CLIENT_SECRET),
        settings=settings,
    )
    return _out(settings, tenant, connection)


@router.delete(
    "/tenants/{slug}/sso/connections/{connection_id}",
    status_code=204,
    response_class=Response,
    tags=["single sign-on"],
)
def delete_connection(tenant: TenantOf, db: Db, connection_id: int) -> Response:
    sso.delete_connection(db, tenant, connection_id)
    return Response(status_code=204)


@router.post(
    "/tenants/{slug}/sso/sp-keys/rotate", response_model=SpKeysOut, tags=["single sign-on"]
)
def rotate_sp_keys(
    tenant: TenantOf, db: Db, settings: AppSettings, body: SpKeysRotateIn
) -> SpKeysOut:
    """Start an SP key rotation (both certificates in the SP metadata), or with
    `finish` end it; 409 for a second start or a finish with none in progress."""
    keyring = Keyring.from_settings(settings, SSO_SP_KEY)
    step = sso.finish_rotation if body.finish else sso.rotate_sp_keys
    keys = step(db, tenant, keyring)
    return SpKeysOut(
        certificate=keys.cert_pem,
        previous_certificate=keys.previous_cert_pem,
        rotating=keys.previous_cert_pem is not None,
    )
