"""The operator's tenant list reads every tenant's tokens and recent requests at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from scimgate.model.entities import Tenant
from scimgate.service.clock import utcnow
from scimgate.service.tokens import IssuedToken
from scimgate.storage.audit_writer import append_entries
from scimgate.storage.database import Database
from scimgate.storage.tenant_activity import tenant_activity


def _log(db: Database, tenant: Tenant, *, hours_ago: float, status: int = 200) -> None:
    append_entries(
        db,
        [
            {
                "occurred_at": utcnow() - timedelta(hours=hours_ago),
                "tenant_id": tenant.id,
                "token_id": None,
                "token_name": "t",
                "idp": "okta",
                "method": "GET",
                "path": "/scim/v2/x/Users",
                "resource_type": "User",
                "resource_id": None,
                "status": status,
                "scim_type": None,
                "detail": None,
                "duration_ms": 1.0,
                "change": None,
            }
        ],
    )


def test_tenant_activity_reads_tokens_last_request_and_recent_failures(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    quiet, busy, failing, old_failure = (
        make_tenant(slug) for slug in ("quiet", "busy", "failing", "old-failure")
    )
    make_token("busy", "first")
    make_token("busy", "second")
    # Oldest first, as the recorder writes them (ids follow time).
    _log(db, failing, hours_ago=30, status=500)
    _log(db, old_failure, hours_ago=30, status=500)
    _log(db, busy, hours_ago=3)
    _log(db, failing, hours_ago=2, status=401)
    _log(db, old_failure, hours_ago=2)
    _log(db, busy, hours_ago=1)
    _log(db, failing, hours_ago=1)
    since = utcnow() - timedelta(hours=24)
    found = tenant_activity(db, [quiet.id, busy.id, failing.id, old_failure.id], since)
    assert found[quiet.id].tokens == []
    assert found[quiet.id].last_request_at is None
    assert [t.name for t in found[busy.id].tokens] == ["first", "second"]
    last = found[busy.id].last_request_at
    assert last is not None
    assert timedelta(minutes=59) < utcnow() - last < timedelta(minutes=61)
    assert {tid: a.failed_since for tid, a in found.items()} == {
        quiet.id: False,
        busy.id: False,
        failing.id: True,
        old_failure.id: False,
    }
    assert tenant_activity(db, [busy.id], since).keys() == {busy.id}
