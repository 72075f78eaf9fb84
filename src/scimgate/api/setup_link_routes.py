"""Setup links for the customer's IT admin: create (the URL shown once), list, revoke, uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from scimgate.api.deps import AppSettings, Db, TenantOf
from scimgate.api.models import (
    SetupLinkCreated,
    SetupLinkIn,
    SetupLinkList,
    SetupLinkOut,
    SetupLinkUseList,
    SetupLinkUseOut,
)
from scimgate.service import setup_links
from scimgate.service.clock import utcnow

router = APIRouter(prefix="/v1/tenants")


@router.get("/{slug}/setup-links", response_model=SetupLinkList, tags=["setup links"])
def list_setup_links(tenant: TenantOf, db: Db) -> SetupLinkList:
    """The tenant's links, newest first (never their secrets)."""
    now = utcnow()
    found = setup_links.list_links(db, tenant)
    return SetupLinkList(items=[SetupLinkOut.of(link, now) for link in found])


@router.post(
    "/{slug}/setup-links", response_model=SetupLinkCreated, status_code=201, tags=["setup links"]
)
def create_setup_link(
    tenant: TenantOf,
    db: Db,
    settings: AppSettings,
    body: Annotated[SetupLinkIn | None, Body()] = None,
) -> SetupLinkCreated:
    """A link that walks the IT admin through connecting the IdP; the URL is in this response only.

    Scopes default to both `scim` and `sso`; the link expires after 7 days unless
    `expiresInHours` says otherwise (at most 30 days).
    """
    body = body or SetupLinkIn()
    issued = setup_links.create_link(db, tenant, body.scopes, body.expires_in_hours)
    return SetupLinkCreated(
        **SetupLinkOut.of(issued.link, utcnow()).model_dump(),
        url=setup_links.link_url(settings.public_base, issued.secret),
    )


@router.delete(
    "/{slug}/setup-links/{link_id}", tags=["setup links"], status_code=204, response_class=Response
)
def revoke_setup_link(tenant: TenantOf, db: Db, link_id: str) -> Response:
    """Revoke a link: opening it, or any page of its session, is refused from now on."""
    setup_links.revoke_link(db, tenant, link_id)
    return Response(status_code=204)


@router.get(
    "/{slug}/setup-links/{link_id}/uses", response_model=SetupLinkUseList, tags=["setup links"]
)
def list_setup_link_uses(tenant: TenantOf, db: Db, link_id: str) -> SetupLinkUseList:
    """Each use of the link, oldest first, with the visitor's address and User-Agent."""
    found = setup_links.link_uses(db, tenant, link_id)
    return SetupLinkUseList(
        items=[
            SetupLinkUseOut(
                occurred_at=u.occurred_at,
                action=u.action,
                client_ip=u.client_ip,
                user_agent=u.user_agent,
            )
            for u in found
        ]
    )
