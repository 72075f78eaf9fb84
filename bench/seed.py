"""Seed scimgate's database directly, for the --scale mode.

Creating 100,000 users over HTTP takes minutes and measures nothing the
default run does not; the scale mode is about the cost of one request at a
given size. So rows go in through SQLAlchemy, in the shape scimgate writes
them (tables in ``scimgate.storage.tables``), while the server keeps running:
SQLite in WAL mode lets the server read while the bench writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from payloads import user_document, user_name
from scimgate.storage.engine import make_engine
from scimgate.storage.tables import group_members, users

_BATCH = 5_000
# The keys of a User document as scimgate stores it (no id, meta, schemas).
_DEFAULT_DOC_KEYS = frozenset({"userName", "name", "emails", "displayName", "externalId", "active"})


class DirectSeeder:
    def __init__(self, database_url: str, tenant_id: int) -> None:
        self._engine = make_engine(database_url, pool_size=2)
        self._tenant_id = tenant_id
        self.doc_keys: frozenset[str] = _DEFAULT_DOC_KEYS

    def close(self) -> None:
        self._engine.dispose()

    def analyze(self) -> None:
        """``VACUUM ANALYZE`` on PostgreSQL, as autovacuum would soon after a bulk load.

        Without statistics the planner guesses and may sort the whole tenant for
        every page; without the visibility map VACUUM sets, it cannot page
        through an index alone (the deepest SCIM page of 100k users: 210 ms
        instead of 22 ms). SQLite is left as scimgate runs it (no ANALYZE).
        """
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM needs it
                for table in (users, group_members):
                    conn.execute(sa.text(f"VACUUM ANALYZE {table.name}"))

    def learn_doc_shape(self, user_id: str) -> None:
        """Store docs with the keys scimgate itself kept for a user created over HTTP."""
        with self._engine.connect() as conn:
            doc = conn.execute(sa.select(users.c.doc).where(users.c.id == user_id)).scalar()
        if isinstance(doc, dict) and doc:
            self.doc_keys = frozenset(doc)

    def insert_users(self, run: str, numbers: Iterable[int]) -> list[tuple[int, str]]:
        """Insert users ``numbers`` (same names as over HTTP); returns (number, id) pairs."""
        created: list[tuple[int, str]] = []
        batch: list[dict[str, Any]] = []
        for number in numbers:
            user_id = str(uuid.uuid4())
            batch.append(self._user_row(run, number, user_id))
            created.append((number, user_id))
            if len(batch) >= _BATCH:
                self._insert(users, batch)
                batch = []
        if batch:
            self._insert(users, batch)
        return created

    def insert_members(self, group_id: str, member_ids: list[str]) -> None:
        for start in range(0, len(member_ids), _BATCH):
            rows = [
                {"group_id": group_id, "member_id": m, "tenant_id": self._tenant_id}
                for m in member_ids[start : start + _BATCH]
            ]
            self._insert(group_members, rows)

    def _user_row(self, run: str, number: int, user_id: str) -> dict[str, Any]:
        document = user_document(run, number)
        now = datetime.now(UTC)
        name = user_name(run, number)
        return {
            "id": user_id,
            "tenant_id": self._tenant_id,
            "user_name": name,
            "user_name_lower": name.lower(),
            "external_id": document["externalId"],
            "display_name": document["displayName"],
            "active": True,
            "created": now,
            "last_modified": now,
            "version": 1,
            "doc": {k: v for k, v in document.items() if k in self.doc_keys},
        }

    def _insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        with self._engine.begin() as conn:
            conn.execute(table.insert(), rows)
