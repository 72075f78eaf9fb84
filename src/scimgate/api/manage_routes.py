"""What the host app manages: tenants, roles, role mappings, settings, SCIM tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from scimgate.api.deps import AppSettings, Db, Operator, TenantOf
from scimgate.api.models import (
    RoleIn,
    RoleList,
    RoleOut,
    RuleIn,
    RuleList,
    RuleOut,
    ScimTokenCreated,
    ScimTokenIn,
    ScimTokenList,
    ScimTokenOut,
    SettingsOut,
    SettingsPatch,
    TenantList,
    TenantOut,
)
from scimgate.service import roles as role_service
from scimgate.service import settings as settings_service
from scimgate.service import tenants as tenant_service
from scimgate.service import tokens as token_service

router = APIRouter(prefix="/v1/tenants")


@router.get("", response_model=TenantList, tags=["tenants"])
def list_tenants(_who: Operator, db: Db, settings: AppSettings) -> TenantList:
    """Every tenant (operator keys only)."""
    found = tenant_service.list_tenants(db)
    return TenantList(items=[TenantOut.of(t, settings.scim_base_url(t.slug)) for t in found])


# -- roles and role mappings -------------------------------------------------------------


@router.get("/{slug}/roles", response_model=RoleList, tags=["roles"])
def list_roles(tenant: TenantOf, db: Db) -> RoleList:
    return RoleList(items=[RoleOut.of(r) for r in role_service.list_roles(db, tenant)])


@router.post("/{slug}/roles", response_model=RoleOut, status_code=201, tags=["roles"])
def add_role(tenant: TenantOf, db: Db, body: RoleIn) -> RoleOut:
    """Add an app role (409 when the key exists)."""
    return RoleOut.of(role_service.add_role(db, tenant, body.key, body.name))


@router.delete("/{slug}/roles/{key}", tags=["roles"], status_code=204, response_class=Response)
def delete_role(tenant: TenantOf, db: Db, key: str) -> Response:
    """Delete a role; 409 when it is the default role or a role mapping uses it."""
    role_service.delete_role(db, tenant, key)
    return Response(status_code=204)


@router.get("/{slug}/role-mappings", response_model=RuleList, tags=["role mappings"])
def list_rules(tenant: TenantOf, db: Db) -> RuleList:
    """Every rule, strongest (smallest priority number) first."""
    found = role_service.list_rules(db, tenant)
    return RuleList(items=[RuleOut.of(rule, count) for rule, count in found])


@router.post(
    "/{slug}/role-mappings", response_model=RuleOut, status_code=201, tags=["role mappings"]
)
def add_rule(tenant: TenantOf, db: Db, body: RuleIn) -> RuleOut:
    """Map an IdP group to a role; every user's roles and state are recomputed at once."""
    rule = role_service.add_rule(
        db, tenant, body.group, body.role, priority=body.priority, match_type=body.match_type
    )
    counts = {r.id: n for r, n in role_service.list_rules(db, tenant)}
    return RuleOut.of(rule, counts.get(rule.id, 0))


@router.delete(
    "/{slug}/role-mappings/{rule_id}",
    tags=["role mappings"],
    status_code=204,
    response_class=Response,
)
def remove_rule(tenant: TenantOf, db: Db, rule_id: int) -> Response:
    role_service.remove_rule(db, tenant, rule_id)
    return Response(status_code=204)


# -- settings ------------------------------------------------------------------------


@router.get("/{slug}/settings", response_model=SettingsOut, tags=["settings"])
def get_settings(tenant: TenantOf, db: Db) -> SettingsOut:
    return SettingsOut.of(settings_service.get_settings(db, tenant))


@router.patch("/{slug}/settings", response_model=SettingsOut, tags=["settings"])
def update_settings(tenant: TenantOf, db: Db, body: SettingsPatch) -> SettingsOut:
    """Change some settings; a lifecycle change recomputes every user at once."""
    return SettingsOut.of(settings_service.update_settings(db, tenant, body.changes()))


# -- SCIM tokens -------------------------------------------------------------------------


@router.get("/{slug}/scim-tokens", response_model=ScimTokenList, tags=["scim tokens"])
def list_scim_tokens(tenant: TenantOf, db: Db) -> ScimTokenList:
    found = token_service.list_tokens(db, tenant)
    return ScimTokenList(items=[ScimTokenOut.of(t) for t in found])


@router.post(
    "/{slug}/scim-tokens", response_model=ScimTokenCreated, status_code=201, tags=["scim tokens"]
)
def create_scim_token(
    tenant: TenantOf,
    db: Db,
    settings: AppSettings,
    body: Annotated[ScimTokenIn | None, Body()] = None,
) -> ScimTokenCreated:
    """A new SCIM bearer token for the tenant's IdP; the secret is in this response only."""
    body = body or ScimTokenIn()
    issued = token_service.create_token(db, tenant, body.name, body.expires_in_days)
    return ScimTokenCreated(
        **ScimTokenOut.of(issued.token).model_dump(),
        token=issued.secret,
        scim_base_url=settings.scim_base_url(tenant.slug),
    )


@router.delete(
    "/{slug}/scim-tokens/{token_id}", tags=["scim tokens"], status_code=204, response_class=Response
)
def revoke_scim_token(tenant: TenantOf, db: Db, token_id: str) -> Response:
    """Revoke a token: the IdP's next request with it gets 401."""
    token_service.revoke_token(db, tenant, token_id)
    return Response(status_code=204)
