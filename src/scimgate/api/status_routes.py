"""Provisioning status, the connection doctor and the audit log of a tenant, for the host
app and operators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from scimgate.api.deps import AppSettings, Db, TenantOf
from scimgate.service import app_view
from scimgate.service.audit import audit_page, entry_to_dict, parse_filter
from scimgate.service.doctor import doctor_report
from scimgate.service.status import provisioning_status

router = APIRouter(prefix="/v1/tenants/{slug}", tags=["provisioning"])

MAX_AUDIT_PAGE = 500


@router.get("/provisioning-status")
def get_provisioning_status(tenant: TenantOf, db: Db, settings: AppSettings) -> dict[str, Any]:
    """One-word state, last request and IdP, 24 h / 7 d counts, users, groups and tokens."""
    return provisioning_status(db, tenant, idle_after_hours=settings.idle_after_hours).to_dict()


@router.get("/doctor")
def get_doctor(tenant: TenantOf, db: Db, settings: AppSettings) -> dict[str, Any]:
    """The connection doctor: each problem seen in the SCIM traffic, explained, with the fix."""
    return doctor_report(db, tenant, settings=settings)


@router.get("/audit-log")
def list_audit_log(
    tenant: TenantOf,
    db: Db,
    idp: Annotated[str | None, Query(max_length=32)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure)$")] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=32)] = None,
    since: Annotated[str | None, Query(description="ISO-8601; entries at or after it.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=20, description="`next` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
) -> dict[str, Any]:
    """SCIM requests, newest first; follow `next` for older ones."""
    where = parse_filter(
        idp=idp,
        outcome=outcome,
        resource_type=resource_type,
        since=app_view.parse_timestamp(since) if since else None,
        cursor=cursor,
    )
    entries = audit_page(db, tenant, where, limit)
    following = str(entries[-1].id) if len(entries) == limit else None
    return {"entries": [entry_to_dict(e) for e in entries], "next": following}
