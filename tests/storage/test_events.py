"""The outbox store: a write's events are stored in the order it emits them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.events import NewEvent


@pytest.mark.parametrize("count", [1, 3, 32, 33, 200])
def test_events_are_stored_in_the_order_given(
    db: Database, make_tenant: Callable[..., Tenant], count: int
) -> None:
    """Small batches take one multi-row INSERT and large ones executemany; both keep order."""
    tenant = make_tenant("acme")
    new = [NewEvent("user.updated", "User", f"u{i}", {"n": i}) for i in range(count)]
    with db.tenant(tenant.id, write=True) as repo:
        repo.events.add(new, utcnow())
    with db.tenant(tenant.id) as repo:
        stored = repo.events.after(0, 1_000)
    assert [(e.resource_id, e.data) for e in stored] == [(e.resource_id, e.data) for e in new]
    assert len({e.id for e in stored}) == count
    assert len({e.occurred_at for e in stored}) == 1
