"""Tenants: the customer companies, each with its own SCIM endpoint."""

from __future__ import annotations

import re

from scimgate.errors import InvalidValue, NotFound, Uniqueness
from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database

# A DNS-label-like slug: it is a URL path segment and often a subdomain elsewhere.
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class TenantNotFound(NotFound):
    default_detail = "No such tenant"


def validate_slug(slug: str) -> str:
    if not _SLUG.fullmatch(slug):
        raise InvalidValue(
            f"invalid tenant slug {slug!r}: use 1-63 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return slug


def create_tenant(db: Database, slug: str, name: str | None = None) -> Tenant:
    validate_slug(slug)
    with db.directory(write=True) as directory:
        tenant = directory.create_tenant(slug, name or slug, utcnow())
    if tenant is None:
        raise Uniqueness(f"tenant {slug!r} already exists")
    return tenant


def ensure_tenant(db: Database, slug: str, name: str | None = None) -> Tenant:
    """The tenant called ``slug``, created if missing."""
    with db.directory() as directory:
        tenant = directory.tenant_by_slug(slug)
    if tenant is not None:
        return tenant
    try:
        return create_tenant(db, slug, name)
    except Uniqueness:
        return get_tenant(db, slug)


def get_tenant(db: Database, slug: str) -> Tenant:
    with db.directory() as directory:
        tenant = directory.tenant_by_slug(slug)
    if tenant is None:
        raise TenantNotFound(f"no tenant {slug!r}")
    return tenant


def list_tenants(db: Database) -> list[Tenant]:
    with db.directory() as directory:
        return directory.list_tenants()


def set_tenant_disabled(db: Database, slug: str, disabled: bool) -> Tenant:
    with db.directory(write=True) as directory:
        tenant = directory.tenant_by_slug(slug)
        if tenant is None:
            raise TenantNotFound(f"no tenant {slug!r}")
        directory.set_tenant_disabled(tenant.id, disabled)
        updated = directory.tenant_by_slug(slug)
    assert updated is not None
    return updated
