"""``scimgate db check``: is this database fit to serve, after a restore or an upgrade?

Three checks: the schema is at the newest migration, the database reports
no integrity problem, and what every tenant holds is counted so the operator
can compare a restored copy with its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.integrity import (
    TenantCounts,
    integrity_problems,
    schema_revisions,
    tenant_counts,
)

__all__ = ["DatabaseCheck", "TenantCounts", "check_database"]


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    current_revision: str | None  # None: no migration ever ran on this database
    head_revision: str | None
    problems: list[str] = field(default_factory=list)
    tenants: list[TenantCounts] = field(default_factory=list)
    global_webhooks: int = 0

    @property
    def upgrade_due(self) -> bool:
        return self.current_revision != self.head_revision

    @property
    def ok(self) -> bool:
        return not self.upgrade_due and not self.problems


def check_database(db: Database) -> DatabaseCheck:
    """Run every check; counts are skipped when a table is missing, since they would fail too."""
    current, head = schema_revisions(db)
    problems = integrity_problems(db)
    if any(problem.startswith("table ") for problem in problems):
        return DatabaseCheck(current, head, problems)
    counts, global_webhooks = tenant_counts(db, utcnow())
    return DatabaseCheck(current, head, problems, counts, global_webhooks)
