"""User rows of one tenant. Built only by TenantRepository, which supplies the tenant."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.errors import Uniqueness
from scimgate.model.filter import Expr
from scimgate.model.schemas import USER
from scimgate.storage._sql import chunks, insert_ignoring_conflicts
from scimgate.storage.filters import compile_filter, order_by
from scimgate.storage.rows import MemberRef, Page, UserRow
from scimgate.storage.tables import group_members, groups, users

_COLUMNS = (
    users.c.id,
    users.c.user_name,
    users.c.external_id,
    users.c.active,
    users.c.created,
    users.c.last_modified,
    users.c.version,
    users.c.doc,
)


def _row(row: Any) -> UserRow:
    return UserRow(
        id=row.id,
        user_name=row.user_name,
        external_id=row.external_id,
        active=row.active,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
        doc=row.doc,
    )


class UserStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id
        self._mine = users.c.tenant_id == tenant_id

    def insert(
        self,
        *,
        user_id: str,
        user_name: str,
        external_id: str | None,
        display_name: str | None,
        active: bool,
        now: datetime,
        doc: dict[str, Any],
    ) -> bool:
        """Insert a user; False when the userName is taken (case-insensitively)."""
        result = self._conn.execute(
            insert_ignoring_conflicts(self._conn, users).values(
                id=user_id,
                tenant_id=self._tenant_id,
                user_name=user_name,
                user_name_lower=user_name.lower(),
                external_id=external_id,
                display_name=display_name,
                active=active,
                created=now,
                last_modified=now,
                version=1,
                doc=doc,
            )
        )
        return bool(result.rowcount)

    def get(self, user_id: str) -> UserRow | None:
        row = self._conn.execute(
            sa.select(*_COLUMNS).where(self._mine, users.c.id == user_id)
        ).first()
        return _row(row) if row else None

    def update(
        self,
        user_id: str,
        expected_version: int,
        *,
        user_name: str,
        external_id: str | None,
        display_name: str | None,
        active: bool,
        now: datetime,
        doc: dict[str, Any],
    ) -> bool:
        """Write a new state if the row is still at ``expected_version``; False if it moved on."""
        lowered = user_name.lower()
        clash = self._conn.execute(
            sa.select(users.c.id).where(
                self._mine, users.c.user_name_lower == lowered, users.c.id != user_id
            )
        ).first()
        if clash is not None:
            raise Uniqueness(f"userName {user_name!r} is already taken")
        try:
            result = self._conn.execute(
                users.update()
                .where(self._mine, users.c.id == user_id, users.c.version == expected_version)
                .values(
                    user_name=user_name,
                    user_name_lower=lowered,
                    external_id=external_id,
                    display_name=display_name,
                    active=active,
                    last_modified=now,
                    version=expected_version + 1,
                    doc=doc,
                )
            )
        except sa.exc.IntegrityError as exc:  # a concurrent writer took the name
            raise Uniqueness(f"userName {user_name!r} is already taken") from exc
        return bool(result.rowcount)

    def delete(self, user_id: str, now: datetime) -> bool:
        # The groups the user leaves change too: bump their versions first,
        # then the membership rows go with the user (ON DELETE CASCADE).
        self._conn.execute(
            groups.update()
            .where(
                groups.c.tenant_id == self._tenant_id,
                groups.c.id.in_(
                    sa.select(group_members.c.group_id).where(group_members.c.member_id == user_id)
                ),
            )
            .values(version=groups.c.version + 1, last_modified=now)
        )
        result = self._conn.execute(users.delete().where(self._mine, users.c.id == user_id))
        return bool(result.rowcount)

    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(ids):
            found.update(
                self._conn.execute(
                    sa.select(users.c.id).where(self._mine, users.c.id.in_(part))
                ).scalars()
            )
        return found

    def groups_of(self, user_ids: list[str]) -> dict[str, list[MemberRef]]:
        """The groups each user belongs to (RFC 7643 §4.1.2 ``groups``)."""
        result: dict[str, list[MemberRef]] = defaultdict(list)
        for part in chunks(user_ids):
            rows = self._conn.execute(
                sa.select(group_members.c.member_id, groups.c.id, groups.c.display_name)
                .join(groups, groups.c.id == group_members.c.group_id)
                .where(
                    group_members.c.tenant_id == self._tenant_id,
                    group_members.c.member_id.in_(part),
                )
                .order_by(group_members.c.member_id, groups.c.display_name_lower)
            )
            for member_id, group_id, display in rows:
                result[member_id].append(MemberRef(group_id, display))
        return result

    def page(
        self,
        filter_expr: Expr | None,
        sort_by: str | None,
        descending: bool,
        offset: int,
        limit: int,
    ) -> Page:
        """One page in SQL: filter, stable order (ties broken by id), offset, limit."""
        conditions = [self._mine]
        if filter_expr is not None:
            conditions.append(compile_filter(filter_expr, USER))
        total = self._conn.execute(
            sa.select(sa.func.count()).select_from(users).where(*conditions)
        ).scalar_one()
        if limit <= 0 or offset >= total:
            return Page(total=total, rows=[])
        order = (
            order_by(USER, sort_by, descending)
            if sort_by
            else [users.c.id.desc() if descending else users.c.id]
        )
        rows = self._conn.execute(
            sa.select(*_COLUMNS).where(*conditions).order_by(*order).offset(offset).limit(limit)
        )
        return Page(total=total, rows=[_row(row) for row in rows])
