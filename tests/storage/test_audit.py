"""The audit log is append-only: retention is its only removal."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import scimgate
from scimgate.model.entities import Tenant
from scimgate.service.audit import purge_expired
from scimgate.service.clock import utcnow
from scimgate.storage.audit import AuditFilter
from scimgate.storage.audit_writer import append_entries
from scimgate.storage.database import Database

SOURCE = Path(scimgate.__file__).parent


def _row(tenant_id: int, days_ago: float, status: int = 200) -> dict[str, object]:
    return {
        "occurred_at": utcnow() - timedelta(days=days_ago),
        "tenant_id": tenant_id,
        "token_id": None,
        "token_name": None,
        "idp": "okta",
        "method": "GET",
        "path": "/scim/v2/acme/Users",
        "resource_type": "User",
        "resource_id": None,
        "status": status,
        "scim_type": None,
        "detail": None,
        "duration_ms": 1.0,
        "change": None,
    }


def test_no_code_updates_or_deletes_audit_entries_except_the_retention_purge() -> None:
    writers = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        writers += [
            (path.name, m.group(0)) for m in re.finditer(r"audit_log\.(update|delete)\(", text)
        ]
        assert not re.search(r"(UPDATE|DELETE FROM)\s+audit_log", text, re.IGNORECASE), path
    assert writers == [("audit_writer.py", "audit_log.delete(")]
    storage = (SOURCE / "storage" / "audit_writer.py").read_text()
    assert storage.count("audit_log.delete(") == 1
    assert "def purge_older_than" in storage


def test_retention_removes_only_old_entries(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant = make_tenant("acme")
    append_entries(db, [_row(tenant.id, 100), _row(tenant.id, 10)])
    assert purge_expired(db, 90) == 1
    assert purge_expired(db, 0) == 0  # 0 keeps everything
    with db.tenant(tenant.id) as repo:
        assert len(repo.audit.page(AuditFilter(), 10)) == 1


def test_pages_filter_by_outcome_and_continue_from_a_cursor(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    tenant, other = make_tenant("acme"), make_tenant("other")
    append_entries(db, [_row(tenant.id, 0, s) for s in (200, 401, 201, 500)] + [_row(other.id, 0)])
    with db.tenant(tenant.id) as repo:
        failures = repo.audit.page(AuditFilter(outcome="failure"), 10)
        first = repo.audit.page(AuditFilter(), 2)
        rest = repo.audit.page(AuditFilter(before_id=first[-1].id), 10)
    assert [e.status for e in failures] == [500, 401]
    assert [e.status for e in first + rest] == [500, 201, 401, 200]
