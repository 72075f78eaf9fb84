from collections.abc import Callable

import pytest

from scimgate.errors import InvalidValue, Uniqueness
from scimgate.model.entities import Tenant
from scimgate.service import tenants as tenant_service
from scimgate.service.tenants import TenantNotFound
from scimgate.storage.database import Database


def test_a_tenant_has_a_slug_a_name_and_a_creation_time(db: Database) -> None:
    tenant = tenant_service.create_tenant(db, "acme", "Acme Corp")
    assert (tenant.slug, tenant.name, tenant.disabled) == ("acme", "Acme Corp", False)
    assert tenant.created_at.tzinfo is not None
    assert tenant_service.get_tenant(db, "acme") == tenant


def test_a_duplicate_slug_is_refused(db: Database, make_tenant: Callable[..., Tenant]) -> None:
    make_tenant("acme")
    with pytest.raises(Uniqueness):
        tenant_service.create_tenant(db, "acme")


@pytest.mark.parametrize("slug", ["", "Acme", "acme corp", "-acme", "acme-", "a" * 64, "ac/me"])
def test_a_slug_must_be_url_safe(db: Database, slug: str) -> None:
    with pytest.raises(InvalidValue):
        tenant_service.create_tenant(db, slug)


def test_ensure_tenant_creates_once(db: Database) -> None:
    first = tenant_service.ensure_tenant(db, "demo", "Demo")
    second = tenant_service.ensure_tenant(db, "demo", "Other name")
    assert first == second
    assert [t.slug for t in tenant_service.list_tenants(db)] == ["demo"]


def test_disabling_an_unknown_tenant_fails(db: Database) -> None:
    with pytest.raises(TenantNotFound):
        tenant_service.set_tenant_disabled(db, "nobody", True)
