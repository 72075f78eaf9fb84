"""One tenant's audit log and the counts its status page shows (reads only).

Built only by TenantRepository (``repo.audit``), which supplies the tenant.
Entries are written and purged across tenants by ``storage.audit_writer``
(sign-in entries by ``storage.sso``, in the sign-in's transaction);
there is deliberately no update and no delete of single entries anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.storage.tables import audit_log, groups, users

_OUTCOME_OK = audit_log.c.status < 400
# Sign-in attempts (single sign-on) share the log; provisioning status is about SCIM only.
SIGN_IN = "SignIn"
_SCIM_ONLY = sa.or_(audit_log.c.resource_type.is_(None), audit_log.c.resource_type != SIGN_IN)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    token_id: str | None
    token_name: str | None
    idp: str
    method: str
    path: str
    resource_type: str | None
    resource_id: str | None
    status: int
    scim_type: str | None
    detail: str | None
    duration_ms: float
    change: str | None

    @property
    def succeeded(self) -> bool:
        return self.status < 400


@dataclass(frozen=True, slots=True)
class AuditFilter:
    idp: str | None = None
    outcome: str | None = None  # "success" or "failure"
    resource_type: str | None = None
    since: datetime | None = None
    before_id: int | None = None  # cursor: entries older than this id
    scim_only: bool = False  # leave out sign-in attempts


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        occurred_at=row.occurred_at,
        token_id=row.token_id,
        token_name=row.token_name,
        idp=row.idp,
        method=row.method,
        path=row.path,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        status=row.status,
        scim_type=row.scim_type,
        detail=row.detail,
        duration_ms=row.duration_ms,
        change=row.change,
    )


class AuditStore:
    """One tenant's audit entries and the counts the status page shows (reads only)."""

    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    @property
    def _mine(self) -> sa.ColumnElement[bool]:
        # Built on use: every SCIM request makes a repository, few read the audit
        # log, and building this expression is a visible share of a GET.
        return audit_log.c.tenant_id == self._tenant_id

    def page(self, where: AuditFilter, limit: int) -> list[AuditEntry]:
        """Newest first; ``where.before_id`` continues after the previous page's last id."""
        query = sa.select(audit_log).where(self._mine)
        if where.idp:
            query = query.where(audit_log.c.idp == where.idp)
        if where.outcome == "success":
            query = query.where(_OUTCOME_OK)
        elif where.outcome == "failure":
            query = query.where(sa.not_(_OUTCOME_OK))
        if where.resource_type:
            query = query.where(audit_log.c.resource_type == where.resource_type)
        if where.since is not None:
            query = query.where(audit_log.c.occurred_at >= where.since)
        if where.before_id is not None:
            query = query.where(audit_log.c.id < where.before_id)
        if where.scim_only:
            query = query.where(_SCIM_ONLY)
        query = query.order_by(audit_log.c.id.desc()).limit(limit)
        return [_entry(row) for row in self._conn.execute(query)]

    def latest(
        self, *, failures_only: bool = False, since: datetime | None = None
    ) -> AuditEntry | None:
        """The newest SCIM request (sign-in attempts left out), or the newest failed one."""
        where = AuditFilter(
            outcome="failure" if failures_only else None, since=since, scim_only=True
        )
        found = self.page(where, 1)
        return found[0] if found else None

    def counts_since(self, since: datetime) -> list[tuple[str, str | None, bool, int]]:
        """(method, resource_type, succeeded, count) for SCIM requests since ``since``."""
        ok = sa.case((_OUTCOME_OK, True), else_=False).label("ok")
        query = (
            sa.select(audit_log.c.method, audit_log.c.resource_type, ok, sa.func.count())
            .where(self._mine, audit_log.c.occurred_at >= since, _SCIM_ONLY)
            .group_by(audit_log.c.method, audit_log.c.resource_type, ok)
        )
        return [(r[0], r[1], bool(r[2]), int(r[3])) for r in self._conn.execute(query)]

    def idps_seen(self) -> list[str]:
        query = sa.select(audit_log.c.idp).where(self._mine).distinct().order_by(audit_log.c.idp)
        return [row.idp for row in self._conn.execute(query)]

    def resource_counts(self) -> dict[str, int]:
        """Users active / deactivated (soft-deleted ones excluded) and groups."""
        live = sa.and_(users.c.tenant_id == self._tenant_id, users.c.deleted_at.is_(None))
        rows = self._conn.execute(
            sa.select(users.c.active, sa.func.count()).where(live).group_by(users.c.active)
        )
        by_active = {bool(r[0]): int(r[1]) for r in rows}
        group_count = self._conn.execute(
            sa.select(sa.func.count()).where(groups.c.tenant_id == self._tenant_id)
        ).scalar_one()
        return {
            "users_active": by_active.get(True, 0),
            "users_deactivated": by_active.get(False, 0),
            "groups": int(group_count),
        }
