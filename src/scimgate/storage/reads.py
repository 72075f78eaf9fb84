"""One-statement reads of one tenant, outside any unit of work.

A SCIM read (a user by id, a userName lookup, a group without its members)
needs the resource, its related references and, for a request served from
the token cache, the tenant's credentials generation. Here all three come
back from one SELECT, run on a pooled driver connection in autocommit: one
statement is one consistent snapshot on both databases, so no BEGIN or
COMMIT is sent, and on PostgreSQL the read is a single round trip (the
unit-of-work path sent BEGIN, the generation check, the row, the groups and
COMMIT). The figures are in bench/README.md ("Figures behind the code").

The tenant predicate is bound here from the ``tenant_id`` the reads were
opened for (``Database.reads``), never by a caller, as in the stores.
The generation is handed to ``on_generation`` after every read, where a
cached credential is confirmed (``service.tokens.CredentialCheck``): the
generation a revocation bumps is read in the same snapshot as the data.

``AwaitedReads`` are the same reads on PostgreSQL, awaited on the event loop
through an asyncio psycopg connection (``Database.awaited_reads``): a request
that needs nothing else skips the hop to a worker thread that every other
PostgreSQL call takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scimgate.storage.driver import DriverSql
from scimgate.storage.groups import group_from_driver_row
from scimgate.storage.rows import GroupRow, MemberRef, UserRow
from scimgate.storage.users import groups_subquery, member_refs, user_from_driver_row

# The tenant is the one-row driving table, so its generation comes back even
# when the user does not exist (a LEFT JOIN with no match).
_USER_COLUMNS = (
    "u.id, u.user_name, u.external_id, u.active, u.created, u.last_modified, u.version,"
    " u.doc, u.enabled, u.deactivation_reason"
)


def _user_sql(match: str, groups: str) -> DriverSql:
    return DriverSql(
        f"SELECT t.credentials_generation, {_USER_COLUMNS}, {groups} FROM tenants t"
        f" LEFT JOIN users u ON u.tenant_id = t.id AND u.deleted_at IS NULL AND {match}"
        " WHERE t.id = %s"
    )


@dataclass(frozen=True, slots=True)
class _UserStatements:
    with_groups: DriverSql
    alone: DriverSql


def _user_statements(match: str, groups: str) -> _UserStatements:
    return _UserStatements(_user_sql(match, groups), _user_sql(match, "NULL"))


_BY_ID = {
    sqlite: _user_statements("u.id = %s", groups_subquery(sqlite, "u")) for sqlite in (True, False)
}
_BY_NAME = {
    sqlite: _user_statements("u.user_name_lower = %s", groups_subquery(sqlite, "u"))
    for sqlite in (True, False)
}
_GROUP = DriverSql(
    "SELECT t.credentials_generation, g.id, g.display_name, g.external_id, g.created,"
    " g.last_modified, g.version, g.doc FROM tenants t"
    " LEFT JOIN groups g ON g.tenant_id = t.id AND g.id = %s WHERE t.id = %s"
)


@dataclass(frozen=True, slots=True)
class FoundUser:
    row: UserRow
    groups: list[MemberRef] | None  # None: not asked for, or in no group


def _key(value: str) -> str:
    # No id or userName holds NUL, and PostgreSQL text refuses it: ask for one that cannot match.
    return "" if "\x00" in value else value


def _user_statement(by: dict[bool, _UserStatements], sqlite: bool, groups: bool) -> DriverSql:
    statements = by[sqlite]
    return statements.with_groups if groups else statements.alone


def _found_user(row: Any, groups: bool) -> FoundUser | None:
    if row is None or row[1] is None:
        return None
    user = user_from_driver_row(row[1:11])
    return FoundUser(user, (member_refs(row[11]) or None) if groups else None)


def _found_group(row: Any) -> GroupRow | None:
    return None if row is None or row[1] is None else group_from_driver_row(row[1:])


class TenantReads:
    """Single-statement reads of one tenant's resources (see the module docstring)."""

    def __init__(
        self,
        driver: Any,
        sqlite: bool,
        tenant_id: int,
        on_generation: Callable[[int | None], None] | None = None,
    ) -> None:
        self._driver = driver
        self._sqlite = sqlite
        self._tenant_id = tenant_id
        self._on_generation = on_generation

    def user(self, user_id: str, *, groups: bool) -> FoundUser | None:
        """The user with this id, with its groups when ``groups``."""
        return _found_user(
            self._one(_user_statement(_BY_ID, self._sqlite, groups), user_id), groups
        )

    def user_named(self, user_name_lower: str, *, groups: bool) -> FoundUser | None:
        """The user whose folded userName is ``user_name_lower`` (unique per tenant)."""
        statement = _user_statement(_BY_NAME, self._sqlite, groups)
        return _found_user(self._one(statement, user_name_lower), groups)

    def group(self, group_id: str) -> GroupRow | None:
        """The group with this id, without its members."""
        return _found_group(self._one(_GROUP, group_id))

    def _one(self, statement: DriverSql, key: str) -> Any:
        params = (_key(key), self._tenant_id)
        row = self._driver.execute(statement.text(self._sqlite), params).fetchone()
        if self._on_generation is not None:
            self._on_generation(None if row is None else int(row[0]))
        return row


class AwaitedReads:
    """``TenantReads`` on an asyncio psycopg connection in autocommit (PostgreSQL only)."""

    def __init__(
        self,
        conn: Any,
        tenant_id: int,
        on_generation: Callable[[int | None], None] | None = None,
    ) -> None:
        self._conn = conn
        self._tenant_id = tenant_id
        self._on_generation = on_generation

    async def user(self, user_id: str, *, groups: bool) -> FoundUser | None:
        row = await self._one(_user_statement(_BY_ID, False, groups), user_id)
        return _found_user(row, groups)

    async def user_named(self, user_name_lower: str, *, groups: bool) -> FoundUser | None:
        row = await self._one(_user_statement(_BY_NAME, False, groups), user_name_lower)
        return _found_user(row, groups)

    async def group(self, group_id: str) -> GroupRow | None:
        return _found_group(await self._one(_GROUP, group_id))

    async def _one(self, statement: DriverSql, key: str) -> Any:
        cursor = await self._conn.execute(statement.postgresql, (_key(key), self._tenant_id))
        row = await cursor.fetchone()
        if self._on_generation is not None:
            self._on_generation(None if row is None else int(row[0]))
        return row
