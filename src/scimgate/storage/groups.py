"""Group rows and membership rows of one tenant. Built only by TenantRepository.

Membership is one row per (group, member): adding or removing members is an
insert or a delete of just those rows, never a rewrite of a member list, so it
costs the same at 10 or 100,000 members and concurrent changes cannot lose
each other's members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.errors import InvalidValue, Uniqueness
from scimgate.model.filter import Expr
from scimgate.model.schemas import GROUP
from scimgate.storage._sql import chunks, insert_ignoring_conflicts
from scimgate.storage.driver import (
    DriverSql,
    execute,
    fetch_all,
    fetch_one,
    integrity_error,
    is_sqlite,
    json_param,
    json_value,
    required_timestamp,
    timestamp_param,
)
from scimgate.storage.filters import select_page
from scimgate.storage.rows import GroupRow, MemberRef, Page
from scimgate.storage.tables import group_members, groups, users

GROUP_COLUMNS = (
    groups.c.id,
    groups.c.display_name,
    groups.c.external_id,
    groups.c.created,
    groups.c.last_modified,
    groups.c.version,
    groups.c.doc,
)


# What every GET and single-member PATCH of a group runs, on the driver (see storage/driver.py).
_INSERT = DriverSql(
    "INSERT INTO groups (id, tenant_id, display_name, display_name_lower, external_id,"
    " created, last_modified, version, doc) VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_GET = DriverSql(
    "SELECT id, display_name, external_id, created, last_modified, version, doc"
    " FROM groups WHERE tenant_id = %s AND id = %s"
)
_BUMP = DriverSql(
    "UPDATE groups SET version = version + 1, last_modified = %s WHERE tenant_id = %s AND id = %s"
)
_ADD_ONE = DriverSql(
    "INSERT INTO group_members (group_id, member_id, tenant_id) VALUES (%s, %s, %s)"
    " ON CONFLICT DO NOTHING RETURNING member_id"
)
_REMOVE_ONE = DriverSql(
    "DELETE FROM group_members WHERE tenant_id = %s AND group_id = %s AND member_id = %s"
    " RETURNING member_id"
)


def group_from_row(row: Any) -> GroupRow:
    return GroupRow(
        id=row.id,
        display_name=row.display_name,
        external_id=row.external_id,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
        doc=row.doc,
    )


def group_from_driver_row(row: Sequence[Any]) -> GroupRow:
    """A ``_GET`` row (id, display_name, external_id, created, last_modified, version, doc)
    from the driver, converted as the Core column types would."""
    return GroupRow(
        id=row[0],
        display_name=row[1],
        external_id=row[2],
        created=required_timestamp(row[3]),
        last_modified=required_timestamp(row[4]),
        version=row[5],
        doc=json_value(row[6]),
    )


class GroupStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    @property
    def _mine(self) -> sa.ColumnElement[bool]:
        # Built on use: a repository is made per transaction (see UserStore._mine).
        return groups.c.tenant_id == self._tenant_id

    def insert(
        self,
        *,
        group_id: str,
        display_name: str,
        external_id: str | None,
        now: datetime,
        doc: dict[str, Any],
    ) -> bool:
        """Insert a group; False when the displayName is taken (case-insensitively).

        On the driver: the Core insert built nine bind parameters per call, about a
        third of a group create's CPU.
        """
        moment = timestamp_param(now, is_sqlite(self._conn))
        params = (
            group_id,
            self._tenant_id,
            display_name,
            display_name.lower(),
            external_id,
            moment,
            moment,
            json_param(doc),
        )
        # rowcount is unreliable for ON CONFLICT DO NOTHING on psycopg; RETURNING is not.
        return fetch_one(self._conn, _INSERT, params) is not None

    def get(self, group_id: str) -> GroupRow | None:
        if "\x00" in group_id:  # no id holds NUL, and PostgreSQL text refuses it
            return None
        row = fetch_one(self._conn, _GET, (self._tenant_id, group_id))
        return None if row is None else group_from_driver_row(row)

    def update(
        self,
        group_id: str,
        expected_version: int | None,
        *,
        display_name: str,
        external_id: str | None,
        now: datetime,
        doc: dict[str, Any],
    ) -> bool:
        """Write a new state if the row is still at ``expected_version`` (any version when
        None); False if it moved on."""
        lowered = display_name.lower()
        clash = self._conn.execute(
            sa.select(groups.c.id).where(
                self._mine, groups.c.display_name_lower == lowered, groups.c.id != group_id
            )
        ).first()
        if clash is not None:
            raise Uniqueness(f"a group named {display_name!r} already exists")
        try:
            conditions = [self._mine, groups.c.id == group_id]
            if expected_version is not None:
                conditions.append(groups.c.version == expected_version)
            result = self._conn.execute(
                groups.update()
                .where(*conditions)
                .values(
                    display_name=display_name,
                    display_name_lower=lowered,
                    external_id=external_id,
                    last_modified=now,
                    version=groups.c.version + 1,
                    doc=doc,
                )
            )
        except sa.exc.IntegrityError as exc:
            raise Uniqueness(f"a group named {display_name!r} already exists") from exc
        return bool(result.rowcount)

    def bump(self, group_id: str, now: datetime) -> None:
        """Advance the version after a membership change (an atomic increment)."""
        moment = timestamp_param(now, is_sqlite(self._conn))
        execute(self._conn, _BUMP, (moment, self._tenant_id, group_id))

    def delete(self, group_id: str) -> bool:
        result = self._conn.execute(groups.delete().where(self._mine, groups.c.id == group_id))
        return bool(result.rowcount)

    # -- membership rows -----------------------------------------------------------

    def add_members(self, group_id: str, member_ids: list[str]) -> list[str]:
        """Insert membership rows, ignoring existing ones; returns the ids that were new."""
        if not member_ids:  # a group created without members: no statement to build
            return []
        if len(member_ids) == 1:  # the IdP's usual single-member PATCH
            try:
                new = fetch_all(self._conn, _ADD_ONE, (group_id, member_ids[0], self._tenant_id))
            except integrity_error(self._conn) as exc:  # the user was deleted meanwhile
                raise InvalidValue("a member to add no longer exists") from exc
            return [member for (member,) in new]
        added: list[str] = []
        statement = insert_ignoring_conflicts(self._conn, group_members).returning(
            group_members.c.member_id
        )
        for part in chunks(member_ids):
            try:
                result = self._conn.execute(
                    statement,
                    [
                        {"group_id": group_id, "member_id": m, "tenant_id": self._tenant_id}
                        for m in part
                    ],
                )
            except sa.exc.IntegrityError as exc:  # the user was deleted meanwhile
                raise InvalidValue("a member to add no longer exists") from exc
            added.extend(result.scalars())
        return added

    def remove_members(self, group_id: str, member_ids: list[str]) -> list[str]:
        """Delete these membership rows; returns the ids that were members."""
        if len(member_ids) == 1:
            gone = fetch_all(self._conn, _REMOVE_ONE, (self._tenant_id, group_id, member_ids[0]))
            return [member for (member,) in gone]
        removed: list[str] = []
        for part in chunks(member_ids):
            result = self._conn.execute(
                group_members.delete()
                .where(
                    group_members.c.tenant_id == self._tenant_id,
                    group_members.c.group_id == group_id,
                    group_members.c.member_id.in_(part),
                )
                .returning(group_members.c.member_id)
            )
            removed.extend(result.scalars())
        return removed

    def remove_all_members(self, group_id: str) -> list[str]:
        result = self._conn.execute(
            group_members.delete()
            .where(
                group_members.c.tenant_id == self._tenant_id,
                group_members.c.group_id == group_id,
            )
            .returning(group_members.c.member_id)
        )
        return list(result.scalars())

    def member_ids(self, group_id: str) -> set[str]:
        return set(
            self._conn.execute(
                sa.select(group_members.c.member_id).where(
                    group_members.c.tenant_id == self._tenant_id,
                    group_members.c.group_id == group_id,
                )
            ).scalars()
        )

    def members_of(self, group_ids: list[str]) -> dict[str, list[MemberRef]]:
        """Members with their display names, per group, in a stable order."""
        result: dict[str, list[MemberRef]] = defaultdict(list)
        for part in chunks(group_ids):
            for group_id, member in self._member_rows(part):
                result[group_id].append(member)
        return result

    def _member_rows(self, group_ids: Any) -> Iterator[tuple[str, MemberRef]]:
        rows = self._conn.execute(
            sa.select(group_members.c.group_id, users.c.id, users.c.display_name)
            .join(users, users.c.id == group_members.c.member_id)
            .where(
                group_members.c.tenant_id == self._tenant_id,
                group_members.c.group_id.in_(group_ids),
            )
            .order_by(group_members.c.group_id, group_members.c.member_id)
        )
        for group_id, member_id, display in rows:
            yield group_id, MemberRef(member_id, display)

    def page(
        self,
        filter_expr: Expr | None,
        sort_by: str | None,
        descending: bool,
        offset: int,
        limit: int,
    ) -> Page:
        total, rows = select_page(
            self._conn,
            GROUP,
            GROUP_COLUMNS,
            self._mine,
            filter_expr,
            sort_by,
            descending,
            offset,
            limit,
        )
        return Page(total=total, rows=[group_from_row(row) for row in rows])
