"""Roles, role-mapping rules and effective roles of one tenant, recomputed with set-based SQL.

The wanted (user, role) pairs are one SELECT over memberships joined to rules.
For a few users (``recompute_roles``) the difference with the stored pairs is
computed by the database (EXCEPT, both ways) and only what changed comes
back. For many (``recompute_staged``) nothing per user comes back at all: the
changes are staged in temporary tables (``scimgate.storage.staging``) and
applied, and their events written, by set statements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.storage import staging
from scimgate.storage._sql import chunks, insert_ignoring_conflicts
from scimgate.storage.driver import DriverSql, execute, execute_many, fetch_all, fetch_one
from scimgate.storage.tables import group_members, groups, role_mappings, roles, user_roles, users

# Recompute scopes past this many ids run over the whole tenant instead of an IN list.
# Up to this many users a recompute compares in one statement and returns what
# changed; beyond, it stages the changes in temporary tables (``recompute_staged``).
SMALL_SCOPE = 1_000

_STAGE_SCOPE = DriverSql("INSERT INTO scimgate_scope_ids (user_id) VALUES (%s)")
_GRANT = DriverSql(
    "INSERT INTO user_roles (user_id, role_key, tenant_id) VALUES (%s, %s, %s)"
    " ON CONFLICT DO NOTHING"
)
_REVOKE_ALL = DriverSql(
    "DELETE FROM user_roles WHERE tenant_id = %s AND user_id = %s RETURNING role_key"
)

# _rule_matches_group() for one group, on the driver: every membership change asks it.
_GROUP_IS_MAPPED = DriverSql(
    "SELECT r.id FROM groups g JOIN role_mappings r ON r.tenant_id = %s AND ("
    "(r.match_type = 'display_name' AND r.match_value_lower = g.display_name_lower)"
    " OR (r.match_type = 'external_id' AND r.match_value = g.external_id)"
    " OR (r.match_type = 'id' AND r.match_value = g.id))"
    " WHERE g.tenant_id = %s AND g.id = %s LIMIT 1"
)

# One user's recompute on the driver (``recompute_user``): its state, the rules
# its groups match, its stored roles, and the writes that follow.
_USER_STATE = DriverSql(
    "SELECT active, enabled, deactivation_reason, deleted_at IS NULL FROM users"
    " WHERE tenant_id = %s AND id = %s"
)
_USER_MATCHES = DriverSql(
    "SELECT r.role_key, r.priority, r.id FROM group_members m"
    " JOIN groups g ON g.id = m.group_id"
    " JOIN role_mappings r ON r.tenant_id = %s AND ("
    "(r.match_type = 'display_name' AND r.match_value_lower = g.display_name_lower)"
    " OR (r.match_type = 'external_id' AND r.match_value = g.external_id)"
    " OR (r.match_type = 'id' AND r.match_value = g.id))"
    " WHERE m.tenant_id = %s AND m.member_id = %s"
)
_USER_ROLES = DriverSql("SELECT role_key FROM user_roles WHERE tenant_id = %s AND user_id = %s")
_SET_ENABLED = DriverSql(
    "UPDATE users SET enabled = %s, deactivation_reason = %s WHERE tenant_id = %s AND id = %s"
)
_REVOKE = DriverSql(
    "DELETE FROM user_roles WHERE tenant_id = %s AND user_id = %s AND role_key = %s"
)


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


@dataclass(frozen=True, slots=True)
class RoleChange:
    user_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]


# A recompute scope: every user of the tenant (None), or these user ids.
Scope = list[str] | None


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
                    role_mappings, self._rule_matches_group()
                )
            )
            .where(group_members.c.tenant_id == self._tenant_id)
            .group_by(role_mappings.c.id)
        )
        return {int(row[0]): int(row[1]) for row in self._conn.execute(query)}

    # -- effective roles ---------------------------------------------------------

    def grant(self, user_id: str, keys: list[str]) -> None:
        """Give a user roles directly (a new user, whose wanted roles are known)."""
        # On the driver: every create with a default role runs it (~60 µs in Core).
        execute_many(self._conn, _GRANT, [(user_id, k, self._tenant_id) for k in keys])

    def recompute_user(
        self, user_id: str, mode: str, default_role: str | None, deactivate_unmapped: bool
    ) -> tuple[str | None, RoleChange | None]:
        """``recompute_enabled`` and ``recompute_roles`` for one user, on the driver.

        The IdP's everyday traffic (one user reactivated, one member added to or
        removed from a mapped group) recomputes one user; the set statements of
        the general path cost ~3 ms of statement building each time, these five
        small ones ~0.2 ms. Returns ("deactivated" | "reactivated" | None, the
        role change or None), with the same rules as the set path.
        """
        conn, tenant = self._conn, self._tenant_id
        state = fetch_one(conn, _USER_STATE, (tenant, user_id))
        matches = fetch_all(conn, _USER_MATCHES, (tenant, tenant, user_id))
        live = state is not None and bool(state[3])
        active, enabled = (bool(state[0]), bool(state[1])) if state is not None else (False, False)
        moved: str | None = None
        if live and active and enabled and deactivate_unmapped and not matches:
            execute(conn, _SET_ENABLED, (False, "left_mapped_groups", tenant, user_id))
            enabled, moved = False, "deactivated"
        elif (
            live
            and active
            and not enabled
            and state is not None
            and state[2] == "left_mapped_groups"
            and (matches or not deactivate_unmapped)
        ):
            execute(conn, _SET_ENABLED, (True, None, tenant, user_id))
            enabled, moved = True, "reactivated"
        wanted: set[str] = set()
        if live and enabled:
            if matches and mode == "single":
                wanted = {min(matches, key=lambda m: (m[1], m[2]))[0]}
            elif matches:
                wanted = {m[0] for m in matches}
            elif default_role is not None:
                wanted = {default_role}
        stored = {row[0] for row in fetch_all(conn, _USER_ROLES, (tenant, user_id))}
        if wanted == stored:
            return moved, None
        for key in sorted(stored - wanted):
            execute(conn, _REVOKE, (tenant, user_id, key))
        execute_many(conn, _GRANT, [(user_id, key, tenant) for key in sorted(wanted - stored)])
        return moved, RoleChange(user_id, tuple(sorted(stored)), tuple(sorted(wanted)))

    def revoke_all(self, user_id: str) -> list[str]:
        """Take every role from a user (just disabled: wants none); returns them, sorted."""
        return sorted(
            key for (key,) in fetch_all(self._conn, _REVOKE_ALL, (self._tenant_id, user_id))
        )

    def roles_of(self, user_ids: list[str]) -> dict[str, list[str]]:
        result: dict[str, list[str]] = defaultdict(list)
        for part in chunks(user_ids):
            rows = self._conn.execute(
                sa.select(user_roles.c.user_id, user_roles.c.role_key)
                # "+ 0" keeps SQLite's planner on the primary key (user_id, ...):
                # given tenant_id = ? it would scan the tenant's role index,
                # ~100 ms at 100k users instead of a few index lookups.
                .where(
                    user_roles.c.tenant_id + 0 == self._tenant_id, user_roles.c.user_id.in_(part)
                )
                .order_by(user_roles.c.user_id, user_roles.c.role_key)
            )
            for user_id, key in rows:
                result[user_id].append(key)
        return result

    def _rule_matches_group(self) -> ColumnElement[bool]:
        return sa.and_(
            role_mappings.c.tenant_id == self._tenant_id,
            sa.or_(
                sa.and_(
                    role_mappings.c.match_type == "display_name",
                    role_mappings.c.match_value_lower == groups.c.display_name_lower,
                ),
                sa.and_(
                    role_mappings.c.match_type == "external_id",
                    role_mappings.c.match_value == groups.c.external_id,
                ),
                sa.and_(
                    role_mappings.c.match_type == "id", role_mappings.c.match_value == groups.c.id
                ),
            ),
        )

    def _in_scope(self, column: sa.Column[str], scope: Scope) -> ColumnElement[bool]:
        if scope is None:
            return sa.true()
        if len(scope) <= SMALL_SCOPE:
            return column.in_(scope)
        # Staged by recompute_staged: one subquery instead of the ids bound each time.
        return column.in_(sa.select(staging.scope_ids.c.user_id))

    def _matched(self, scope: Scope) -> sa.Select[Any]:
        """(user_id, role_key, priority, rule_id) for every membership a rule maps.

        Over the whole tenant the join starts from the rules and reaches members
        through the group key, so it reads only mapped memberships; a scan from
        ``group_members`` (the plan SQLite picks otherwise) reads every membership
        of the tenant. For a list of users it starts from their memberships.
        """
        columns = (
            group_members.c.member_id.label("user_id"),
            role_mappings.c.role_key,
            role_mappings.c.priority,
            role_mappings.c.id.label("rule_id"),
        )
        if scope is None:
            return (
                sa.select(*columns)
                .select_from(
                    role_mappings.join(
                        groups,
                        sa.and_(
                            groups.c.tenant_id == role_mappings.c.tenant_id,
                            self._rule_matches_group(),
                        ),
                    ).join(group_members, group_members.c.group_id == groups.c.id)
                )
                .where(role_mappings.c.tenant_id == self._tenant_id)
            )
        return (
            sa.select(*columns)
            .select_from(
                group_members.join(groups, groups.c.id == group_members.c.group_id).join(
                    role_mappings, self._rule_matches_group()
                )
            )
            .where(
                group_members.c.tenant_id == self._tenant_id,
                self._in_scope(group_members.c.member_id, scope),
            )
        )

    def _in_mapped_group(self, scope: Scope = None) -> ColumnElement[bool]:
        """The outer ``users`` row is in at least one mapped group.

        SQLite: an IN over the (uncorrelated) set of mapped members, which it
        builds once instead of probing memberships again for every user.
        PostgreSQL: EXISTS, which it plans as a hash semi- or anti-join; its
        NOT IN over a subquery larger than work_mem becomes a scan of the
        subquery per user (a 100k-user recompute ran for over ten minutes).
        """
        mapped = self._matched(scope).with_only_columns(group_members.c.member_id)
        if self._conn.dialect.name == "postgresql":
            return sa.exists(mapped.where(group_members.c.member_id == users.c.id))
        return users.c.id.in_(mapped)

    def _users_in_scope(self, scope: Scope) -> list[ColumnElement[bool]]:
        return [
            users.c.tenant_id == self._tenant_id,
            users.c.deleted_at.is_(None),
            self._in_scope(users.c.id, scope),
        ]

    def _desired(self, scope: Scope, mode: str, default_role: str | None) -> sa.Select[Any]:
        matched = self._matched(scope).subquery("matched")
        if mode == "single":
            ranked = sa.select(
                matched.c.user_id,
                matched.c.role_key,
                sa.func.row_number()
                .over(
                    partition_by=matched.c.user_id,
                    order_by=(matched.c.priority, matched.c.rule_id),
                )
                .label("rank"),
            ).subquery("ranked")
            mapped = sa.select(ranked.c.user_id, ranked.c.role_key).where(ranked.c.rank == 1)
        else:
            mapped = sa.select(matched.c.user_id, matched.c.role_key).distinct()
        mapped_sub = mapped.subquery("mapped")
        enabled = sa.select(users.c.id).where(*self._users_in_scope(scope), users.c.enabled)
        wanted: sa.Select[Any] = sa.select(mapped_sub.c.user_id, mapped_sub.c.role_key).where(
            mapped_sub.c.user_id.in_(enabled)
        )
        if default_role is not None:
            fallback = sa.select(
                users.c.id.label("user_id"), sa.literal(default_role).label("role_key")
            ).where(*self._users_in_scope(scope), users.c.enabled, ~self._in_mapped_group(scope))
            # The branches are disjoint (users in a mapped group, users in none).
            return sa.union_all(wanted, fallback).subquery("desired").select()
        return wanted

    def _current(self, scope: Scope) -> sa.Select[Any]:
        return sa.select(user_roles.c.user_id, user_roles.c.role_key).where(
            user_roles.c.tenant_id == self._tenant_id,
            self._in_scope(user_roles.c.user_id, scope),
        )

    def recompute_roles(
        self, scope: list[str], mode: str, default_role: str | None
    ) -> list[RoleChange]:
        """Make the stored roles of a few users equal the wanted ones; returns who changed.

        One statement compares wanted and stored pairs (EXCEPT both ways); the
        difference is written back and the users' roles after it read once.
        """
        added, removed = self._diff_small(scope, mode, default_role)
        if not added and not removed:
            return []
        changed = sorted({u for u, _ in added} | {u for u, _ in removed})
        after: dict[str, set[str]] = defaultdict(set)
        for u, keys in self.roles_of(changed).items():
            after[u].update(keys)
        before: dict[str, set[str]] = {u: set(after.get(u, ())) for u in changed}
        for u, r in added:
            before[u].discard(r)
        for u, r in removed:
            before[u].add(r)
        return [
            RoleChange(u, tuple(sorted(before[u])), tuple(sorted(after.get(u, ()))))
            for u in changed
        ]

    def _diff_small(
        self, scope: list[str], mode: str, default_role: str | None
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """A few users (a membership change): compare in one statement, write the difference."""
        # A CTE referenced twice is computed once by both SQLite and PostgreSQL.
        desired = self._desired(scope, mode, default_role).cte("desired")
        current = self._current(scope).cte("current_roles")
        wanted = sa.select(desired.c.user_id, desired.c.role_key)
        stored = sa.select(current.c.user_id, current.c.role_key)
        plus = sa.except_(wanted, stored).subquery("plus")
        minus = sa.except_(stored, wanted).subquery("minus")
        diff = sa.union_all(
            sa.select(sa.literal("+").label("op"), plus.c.user_id, plus.c.role_key),
            sa.select(sa.literal("-").label("op"), minus.c.user_id, minus.c.role_key),
        )
        added: list[tuple[str, str]] = []
        removed: list[tuple[str, str]] = []
        for op, user_id, role_key in self._conn.execute(diff):
            (added if op == "+" else removed).append((user_id, role_key))
        if removed:
            self._conn.execute(
                user_roles.delete().where(
                    user_roles.c.user_id == sa.bindparam("u"),
                    user_roles.c.role_key == sa.bindparam("r"),
                ),
                [{"u": u, "r": r} for u, r in removed],
            )
        if added:
            self._conn.execute(
                user_roles.insert(),
                [{"user_id": u, "role_key": r, "tenant_id": self._tenant_id} for u, r in added],
            )
        return added, removed

    def recompute_staged(
        self,
        scope: Scope,
        mode: str,
        default_role: str | None,
        deactivate_unmapped: bool,
    ) -> None:
        """Recompute enabled states and roles of many users (a rule or setting change).

        What changes is staged in ``staging.user_changes`` ("deactivated",
        "reactivated", and "roles" with the roles before), then applied with one
        UPDATE per state change, one DELETE and one INSERT; nothing per user
        passes through Python. ``EventStore.add_staged`` writes the events.
        """
        conn = self._conn
        if scope is not None and len(scope) > SMALL_SCOPE:
            execute_many(conn, _STAGE_SCOPE, [(user_id,) for user_id in set(scope)])
        changes = staging.user_changes
        if deactivate_unmapped:
            self._stage_state("deactivated", self._to_deactivate(scope))
        self._stage_state("reactivated", self._to_reactivate(scope, deactivate_unmapped))
        staged = sa.select(changes.c.user_id)
        if deactivate_unmapped:
            conn.execute(
                users.update()
                .where(
                    users.c.tenant_id == self._tenant_id,
                    users.c.id.in_(staged.where(changes.c.kind == "deactivated")),
                )
                .values(enabled=False, deactivation_reason="left_mapped_groups")
            )
        conn.execute(
            users.update()
            .where(
                users.c.tenant_id == self._tenant_id,
                users.c.id.in_(staged.where(changes.c.kind == "reactivated")),
            )
            .values(enabled=True, deactivation_reason=None)
        )
        # Roles, from the states just written.
        desired = staging.desired_roles
        conn.execute(
            desired.insert().from_select(
                ["user_id", "role_key"], self._desired(scope, mode, default_role)
            )
        )
        kept = sa.exists(
            sa.select(sa.literal(1)).where(
                desired.c.user_id == user_roles.c.user_id,
                desired.c.role_key == user_roles.c.role_key,
            )
        )
        stored = sa.exists(
            sa.select(sa.literal(1))
            .select_from(user_roles)
            .where(
                user_roles.c.user_id == desired.c.user_id,
                user_roles.c.role_key == desired.c.role_key,
            )
        )
        stale = [
            user_roles.c.tenant_id == self._tenant_id,
            self._in_scope(user_roles.c.user_id, scope),
            ~kept,
        ]
        moved = sa.union(
            sa.select(desired.c.user_id).where(~stored),
            sa.select(user_roles.c.user_id).where(*stale),
        ).subquery("moved")
        conn.execute(
            changes.insert().from_select(
                ["kind", "user_id", "before"],
                sa.select(
                    sa.literal("roles"),
                    moved.c.user_id,
                    staging.roles_json(conn, moved.c.user_id),
                ),
            )
        )
        conn.execute(user_roles.delete().where(*stale))
        conn.execute(
            user_roles.insert().from_select(
                ["user_id", "role_key", "tenant_id"],
                sa.select(desired.c.user_id, desired.c.role_key, sa.literal(self._tenant_id)).where(
                    ~stored
                ),
            )
        )

    def _stage_state(self, kind: str, where: list[ColumnElement[bool]]) -> None:
        # FOR UPDATE (PostgreSQL; SQLite has one writer): the rows are locked and
        # re-checked against their newest version, so a user another request
        # deactivated or deleted meanwhile is not staged, then overwritten.
        chosen = sa.select(sa.literal(kind), users.c.id).where(*where).with_for_update(of=users)
        self._conn.execute(staging.user_changes.insert().from_select(["kind", "user_id"], chosen))

    def _to_deactivate(self, scope: Scope) -> list[ColumnElement[bool]]:
        """Users "deactivate users in no mapped group" turns off: active, enabled, in none."""
        return [
            *self._users_in_scope(scope),
            users.c.active,
            users.c.enabled,
            ~self._in_mapped_group(scope),
        ]

    def _to_reactivate(self, scope: Scope, deactivate_unmapped: bool) -> list[ColumnElement[bool]]:
        """Users it turned off who may come back: all of them when the setting is off,
        those in a mapped group again when it is on (never those the IdP deactivated)."""
        back = [
            *self._users_in_scope(scope),
            users.c.active,
            sa.not_(users.c.enabled),
            users.c.deactivation_reason == "left_mapped_groups",
        ]
        if deactivate_unmapped:
            back.append(self._in_mapped_group(scope))
        return back

    def recompute_enabled(
        self, scope: Scope, deactivate_unmapped: bool
    ) -> tuple[list[str], list[str]]:
        """Apply "deactivate users in no mapped group"; returns (deactivated, reactivated) ids."""
        deactivated: list[str] = []
        if deactivate_unmapped:
            deactivated = list(
                self._conn.execute(
                    users.update()
                    .where(*self._to_deactivate(scope))
                    .values(enabled=False, deactivation_reason="left_mapped_groups")
                    .returning(users.c.id)
                ).scalars()
            )
        reactivated = list(
            self._conn.execute(
                users.update()
                .where(*self._to_reactivate(scope, deactivate_unmapped))
                .values(enabled=True, deactivation_reason=None)
                .returning(users.c.id)
            ).scalars()
        )
        return deactivated, reactivated

    def is_in_mapped_group(self, user_id: str) -> bool:
        query = sa.select(users.c.id).where(
            users.c.tenant_id == self._tenant_id, users.c.id == user_id, self._in_mapped_group()
        )
        return self._conn.execute(query).first() is not None
