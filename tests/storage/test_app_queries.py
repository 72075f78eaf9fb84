"""The name search reads the lowered-name indexes; the tenant list's activity query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from scimgate.model.entities import Tenant
from scimgate.service import app_view
from scimgate.service import groups as group_service
from scimgate.service import users as user_service
from scimgate.service.clock import utcnow
from scimgate.service.scope import Limits, TenantScope
from scimgate.service.tokens import IssuedToken
from scimgate.storage.app_queries import tenant_activity
from scimgate.storage.audit import append_entries
from scimgate.storage.database import Database

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)


def _plan(db: Database, statement: str, parameters: Any) -> str:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in rows)
        # A table of a few rows is read whole; without that option the plan shows
        # whether the range can be an index condition at all under this collation.
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + statement))


@pytest.mark.parametrize(
    ("column", "search"),
    [("user_name_lower", app_view.list_users), ("display_name_lower", app_view.list_groups)],
)
def test_a_name_search_is_a_range_on_the_lowered_name_index(
    db: Database,
    make_tenant: Callable[..., Tenant],
    column: str,
    search: Callable[..., Any],
) -> None:
    tenant = make_tenant("acme")
    scope = TenantScope.of(db, tenant, "https://x.test/scim/v2/acme", Limits())
    user_service.create_user(scope, {"schemas": [USER], "userName": "ann"})
    group_service.create_group(scope, {"schemas": [GROUP], "displayName": "Annex"})
    with _statements(db) as seen:
        search(db, tenant, search="ann")
    statement, parameters = next((s, p) for s, p in seen if f"{column} >=" in s)
    if db.dialect == "postgresql":
        statement = statement % {k: _quoted(v) for k, v in parameters.items()}
    plan = _plan(db, statement, parameters)
    if db.dialect == "sqlite":
        assert f"(tenant_id=? AND {column}>? AND {column}<?)" in plan, plan
        if column == "user_name_lower":  # groups re-sort their page after counting members
            assert "TEMP B-TREE" not in plan, plan  # the index order is the page order
    else:
        conditions = [line for line in plan.splitlines() if "Index Cond" in line]
        assert any(f"{column})::text >=" in c and f"{column})::text <" in c for c in conditions), (
            plan
        )


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


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
