"""The setup link store: one tenant's links, completion once, lookup by hash in the directory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from scimgate.model.entities import SetupLink, Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database

MakeTenant = Callable[..., Tenant]


def _link(tenant: Tenant, link_id: str) -> SetupLink:
    now = utcnow()
    return SetupLink(
        id=link_id,
        tenant_id=tenant.id,
        prefix="sgl_abcdefgh",
        scopes=("scim",),
        created_at=now,
        expires_at=now + timedelta(hours=1),
        revoked_at=None,
        completed_at=None,
        last_used_at=None,
    )


def test_a_link_completes_once(db: Database, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    with db.tenant(tenant.id, write=True) as repo:
        repo.setup_links.insert(_link(tenant, "l1"), "h" * 64)
    with db.tenant(tenant.id, write=True) as repo:
        assert repo.setup_links.complete("l1", utcnow())
        assert not repo.setup_links.complete("l1", utcnow())
        done = repo.setup_links.get("l1")
    assert done is not None
    assert done.completed_at is not None


def test_a_tenant_store_never_reaches_another_tenants_link(
    db: Database, make_tenant: MakeTenant
) -> None:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    with db.tenant(acme.id, write=True) as repo:
        repo.setup_links.insert(_link(acme, "l1"), "h" * 64)
    with db.tenant(globex.id, write=True) as repo:
        assert repo.setup_links.get("l1") is None
        assert repo.setup_links.revoke("l1", utcnow()) is None
        assert not repo.setup_links.complete("l1", utcnow())
        assert repo.setup_links.all() == []
    with db.tenant(acme.id) as repo:
        [mine] = repo.setup_links.all()
    assert (mine.revoked_at, mine.completed_at, mine.scopes) == (None, None, ("scim",))


def test_the_directory_finds_a_link_and_its_tenant_by_hash(
    db: Database, make_tenant: MakeTenant
) -> None:
    acme = make_tenant("acme")
    with db.tenant(acme.id, write=True) as repo:
        repo.setup_links.insert(_link(acme, "l1"), "h" * 64)
    with db.directory() as directory:
        found = directory.find_setup_link("h" * 64)
        assert directory.find_setup_link("g" * 64) is None
    assert found is not None
    link, tenant, stored = found
    assert (link.id, tenant.slug, stored) == ("l1", "acme", "h" * 64)
