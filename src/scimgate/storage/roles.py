"""Roles and role-mapping rules of one tenant, and the effective roles users hold.

What users *should* hold is derived elsewhere: ``scimgate.model.lifecycle``
states the rule and ``scimgate.storage.recompute`` applies it. This store
keeps the rows: roles and rules (with their counts), direct grants and
revocations, and reading who holds what.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.model.lifecycle import BY_DISPLAY_NAME, BY_EXTERNAL_ID, BY_ID
from scimgate.storage._sql import chunks, insert_ignoring_conflicts
from scimgate.storage.driver import DriverSql, execute_many, fetch_all, fetch_one
from scimgate.storage.tables import (
    group_members,
    groups,
    role_mappings,
    roles,
    sso_user_groups,
    user_roles,
)

# ``rule_matches_group`` on the driver, for rules ``r`` and groups ``g``
# (``scimgate.model.lifecycle.rule_matches``); its one parameter is the tenant.
RULE_MATCHES_GROUP_SQL = (
    "r.tenant_id = %s AND ("
    f"(r.match_type = '{BY_DISPLAY_NAME}' AND r.match_value_lower = g.display_name_lower)"
    f" OR (r.match_type = '{BY_EXTERNAL_ID}' AND r.match_value = g.external_id)"
    f" OR (r.match_type = '{BY_ID}' AND r.match_value = g.id))"
)

# The same for an asserted group value ``s`` (``sso_user_groups``,
# ``scimgate.model.lifecycle.rule_matches_value``).
RULE_MATCHES_VALUE_SQL = (
    "r.tenant_id = %s AND ("
    f"(r.match_type = '{BY_DISPLAY_NAME}' AND r.match_value_lower = s.value_lower)"
    f" OR (r.match_type IN ('{BY_EXTERNAL_ID}', '{BY_ID}') AND r.match_value = s.value))"
)

GRANT = DriverSql(
    "INSERT INTO user_roles (user_id, role_key, tenant_id) VALUES (%s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)
# Also run by ``UserStore.remove``, with the user's other rows. ``tenant_id + 0``
# as in ``roles_of``: on a plain equality SQLite deletes through the (tenant_id,
# role_key, user_id) index and walks every role row of the tenant, for one user.
REVOKE_ALL = DriverSql(
    "DELETE FROM user_roles WHERE tenant_id + 0 = %s AND user_id = %s RETURNING role_key"
)
# Every membership change asks it, so it runs on the driver.
_GROUP_IS_MAPPED = DriverSql(
    f"SELECT r.id FROM groups g JOIN role_mappings r ON {RULE_MATCHES_GROUP_SQL}"
    " WHERE g.tenant_id = %s AND g.id = %s LIMIT 1"
)


def rule_matches_group(tenant_id: int) -> ColumnElement[bool]:
    """A tenant's rule (``role_mappings``) matches the group (``groups``) it is joined to."""
    return sa.and_(
        role_mappings.c.tenant_id == tenant_id,
        sa.or_(
            sa.and_(
                role_mappings.c.match_type == BY_DISPLAY_NAME,
                role_mappings.c.match_value_lower == groups.c.display_name_lower,
            ),
            sa.and_(
                role_mappings.c.match_type == BY_EXTERNAL_ID,
                role_mappings.c.match_value == groups.c.external_id,
            ),
            sa.and_(
                role_mappings.c.match_type == BY_ID, role_mappings.c.match_value == groups.c.id
            ),
        ),
    )


def rule_matches_value(tenant_id: int) -> ColumnElement[bool]:
    """A tenant's rule matches the asserted group value (``sso_user_groups``) it is joined to."""
    return sa.and_(
        role_mappings.c.tenant_id == tenant_id,
        sa.or_(
            sa.and_(
                role_mappings.c.match_type == BY_DISPLAY_NAME,
                role_mappings.c.match_value_lower == sso_user_groups.c.value_lower,
            ),
            sa.and_(
                role_mappings.c.match_type.in_((BY_EXTERNAL_ID, BY_ID)),
                role_mappings.c.match_value == sso_user_groups.c.value,
            ),
        ),
    )


def roles_of(conn: sa.Connection, tenant_id: int, user_ids: list[str]) -> dict[str, list[str]]:
    """Each user's effective role keys, sorted.

    The tenant predicate is written ``tenant_id + 0 = ?`` on purpose: as a
    plain equality, SQLite (without ANALYZE statistics) plans the query on the
    (tenant_id, role_key) index and walks the whole tenant; this way both
    databases look the ids up in the primary key.
    """
    result: dict[str, list[str]] = defaultdict(list)
    for part in chunks(user_ids):
        rows = conn.execute(
            sa.select(user_roles.c.user_id, user_roles.c.role_key)
            .where(user_roles.c.tenant_id + 0 == tenant_id, user_roles.c.user_id.in_(part))
            .order_by(user_roles.c.user_id, user_roles.c.role_key)
        )
        for user_id, key in rows:
            result[user_id].append(key)
    return result


@dataclass(frozen=True, slots=True)
class RoleRow:
    key: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: int
    match_type: str
    match_value: str
    role_key: str
    priority: int
    created_at: datetime


class RoleStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    # -- roles -----------------------------------------------------------------

    def list_roles(self) -> list[RoleRow]:
        rows = self._conn.execute(
            sa.select(roles.c.key, roles.c.name, roles.c.created_at)
            .where(roles.c.tenant_id == self._tenant_id)
            .order_by(roles.c.key)
        )
        return [RoleRow(r.key, r.name, r.created_at) for r in rows]

    def add_role(self, key: str, name: str, now: datetime) -> bool:
        result = self._conn.execute(
            insert_ignoring_conflicts(self._conn, roles)
            .values(tenant_id=self._tenant_id, key=key, name=name, created_at=now)
            .returning(roles.c.id)
        )
        return result.first() is not None

    def delete_role(self, key: str) -> bool:
        self._conn.execute(
            role_mappings.delete().where(
                role_mappings.c.tenant_id == self._tenant_id, role_mappings.c.role_key == key
            )
        )
        result = self._conn.execute(
            roles.delete().where(roles.c.tenant_id == self._tenant_id, roles.c.key == key)
        )
        return bool(result.rowcount)

    def role_exists(self, key: str) -> bool:
        return (
            self._conn.execute(
                sa.select(roles.c.id).where(
                    roles.c.tenant_id == self._tenant_id, roles.c.key == key
                )
            ).first()
            is not None
        )

    # -- rules -----------------------------------------------------------------

    def list_rules(self) -> list[RuleRow]:
        rows = self._conn.execute(
            sa.select(role_mappings)
            .where(role_mappings.c.tenant_id == self._tenant_id)
            .order_by(role_mappings.c.priority, role_mappings.c.id)
        )
        return [
            RuleRow(r.id, r.match_type, r.match_value, r.role_key, r.priority, r.created_at)
            for r in rows
        ]

    def add_rule(
        self, match_type: str, match_value: str, role_key: str, priority: int, now: datetime
    ) -> int:
        result = self._conn.execute(
            role_mappings.insert()
            .values(
                tenant_id=self._tenant_id,
                match_type=match_type,
                match_value=match_value,
                match_value_lower=match_value.lower(),
                role_key=role_key,
                priority=priority,
                created_at=now,
            )
            .returning(role_mappings.c.id)
        )
        return int(result.scalar_one())

    def delete_rule(self, rule_id: int) -> bool:
        if not 0 < rule_id < 2**31:  # outside the column's range: no such rule
            return False
        result = self._conn.execute(
            role_mappings.delete().where(
                role_mappings.c.tenant_id == self._tenant_id, role_mappings.c.id == rule_id
            )
        )
        return bool(result.rowcount)

    def has_rules(self) -> bool:
        return (
            self._conn.execute(
                sa.select(role_mappings.c.id).where(role_mappings.c.tenant_id == self._tenant_id)
            ).first()
            is not None
        )

    def group_is_mapped(self, group_id: str) -> bool:
        """Whether any rule matches this group (so its membership affects roles)."""
        params = (self._tenant_id, self._tenant_id, group_id)
        return fetch_one(self._conn, _GROUP_IS_MAPPED, params) is not None

    def rule_member_counts(self) -> dict[int, int]:
        """How many users each rule currently matches (for the admin console)."""
        query = (
            sa.select(role_mappings.c.id, sa.func.count(sa.distinct(group_members.c.member_id)))
            .select_from(
                group_members.join(groups, groups.c.id == group_members.c.group_id).join(
                    role_mappings, rule_matches_group(self._tenant_id)
                )
            )
            .where(group_members.c.tenant_id == self._tenant_id)
            .group_by(role_mappings.c.id)
        )
        return {int(row[0]): int(row[1]) for row in self._conn.execute(query)}

    # -- effective roles ---------------------------------------------------------

    def grant(self, user_id: str, keys: list[str]) -> None:
        """Give a user roles directly (a new user, whose wanted roles are known)."""
        # On the driver: every create with a default role runs it.
        execute_many(self._conn, GRANT, [(user_id, k, self._tenant_id) for k in keys])

    def revoke_all(self, user_id: str) -> list[str]:
        """Take every role from a user (just disabled: wants none); returns them, sorted."""
        return sorted(
            key for (key,) in fetch_all(self._conn, REVOKE_ALL, (self._tenant_id, user_id))
        )

    def roles_of(self, user_ids: list[str]) -> dict[str, list[str]]:
        return roles_of(self._conn, self._tenant_id, user_ids)
