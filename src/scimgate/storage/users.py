"""User rows of one tenant. Built only by TenantRepository, which supplies the tenant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.errors import Uniqueness
from scimgate.model.filter import Expr
from scimgate.model.identity import fold_user_name
from scimgate.model.lifecycle import DELETED
from scimgate.model.schemas import USER
from scimgate.storage._sql import chunks
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
from scimgate.storage.filters import select_page, user_name_equals
from scimgate.storage.roles import REVOKE_ALL
from scimgate.storage.rows import MemberRef, Page, UserRow, user_snapshot
from scimgate.storage.tables import users

_WHOLE_TENANT = 5_000

USER_COLUMNS = (
    users.c.id,
    users.c.user_name,
    users.c.external_id,
    users.c.active,
    users.c.created,
    users.c.last_modified,
    users.c.version,
    users.c.doc,
    users.c.enabled,
    users.c.deactivation_reason,
)


# The statements every SCIM request on a user runs, on the driver (see storage/driver.py).
_SELECT = (
    "SELECT id, user_name, external_id, active, created, last_modified, version, doc,"
    " enabled, deactivation_reason FROM users"
)
_GET = DriverSql(f"{_SELECT} WHERE tenant_id = %s AND deleted_at IS NULL AND id = %s")
# PostgreSQL: lock the row for a read-modify-write, so concurrent PATCHes queue
# instead of racing (SQLite writers already queue on BEGIN IMMEDIATE).
_GET_FOR_UPDATE_PG = DriverSql(
    f"{_SELECT} WHERE tenant_id = %s AND deleted_at IS NULL AND id = %s FOR UPDATE"
)


def groups_subquery(sqlite: bool, user: str) -> str:
    """A scalar subquery: the groups of the user row ``user`` (an alias or table name) as
    one JSON array of [id, displayName, folded displayName] triples; ``member_refs`` reads it.

    The order is ``groups_of``'s, restored in Python (SQLite before 3.44 cannot order an
    aggregate). Read in the same statement as the user: a write to a user never changes
    its memberships, so what is read before the write is also what follows it.
    """
    aggregate = (
        "json_group_array(json_array(g.id, g.display_name, g.display_name_lower))"
        if sqlite
        else "json_agg(json_build_array(g.id, g.display_name, g.display_name_lower))"
    )
    return (
        f"(SELECT {aggregate} FROM group_members m JOIN groups g ON g.id = m.group_id"
        f" WHERE m.tenant_id = {user}.tenant_id AND m.member_id = {user}.id)"
    )


def member_refs(value: Any) -> list[MemberRef]:
    """The groups a ``groups_subquery`` column holds, in ``groups_of``'s order."""
    triples = json_value(value) if value is not None else None  # json_agg of none is NULL
    if not triples:
        return []
    triples.sort(key=lambda triple: triple[2])
    return [MemberRef(group_id, display) for group_id, display, _ in triples]


_WITH_GROUPS = (
    "SELECT id, user_name, external_id, active, created, last_modified, version, doc,"
    " enabled, deactivation_reason, {groups} FROM users"
    " WHERE tenant_id = %s AND deleted_at IS NULL AND id = %s"
)
_WITH_GROUPS_SQLITE = _WITH_GROUPS.format(groups=groups_subquery(True, "users"))
_WITH_GROUPS_PG = _WITH_GROUPS.format(groups=groups_subquery(False, "users"))
_GET_WITH_GROUPS_SQLITE = DriverSql(_WITH_GROUPS_SQLITE)
_GET_WITH_GROUPS_PG = DriverSql(_WITH_GROUPS_PG)
_GET_WITH_GROUPS_FOR_UPDATE_PG = DriverSql(_WITH_GROUPS_PG + " FOR UPDATE OF users")
_PURGE_NAME = DriverSql(
    "DELETE FROM users WHERE tenant_id = %s AND user_name_lower = %s AND deleted_at IS NOT NULL"
)
# RETURNING, not rowcount: psycopg's rowcount is unreliable for ON CONFLICT DO NOTHING.
_INSERT = DriverSql(
    "INSERT INTO users (id, tenant_id, user_name, user_name_lower, external_id, display_name,"
    " active, created, last_modified, version, doc, enabled, deactivation_reason)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s, %s, %s)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_NAME_CLASH = DriverSql(
    "SELECT id FROM users WHERE tenant_id = %s AND deleted_at IS NULL"
    " AND user_name_lower = %s AND id <> %s LIMIT 1"
)


def _update(renamed: bool, external_id_changed: bool) -> DriverSql:
    # The indexed columns are set only when they change: SQLite rewrites an index
    # entry for every indexed column an UPDATE sets, even to the value it holds,
    # which is a page more in the commit for each (bench/statements.py counts them).
    indexed = (", user_name_lower = %s" if renamed else "") + (
        ", external_id = %s" if external_id_changed else ""
    )
    return DriverSql(
        f"UPDATE users SET user_name = %s{indexed},"
        " display_name = %s, active = %s, last_modified = %s, version = %s, doc = %s,"
        " enabled = %s, deactivation_reason = %s"
        " WHERE tenant_id = %s AND deleted_at IS NULL AND id = %s AND version = %s"
    )


# By (renamed, external_id_changed).
_UPDATES = {(r, e): _update(r, e) for r in (False, True) for e in (False, True)}
_BY_NAME = DriverSql(
    f"{_SELECT} WHERE tenant_id = %s AND deleted_at IS NULL AND user_name_lower = %s"
)
_EXISTS = DriverSql("SELECT id FROM users WHERE tenant_id = %s AND deleted_at IS NULL AND id = %s")
_MEMBER_OF = "SELECT group_id FROM group_members WHERE tenant_id = %s AND member_id = %s"
_LOCK_GROUPS_OF_MEMBER = DriverSql(
    "SELECT id FROM groups WHERE id IN (" + _MEMBER_OF + ") AND tenant_id = %s"
    " ORDER BY id FOR UPDATE"
)
_BUMP_GROUPS = "UPDATE groups SET version = version + 1, last_modified = %s WHERE tenant_id = %s"
_BUMP_GROUPS_PG = DriverSql(_BUMP_GROUPS + " AND id = ANY(%s)")
_LEAVE_GROUPS = DriverSql(
    "DELETE FROM group_members WHERE tenant_id = %s AND member_id = %s RETURNING group_id"
)
# Both return what the delete's checks and events need (``Removed``), so no
# SELECT comes first; not the document, which they never read.
_RETURNING = " RETURNING id, user_name, external_id, display_name, active, version"
_DELETE = DriverSql(
    "DELETE FROM users WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL" + _RETURNING
)
_SOFT_DELETE = (
    f"UPDATE users SET deleted_at = %s, enabled = FALSE, deactivation_reason = '{DELETED}',"
    " last_modified = %s WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL" + _RETURNING
)
# The soft delete also says whether the user holds any membership or role, so
# the DELETEs of those rows run only when they have something to delete.
_HAS_MEMBERSHIPS = "EXISTS (SELECT 1 FROM group_members WHERE member_id = users.id)"
_HAS_ROLES = "EXISTS (SELECT 1 FROM user_roles WHERE user_id = users.id)"
_SOFT_DELETE_SQLITE = DriverSql(f"{_SOFT_DELETE}, {_HAS_MEMBERSHIPS}, {_HAS_ROLES}")
# PostgreSQL: the memberships are removed before (see ``remove``).
_SOFT_DELETE_PG = DriverSql(f"{_SOFT_DELETE}, FALSE, {_HAS_ROLES}")
_SNAPSHOT = DriverSql(
    "SELECT id, user_name, external_id, display_name, active, enabled, deactivation_reason"
    " FROM users WHERE tenant_id = %s AND id = %s"
)


_GROUPS_OF = (
    "SELECT m.member_id, g.id, g.display_name FROM group_members m"
    " JOIN groups g ON g.id = m.group_id WHERE m.tenant_id = %s AND m.member_id IN ({})"
    " ORDER BY m.member_id, g.display_name_lower"
)


@dataclass(frozen=True, slots=True)
class Removed:
    """A deleted user: the version it had, its snapshot as deleted (disabled,
    reason ``deleted``), the groups it was removed from, by id, and the role
    keys it lost, sorted."""

    version: int
    snapshot: dict[str, Any]
    left_groups: list[str]
    roles: list[str]


def _removed(row: Any, group_ids: list[str], roles: list[str]) -> Removed:
    """``Removed`` from a row of ``_RETURNING``."""
    snapshot = user_snapshot((*row[:5], False, DELETED))
    return Removed(row[5], snapshot, group_ids, roles)


def user_from_driver_row(row: Sequence[Any]) -> UserRow:
    """A ``_SELECT`` row from the driver, converted as the Core column types would."""
    return UserRow(
        id=row[0],
        user_name=row[1],
        external_id=row[2],
        active=bool(row[3]),
        created=required_timestamp(row[4]),
        last_modified=required_timestamp(row[5]),
        version=row[6],
        doc=json_value(row[7]),
        enabled=bool(row[8]),
        deactivation_reason=row[9],
    )


def user_from_row(row: Any) -> UserRow:
    return UserRow(
        id=row.id,
        user_name=row.user_name,
        external_id=row.external_id,
        active=row.active,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
        doc=row.doc,
        enabled=row.enabled,
        deactivation_reason=row.deactivation_reason,
    )


class UserStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    @property
    def _mine(self) -> sa.ColumnElement[bool]:
        # Soft-deleted users no longer exist as far as SCIM is concerned. Built
        # on use, not in __init__: a repository is made per transaction and most
        # never run a Core statement on users, so most would build it for nothing.
        return sa.and_(users.c.tenant_id == self._tenant_id, users.c.deleted_at.is_(None))

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
        enabled: bool = True,
        deactivation_reason: str | None = None,
    ) -> bool:
        """Insert a user; False when the userName is taken (as ``fold_user_name`` compares).

        A soft-deleted user holding the name is purged and the insert retried:
        for SCIM that user is gone, and an IdP re-creating the name must not get a 409.
        """
        lowered = fold_user_name(user_name)
        moment = timestamp_param(now, is_sqlite(self._conn))
        params = (
            user_id,
            self._tenant_id,
            user_name,
            lowered,
            external_id,
            display_name,
            active,
            moment,
            moment,
            json_param(doc),
            enabled,
            deactivation_reason,
        )
        if fetch_one(self._conn, _INSERT, params) is not None:
            return True
        # The name is taken. Purge only now, as few creates meet a soft-deleted
        # holder: an INSERT that gives way costs less than a DELETE before every one.
        if not execute(self._conn, _PURGE_NAME, (self._tenant_id, lowered)).rowcount:
            return False
        return fetch_one(self._conn, _INSERT, params) is not None

    def get(self, user_id: str, *, for_update: bool = False) -> UserRow | None:
        if "\x00" in user_id:  # no id holds NUL, and PostgreSQL text refuses it
            return None
        statement = _GET_FOR_UPDATE_PG if for_update and not is_sqlite(self._conn) else _GET
        row = fetch_one(self._conn, statement, (self._tenant_id, user_id))
        return user_from_driver_row(row) if row else None

    def get_with_groups(
        self, user_id: str, *, for_update: bool = False
    ) -> tuple[UserRow, list[MemberRef]] | None:
        """``get`` and the user's ``groups_of``, in one statement."""
        if "\x00" in user_id:
            return None
        if is_sqlite(self._conn):
            statement = _GET_WITH_GROUPS_SQLITE
        else:
            statement = _GET_WITH_GROUPS_FOR_UPDATE_PG if for_update else _GET_WITH_GROUPS_PG
        row = fetch_one(self._conn, statement, (self._tenant_id, user_id))
        if row is None:
            return None
        return user_from_driver_row(row), member_refs(row[10])

    def deleted_name(
        self, *, user_id: str | None, user_names: list[str], external_id: str | None
    ) -> str | None:
        """The userName of a soft-deleted user who is ``user_id``, holds one of
        ``user_names`` (compared as ``fold_user_name`` does) or ``external_id``."""
        matches: list[sa.ColumnElement[bool]] = [
            users.c.user_name_lower.in_([fold_user_name(n) for n in user_names])
        ]
        if user_id is not None:
            matches.append(users.c.id == user_id)
        if external_id is not None:
            matches.append(users.c.external_id == external_id)
        found = self._conn.execute(
            sa.select(users.c.user_name)
            .where(
                users.c.tenant_id == self._tenant_id,
                users.c.deleted_at.is_not(None),
                sa.or_(*matches),
            )
            .limit(1)
        ).scalar()
        return str(found) if found is not None else None

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
        enabled: bool,
        deactivation_reason: str | None,
        current: UserRow | None = None,
    ) -> bool:
        """Write a new state if the row is still at ``expected_version``; False if it moved on.

        ``current`` is the row the caller read at that version. When the new
        userName folds to its value, the row already holds that key of the
        unique constraint, so no other user can, and the clash check is
        skipped; the indexed columns that keep their value are not written.
        """
        lowered = fold_user_name(user_name)
        renamed = current is None or fold_user_name(current.user_name) != lowered
        if renamed and fetch_one(self._conn, _NAME_CLASH, (self._tenant_id, lowered, user_id)):
            raise Uniqueness(f"userName {user_name!r} is already taken")
        external_id_changed = current is None or current.external_id != external_id
        params = (
            user_name,
            *((lowered,) if renamed else ()),
            *((external_id,) if external_id_changed else ()),
            display_name,
            active,
            timestamp_param(now, is_sqlite(self._conn)),
            expected_version + 1,
            json_param(doc),
            enabled,
            deactivation_reason,
            self._tenant_id,
            user_id,
            expected_version,
        )
        try:
            cursor = execute(self._conn, _UPDATES[renamed, external_id_changed], params)
        except integrity_error(self._conn) as exc:  # a concurrent writer took the name
            raise Uniqueness(f"userName {user_name!r} is already taken") from exc
        return bool(cursor.rowcount)

    def _leave_groups(self, user_id: str, now: datetime) -> list[str]:
        """Remove the user's memberships, bumping those groups' versions; returns the group ids.

        On the driver: these statements run for every DELETE, and building them
        in Core would cost more than running them (a user in ten groups).
        """
        sqlite = is_sqlite(self._conn)
        mine = (self._tenant_id, user_id)
        if not sqlite:
            # Lock the groups in id order before bumping them: an UPDATE locks rows
            # in the order it meets them, which moves as rows are rewritten, so two
            # deletes of users sharing groups could deadlock. (SQLite: one writer.)
            fetch_all(self._conn, _LOCK_GROUPS_OF_MEMBER, (*mine, self._tenant_id))
        # The memberships actually removed, including one added after the lock.
        left = sorted({row[0] for row in fetch_all(self._conn, _LEAVE_GROUPS, mine)})
        if not left:
            return []
        moment = timestamp_param(now, sqlite)
        if sqlite:
            for part in chunks(left):
                marks = ", ".join(["%s"] * len(part))
                bump = DriverSql(f"{_BUMP_GROUPS} AND id IN ({marks})")
                execute(self._conn, bump, (moment, self._tenant_id, *part))
        else:
            execute(self._conn, _BUMP_GROUPS_PG, (moment, self._tenant_id, left))
        return left

    def remove(self, user_id: str, now: datetime, *, hard: bool) -> Removed | None:
        """Delete the user (``hard``), or hide it from SCIM and deactivate it, with its
        memberships and roles; None if there is no such user."""
        if "\x00" in user_id:  # as in ``get``
            return None
        if hard:
            # The row last: its delete would cascade to the memberships and roles unseen.
            group_ids = self._leave_groups(user_id, now)
            roles = self._revoke_roles(user_id)
            row = fetch_one(self._conn, _DELETE, (self._tenant_id, user_id))
            return None if row is None else _removed(row, group_ids, roles)
        moment = timestamp_param(now, is_sqlite(self._conn))
        params = (moment, moment, self._tenant_id, user_id)
        if is_sqlite(self._conn):
            # One writer at a time, so no lock order to keep: the row goes first
            # and tells which of the user's other rows there are to delete.
            row = fetch_one(self._conn, _SOFT_DELETE_SQLITE, params)
            if row is None:
                return None
            group_ids = self._leave_groups(user_id, now) if row[6] else []
        else:
            # The groups are locked before the user's row, in the order every
            # membership change takes them.
            group_ids = self._leave_groups(user_id, now)
            row = fetch_one(self._conn, _SOFT_DELETE_PG, params)
            if row is None:
                return None
        roles = self._revoke_roles(user_id) if row[7] else []
        return _removed(row, group_ids, roles)

    def _revoke_roles(self, user_id: str) -> list[str]:
        return sorted(
            key for (key,) in fetch_all(self._conn, REVOKE_ALL, (self._tenant_id, user_id))
        )

    def purge_deleted(self, before: datetime) -> int:
        """Remove users soft-deleted before ``before`` (the tenant's grace period is over)."""
        result = self._conn.execute(
            users.delete().where(
                users.c.tenant_id == self._tenant_id,
                users.c.deleted_at.is_not(None),
                users.c.deleted_at < before,
            )
        )
        return result.rowcount

    def snapshots(self, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The app-facing state of these users, for event payloads."""
        if len(user_ids) == 1:  # one member added or removed: the driver path
            row = fetch_one(self._conn, _SNAPSHOT, (self._tenant_id, user_ids[0]))
            return {} if row is None else {row[0]: user_snapshot(row)}
        query = sa.select(
            users.c.id,
            users.c.user_name,
            users.c.external_id,
            users.c.display_name,
            users.c.active,
            users.c.enabled,
            users.c.deactivation_reason,
        ).where(users.c.tenant_id == self._tenant_id)
        found: dict[str, dict[str, Any]] = {}
        # Many ids (a rule change): one pass over the tenant beats hundreds of IN lists.
        if len(user_ids) > _WHOLE_TENANT:
            wanted = set(user_ids)
            rows: list[Any] = list(self._conn.execute(query).all())
            return {row[0]: user_snapshot(row) for row in rows if row[0] in wanted}
        for part in chunks(user_ids):
            rows = list(self._conn.execute(query.where(users.c.id.in_(part))).all())
            found.update((row[0], user_snapshot(row)) for row in rows)
        return found

    def existing_ids(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        if len(ids) == 1:
            if fetch_one(self._conn, _EXISTS, (self._tenant_id, ids[0])) is not None:
                found.add(ids[0])
            return found
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
        # On the driver: a Core IN list expands its bound parameters on every
        # call, which dominates a page of 100 users.
        for part in chunks(user_ids):
            statement = DriverSql(_GROUPS_OF.format(", ".join(["%s"] * len(part))))
            for member_id, group_id, display in fetch_all(
                self._conn, statement, (self._tenant_id, *part)
            ):
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
        lowered = user_name_equals(filter_expr) if filter_expr is not None else None
        if lowered is not None and sort_by is None:
            # userName is unique per tenant: at most one row, no count needed.
            row = fetch_one(self._conn, _BY_NAME, (self._tenant_id, lowered))
            total = 0 if row is None else 1
            if limit <= 0 or offset >= total:
                return Page(total=total, rows=[])
            return Page(total=total, rows=[user_from_driver_row(row)])
        total, rows = select_page(
            self._conn,
            USER,
            USER_COLUMNS,
            self._mine,
            filter_expr,
            sort_by,
            descending,
            offset,
            limit,
        )
        return Page(total=total, rows=[user_from_row(row) for row in rows])
