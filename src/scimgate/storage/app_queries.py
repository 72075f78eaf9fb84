"""The host-app API's reads of one tenant: keyset pages and the tenant's own settings row.

Pages are keyset pages over ``id`` (``WHERE id > :after ORDER BY id LIMIT n``)
on the ``(tenant_id, id)`` indexes: page 1,000 costs what page 1 costs, and a
row written while a client pages never makes another row repeat or vanish.
A name search pages the same way over the lowered name instead, on the
``(tenant_id, user_name_lower)`` and ``(tenant_id, display_name_lower)``
unique indexes. Built only by TenantRepository (``repo.app``), which supplies
the tenant. The operator's view of many tenants at once is in
``storage.tenant_activity``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from scimgate.storage import roles as role_store
from scimgate.storage.directory import Directory
from scimgate.storage.groups import GROUP_COLUMNS, group_from_row
from scimgate.storage.rows import GroupRow, UserRow
from scimgate.storage.tables import (
    events,
    group_members,
    groups,
    tenants,
    user_roles,
    users,
)
from scimgate.storage.users import USER_COLUMNS, user_from_row

# Sequence numbers read per query while looking for holes at the feed's tail.
_TAIL_PAGE = 1000


class AppQueries:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    def users_page(
        self,
        after: str | None,
        limit: int,
        *,
        enabled: bool | None = None,
        role: str | None = None,
        updated_since: datetime | None = None,
    ) -> list[UserRow]:
        """Up to ``limit`` live (not soft-deleted) users with ids after ``after``, by id."""
        conditions = self._user_conditions(enabled, role, updated_since)
        if after is not None:
            conditions.append(users.c.id > after)
        rows = self._conn.execute(
            sa.select(*USER_COLUMNS).where(*conditions).order_by(users.c.id).limit(limit)
        )
        return [user_from_row(row) for row in rows]

    def users_named(
        self,
        prefix: str,
        after: str | None,
        limit: int,
        *,
        enabled: bool | None = None,
        role: str | None = None,
        updated_since: datetime | None = None,
    ) -> list[UserRow]:
        """Up to ``limit`` live users whose lowered userName starts with ``prefix`` (lowered
        by the caller) and sorts after ``after``, in that order."""
        conditions = self._user_conditions(enabled, role, updated_since)
        conditions += _starts_with(self._conn, users.c.user_name_lower, prefix)
        if after is not None:
            conditions.append(users.c.user_name_lower > after)
        rows = self._conn.execute(
            sa.select(*USER_COLUMNS)
            .where(*conditions)
            .order_by(users.c.user_name_lower)
            .limit(limit)
        )
        return [user_from_row(row) for row in rows]

    def _user_conditions(
        self, enabled: bool | None, role: str | None, updated_since: datetime | None
    ) -> list[sa.ColumnElement[bool]]:
        conditions = [users.c.tenant_id == self._tenant_id, users.c.deleted_at.is_(None)]
        if enabled is not None:
            conditions.append(users.c.enabled == enabled)
        if updated_since is not None:
            conditions.append(users.c.last_modified >= updated_since)
        if role is not None:
            # Correlated EXISTS on the user_roles primary key (user_id, role_key).
            conditions.append(
                sa.exists(
                    sa.select(sa.literal(1)).where(
                        user_roles.c.user_id == users.c.id,
                        user_roles.c.role_key == role,
                        user_roles.c.tenant_id == self._tenant_id,
                    )
                )
            )
        return conditions

    def roles_of(self, user_ids: list[str]) -> dict[str, list[str]]:
        """Each user's effective role keys, sorted."""
        return role_store.roles_of(self._conn, self._tenant_id, user_ids)

    def groups_page(self, after: str | None, limit: int) -> list[tuple[GroupRow, int]]:
        """Up to ``limit`` groups with ids after ``after``, by id, each with its member count."""
        conditions = [groups.c.tenant_id == self._tenant_id]
        if after is not None:
            conditions.append(groups.c.id > after)
        return self._with_member_counts(
            sa.select(*GROUP_COLUMNS).where(*conditions).order_by(groups.c.id).limit(limit)
        )

    def groups_named(
        self, prefix: str, after: str | None, limit: int
    ) -> list[tuple[GroupRow, int]]:
        """Up to ``limit`` groups whose lowered displayName starts with ``prefix`` and sorts
        after ``after``, in that order, each with its member count."""
        conditions = [
            groups.c.tenant_id == self._tenant_id,
            *_starts_with(self._conn, groups.c.display_name_lower, prefix),
        ]
        if after is not None:
            conditions.append(groups.c.display_name_lower > after)
        return self._with_member_counts(
            sa.select(*GROUP_COLUMNS, groups.c.display_name_lower)
            .where(*conditions)
            .order_by(groups.c.display_name_lower)
            .limit(limit),
            by_name=True,
        )

    def _with_member_counts(
        self, query: sa.Select[Any], *, by_name: bool = False
    ) -> list[tuple[GroupRow, int]]:
        page = query.subquery("page")
        # Counting per page (not per tenant) walks only these groups' membership rows,
        # on the (group_id, member_id) primary key.
        counts = (
            sa.select(group_members.c.group_id, sa.func.count().label("n"))
            .where(group_members.c.group_id.in_(sa.select(page.c.id)))
            .group_by(group_members.c.group_id)
            .subquery("counts")
        )
        rows = self._conn.execute(
            sa.select(page, sa.func.coalesce(counts.c.n, 0).label("member_count"))
            .select_from(page.outerjoin(counts, counts.c.group_id == page.c.id))
            .order_by(page.c.display_name_lower if by_name else page.c.id)
        )
        return [(group_from_row(row), int(row.member_count)) for row in rows]

    # -- the event feed ---------------------------------------------------------------

    def first_unsettled(self, after: int, through: int, stale_before: datetime) -> int | None:
        """The lowest seq in (after, through] below which an event may still appear, if any.

        On PostgreSQL a transaction can take a sequence number and commit after
        one that took a higher number: a reader that moved its cursor past the
        hole would never see that event. A hole below an event that occurred
        before ``stale_before`` is taken as a rollback; a hole below a younger
        one may not be committed yet, so the feed stops there. Sequence numbers
        are global, so this reads the seqs and times (nothing else) of every
        tenant's events; only the young tail is read, newest first.
        SQLite runs one writer at a time: commit order is seq order there.
        """
        if self._conn.dialect.name == "sqlite" or through <= after:
            return None
        young: list[int] = []
        floor = after  # the newest old seq below the young tail, or ``after``
        upper = through
        while True:
            rows = self._conn.execute(
                sa.select(events.c.seq, events.c.occurred_at)
                .where(events.c.seq > after, events.c.seq <= upper)
                .order_by(events.c.seq.desc())
                .limit(_TAIL_PAGE)
            ).all()
            old = next(((seq, t) for seq, t in rows if t < stale_before), None)
            young += [seq for seq, t in rows if old is None or seq > old[0]]
            if old is not None:
                floor = old[0]
                break
            if len(rows) < _TAIL_PAGE:
                break
            upper = rows[-1][0] - 1
        previous = floor
        for seq in sorted(young):
            if seq != previous + 1:
                return seq
            previous = seq
        return None

    # -- the tenant's settings -------------------------------------------------------

    def settings(self, *, for_update: bool = False) -> dict[str, Any]:
        """This tenant's stored settings; ``for_update`` locks the row until the transaction
        ends (PostgreSQL; SQLite's write transactions already hold the database lock)."""
        query = sa.select(tenants.c.settings).where(tenants.c.id == self._tenant_id)
        if for_update:
            query = query.with_for_update()
        value = self._conn.execute(query).scalar_one_or_none()
        return dict(value or {})

    def save_settings(self, settings: dict[str, Any]) -> None:
        """Store the settings in this transaction, so a recompute that follows commits with it."""
        Directory(self._conn).set_tenant_settings(self._tenant_id, settings)


def _starts_with(
    conn: sa.Connection, column: sa.ColumnElement[str], prefix: str
) -> list[sa.ColumnElement[bool]]:
    """``column`` starts with ``prefix``, written as a range a btree index on it can serve.

    ``LIKE 'x%'`` would need escaping, and PostgreSQL serves it from an index
    only under the C collation. A range works under any collation as long as
    its upper end sorts after every string with the prefix: under byte order
    (SQLite, PostgreSQL's C and C.UTF-8) that is the prefix followed by
    U+10FFFF, the highest code point; under the Unicode collation algorithm
    (ICU) it is the prefix followed by U+FFFF, which CLDR weights above every
    character for this very purpose. PostgreSQL picks the greater of the two
    in the column's own collation. A linguistic collation also lets in a few
    strings that merely sort between the ends (``abé`` for ``abe``); the
    ``substr`` comparison, applied to the rows the range found, drops them.
    """
    if conn.dialect.name == "postgresql":
        upper: sa.ColumnElement[str] = sa.func.greatest(
            sa.literal(prefix + "\uffff", sa.String()),
            sa.literal(prefix + "\U0010ffff", sa.String()),
        )
    else:
        upper = sa.literal(prefix + "\U0010ffff", sa.String())
    return [
        column >= prefix,
        column < upper,
        sa.func.substr(column, 1, len(prefix)) == prefix,
    ]
