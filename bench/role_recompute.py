"""Role recompute at scale: one rule mapping a 100k-member group (SQLite, or PostgreSQL).

Seeds a tenant with N users who are all members of one group (direct inserts
in scimgate's own row shape), then times, through scimgate's own service
code, what a tenant admin's actions cost:

* add a rule  "Engineering" -> tenant_admin   (every member changes role)
* recompute again with nothing to change       (the no-op path)
* turn on "deactivate users in no mapped group" and remove half the members
* remove the rule                              (everyone falls back to the default role)

Each step runs in one transaction and writes its events, as the API does.
Prints a table and one JSON line. Target (issue 7): under 5 s on SQLite at 100k.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from scimgate.model.entities import TenantSettings
from scimgate.service import lifecycle
from scimgate.service.tenants import create_tenant
from scimgate.storage.database import Database
from scimgate.storage.migrate import upgrade
from scimgate.storage.tables import events, group_members, groups, role_mappings, users

_BATCH = 5_000


def _seed(db: Database, tenant_id: int, size: int) -> str:
    now = datetime.now(UTC)
    group_id = str(uuid.uuid4())
    with db.engine.begin() as conn:
        conn.execute(
            groups.insert().values(
                id=group_id,
                tenant_id=tenant_id,
                display_name="Engineering",
                display_name_lower="engineering",
                external_id=None,
                created=now,
                last_modified=now,
                version=1,
                doc={"displayName": "Engineering"},
            )
        )
        for start in range(0, size, _BATCH):
            rows = []
            for n in range(start, min(start + _BATCH, size)):
                name = f"user{n}@example.com"
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "tenant_id": tenant_id,
                        "user_name": name,
                        "user_name_lower": name,
                        "external_id": None,
                        "display_name": None,
                        "active": True,
                        "created": now,
                        "last_modified": now,
                        "version": 1,
                        "doc": {"userName": name, "active": True},
                        "enabled": True,
                        "deactivation_reason": None,
                    }
                )
            conn.execute(users.insert(), rows)
            conn.execute(
                group_members.insert(),
                [
                    {"group_id": group_id, "member_id": r["id"], "tenant_id": tenant_id}
                    for r in rows
                ],
            )
    return group_id


def _event_count(db: Database, tenant_id: int) -> int:
    with db.engine.connect() as conn:
        query = (
            sa.select(sa.func.count()).select_from(events).where(events.c.tenant_id == tenant_id)
        )
        return int(conn.execute(query).scalar_one())


def _timed(
    label: str, step: Callable[[], object], results: list[dict[str, Any]], count: Callable[[], int]
) -> None:
    before = count()
    started = time.perf_counter()
    cpu = time.process_time()
    step()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    events = count() - before
    results.append(
        {
            "step": label,
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu, 3),
            "events": events,
        }
    )
    print(f"{label:<48} {seconds:8.3f} s {cpu:8.3f} s cpu {events:>8} events", flush=True)


def run(database_url: str, size: int) -> dict[str, Any]:
    upgrade(database_url)
    db = Database.from_url(database_url)
    tenant = create_tenant(db, f"bench-{uuid.uuid4().hex[:8]}")
    started = time.perf_counter()
    group_id = _seed(db, tenant.id, size)
    print(f"seeded {size} users in one group in {time.perf_counter() - started:.1f} s")
    results: list[dict[str, Any]] = []

    def count() -> int:
        return _event_count(db, tenant.id)

    settings = TenantSettings()

    def recompute(settings: TenantSettings, before: Callable[[Any], None] | None = None) -> None:
        """One transaction: ``before``, a whole-tenant recompute and its events."""
        with db.tenant(tenant.id, write=True) as repo:
            if before is not None:
                before(repo)
            lifecycle.emit(repo, lifecycle.recompute(repo, settings, None))

    _timed(
        "initial recompute (default role for everyone)", lambda: recompute(settings), results, count
    )

    def add_rule(repo: Any) -> None:
        repo.roles.add_rule("display_name", "Engineering", "tenant_admin", 10, datetime.now(UTC))

    _timed(
        "add rule Engineering -> tenant_admin",
        lambda: recompute(settings, add_rule),
        results,
        count,
    )
    _timed("recompute with nothing to change", lambda: recompute(settings), results, count)

    strict = TenantSettings(deactivate_unmapped=True)

    def remove_half(repo: Any) -> None:
        repo.groups.remove_members(
            group_id,
            list(
                db_members(repo, group_id)[: size // 2],
            ),
        )

    def db_members(repo: Any, gid: str) -> list[str]:
        return sorted(repo.groups.member_ids(gid))

    _timed(
        "deactivate-on-leave on, remove half the members",
        lambda: recompute(strict, remove_half),
        results,
        count,
    )

    def drop_rule(repo: Any) -> None:
        repo._conn.execute(role_mappings.delete().where(role_mappings.c.tenant_id == tenant.id))

    _timed(
        "remove the rule (deactivate-on-leave on)",
        lambda: recompute(strict, drop_rule),
        results,
        count,
    )
    db.dispose()
    return {"bench": "role_recompute", "database": db.dialect, "users": size, "steps": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        report = run(url, args.users)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
