"""Role rows: taking a user's roles reads that user's rows only."""

from __future__ import annotations

from scimgate.storage.database import Database
from scimgate.storage.roles import REVOKE_ALL


def test_revoking_a_users_roles_searches_by_user_not_by_tenant(db: Database) -> None:
    """With the tenant's (tenant_id, role_key, user_id) index, SQLite would walk every
    role row of the tenant to delete one user's."""
    sqlite = db.dialect == "sqlite"
    with db.engine.connect() as conn:
        if sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + REVOKE_ALL.sqlite, (1, "u1"))
            plan = "\n".join(str(row[-1]) for row in rows)
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + REVOKE_ALL.postgresql, (1, "u1"))
            plan = "\n".join(str(row[0]) for row in rows)
    assert ("(user_id=?)" if sqlite else "pk_user_roles") in plan, plan
