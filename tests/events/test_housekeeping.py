"""The worker purges soft-deleted users once their tenant's grace period is over."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from scimgate.model.entities import TenantSettings
from scimgate.service.tenants import get_tenant
from scimgate.storage.database import Database
from scimgate.storage.tables import users
from tests.events.conftest import MakeWorker, new_user
from tests.scim.contract import ScimClient


def _grace(db: Database, slug: str, days: int) -> None:
    tenant = get_tenant(db, slug)
    with db.directory(write=True) as directory:
        directory.set_tenant_settings(tenant.id, TenantSettings(soft_delete_days=days).to_dict())


def _stored_user_names(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(sa.select(users.c.user_name)).scalars())


def test_soft_deleted_users_past_the_grace_period_are_purged(
    db: Database,
    scim: ScimClient,
    make_scim: Callable[[str], ScimClient],
    make_worker: MakeWorker,
) -> None:
    globex = make_scim("globex")
    _grace(db, "acme", 0)
    gone = new_user(scim, "gone@acme.example")
    new_user(scim, "stays@acme.example")
    kept = new_user(globex, "deleted@globex.example")
    assert scim.request("DELETE", f"/Users/{gone}").status_code == 204
    assert globex.request("DELETE", f"/Users/{kept}").status_code == 204
    # Soft-deleted: gone for SCIM, still stored.
    assert "gone@acme.example" in _stored_user_names(db)

    make_worker().run_once()

    # acme's grace period is 0 days; globex keeps its user for the default 30.
    assert _stored_user_names(db) == {"stays@acme.example", "deleted@globex.example"}


def test_housekeeping_runs_at_most_once_per_interval(
    db: Database, scim: ScimClient, make_worker: MakeWorker
) -> None:
    _grace(db, "acme", 0)
    worker = make_worker()
    worker.run_once()
    late = new_user(scim, "late@acme.example")
    assert scim.request("DELETE", f"/Users/{late}").status_code == 204
    worker.run_once()
    assert "late@acme.example" in _stored_user_names(db)
    make_worker(housekeeping_interval_seconds=0).run_once()
    assert "late@acme.example" not in _stored_user_names(db)
