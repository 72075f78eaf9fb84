"""The name search reads the lowered-name indexes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from scimgate.model.entities import Tenant
from scimgate.service import app_view
from scimgate.service import groups as group_service
from scimgate.service import users as user_service
from scimgate.service.scope import Limits, TenantScope
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
