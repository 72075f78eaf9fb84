"""Recomputing users' enabled states and effective roles, with SQL.

Every path here implements the one rule ``scimgate.model.lifecycle.recompute``
states (a property test holds them equal to it):

Wherever a user's groups are read, the group values an IdP asserted at
their last single sign-on (``sso_user_groups``) count beside their SCIM
memberships.

* one user (``one_user``): the IdP's everyday traffic, one user reactivated
  or one member added to or removed from a mapped group. Its facts come from
  a few small prebuilt statements, the rule itself runs in Python, and only
  the difference is written;
* a few users (``enabled``, then ``roles``): the wanted (user, role) pairs are
  one SELECT over memberships joined to rules; the difference with the stored
  pairs is computed by the database (EXCEPT, both ways) and only what changed
  comes back;
* many users (``staged``, a rule or setting change): nothing per user comes
  back at all. The changes are staged in temporary tables
  (``scimgate.storage.staging``) and applied, and their events written, by
  set statements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.model.lifecycle import LEFT_MAPPED_GROUPS, Match, Policy, UserFacts, recompute
from scimgate.storage import staging
from scimgate.storage.driver import DriverSql, execute, execute_many, fetch_all, fetch_one
from scimgate.storage.lifecycle_sql import SMALL_SCOPE, LifecycleSql, Scope
from scimgate.storage.roles import GRANT, RULE_MATCHES_GROUP_SQL, RULE_MATCHES_VALUE_SQL, roles_of
from scimgate.storage.tables import user_roles, users

_STAGE_SCOPE = DriverSql("INSERT INTO scimgate_scope_ids (user_id) VALUES (%s)")

# One user's recompute on the driver (``one_user``): its state, the rules its
# groups match, its stored roles, and the writes that follow.
_USER_STATE = DriverSql(
    "SELECT active, enabled, deactivation_reason, deleted_at IS NOT NULL FROM users"
    " WHERE tenant_id = %s AND id = %s"
)
_USER_MATCHES = DriverSql(
    "SELECT r.role_key, r.priority, r.id FROM group_members m"
    " JOIN groups g ON g.id = m.group_id"
    f" JOIN role_mappings r ON {RULE_MATCHES_GROUP_SQL}"
    " WHERE m.tenant_id = %s AND m.member_id = %s"
    " UNION ALL SELECT r.role_key, r.priority, r.id FROM sso_user_groups s"
    f" JOIN role_mappings r ON {RULE_MATCHES_VALUE_SQL}"
    " WHERE s.tenant_id = %s AND s.user_id = %s"
)
_USER_ROLES = DriverSql("SELECT role_key FROM user_roles WHERE tenant_id = %s AND user_id = %s")
_SET_ENABLED = DriverSql(
    "UPDATE users SET enabled = %s, deactivation_reason = %s WHERE tenant_id = %s AND id = %s"
)
_REVOKE = DriverSql(
    "DELETE FROM user_roles WHERE tenant_id = %s AND user_id = %s AND role_key = %s"
)


@dataclass(frozen=True, slots=True)
class RoleChange:
    user_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]


class RecomputeStore:
    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._conn = conn
        self._tenant_id = tenant_id
        self._sql = LifecycleSql(conn, tenant_id)

    # -- one user --------------------------------------------------------------

    def one_user(self, user_id: str, policy: Policy) -> tuple[str | None, RoleChange | None]:
        """``enabled`` and ``roles`` for one user, through the rule itself, on the driver.

        The set statements of the general path cost more to build than these
        few small ones take to run. Returns (``staging.DEACTIVATED`` |
        ``staging.REACTIVATED`` | None, the role change or None).
        """
        conn, tenant = self._conn, self._tenant_id
        facts = self._facts(user_id)
        after = recompute(facts, policy)
        moved: str | None = None
        if after.enabled != facts.enabled:
            execute(conn, _SET_ENABLED, (after.enabled, after.reason, tenant, user_id))
            moved = staging.REACTIVATED if after.enabled else staging.DEACTIVATED
        stored = {row[0] for row in fetch_all(conn, _USER_ROLES, (tenant, user_id))}
        wanted = set(after.roles)
        if wanted == stored:
            return moved, None
        for key in sorted(stored - wanted):
            execute(conn, _REVOKE, (tenant, user_id, key))
        execute_many(conn, GRANT, [(user_id, key, tenant) for key in sorted(wanted - stored)])
        return moved, RoleChange(user_id, tuple(sorted(stored)), after.roles)

    def _facts(self, user_id: str) -> UserFacts:
        """What the rule reads of one user; a user with no live row counts as deleted."""
        tenant = self._tenant_id
        state = fetch_one(self._conn, _USER_STATE, (tenant, user_id))
        if state is None:
            return UserFacts(active=False, enabled=False, reason=None, deleted=True)
        rows = fetch_all(
            self._conn, _USER_MATCHES, (tenant, tenant, user_id, tenant, tenant, user_id)
        )
        return UserFacts(
            active=bool(state[0]),
            enabled=bool(state[1]),
            reason=state[2],
            matches=tuple(Match(key, int(priority), int(rule)) for key, priority, rule in rows),
            deleted=bool(state[3]),
        )

    def is_in_mapped_group(self, user_id: str) -> bool:
        query = sa.select(users.c.id).where(
            users.c.tenant_id == self._tenant_id, users.c.id == user_id, self._sql.in_mapped_group()
        )
        return self._conn.execute(query).first() is not None

    # -- a few users: ``model.lifecycle.recompute`` as set statements ------------

    def enabled(self, scope: Scope, policy: Policy) -> tuple[list[str], list[str]]:
        """The state half of ``model.lifecycle.recompute`` for a few users, in two UPDATEs.

        Returns the ids of the users it (deactivated, reactivated).
        """
        deactivated: list[str] = []
        deactivate_unmapped = policy.deactivate_unmapped
        if deactivate_unmapped:
            deactivated = list(
                self._conn.execute(
                    users.update()
                    .where(*self._sql.to_deactivate(scope))
                    .values(enabled=False, deactivation_reason=LEFT_MAPPED_GROUPS)
                    .returning(users.c.id)
                ).scalars()
            )
        reactivated = list(
            self._conn.execute(
                users.update()
                .where(*self._sql.to_reactivate(scope, deactivate_unmapped))
                .values(enabled=True, deactivation_reason=None)
                .returning(users.c.id)
            ).scalars()
        )
        return deactivated, reactivated

    def roles(self, scope: list[str], policy: Policy) -> list[RoleChange]:
        """The roles half of the rule for a few users (after ``enabled``); returns who changed.

        One statement compares wanted and stored pairs (EXCEPT both ways); the
        difference is written back and the users' roles after it read once.
        """
        added, removed = self._diff_small(scope, policy)
        if not added and not removed:
            return []
        changed = sorted({u for u, _ in added} | {u for u, _ in removed})
        after: dict[str, set[str]] = defaultdict(set)
        for u, keys in roles_of(self._conn, self._tenant_id, changed).items():
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
        self, scope: list[str], policy: Policy
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """A few users (a membership change): compare in one statement, write the difference."""
        # A CTE referenced twice is computed once by both SQLite and PostgreSQL.
        desired = self._sql.desired(scope, policy).cte("desired")
        current = self._sql.current(scope).cte("current_roles")
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

    # -- many users: the same set statements, nothing per user in Python --------

    def staged(self, scope: Scope, policy: Policy) -> None:
        """``model.lifecycle.recompute`` for many users (a rule or setting change).

        What changes is staged in ``staging.user_changes`` (``DEACTIVATED``,
        ``REACTIVATED``, and ``ROLES`` with the roles before), then applied with one
        UPDATE per state change, one DELETE and one INSERT; nothing per user
        passes through Python. ``EventStore.add_staged`` writes the events.
        """
        conn = self._conn
        if scope is not None and len(scope) > SMALL_SCOPE:
            execute_many(conn, _STAGE_SCOPE, [(user_id,) for user_id in set(scope)])
        changes = staging.user_changes
        deactivate_unmapped = policy.deactivate_unmapped
        if deactivate_unmapped:
            self._stage_state(staging.DEACTIVATED, self._sql.to_deactivate(scope))
        self._stage_state(staging.REACTIVATED, self._sql.to_reactivate(scope, deactivate_unmapped))
        staged = sa.select(changes.c.user_id)
        if deactivate_unmapped:
            conn.execute(
                users.update()
                .where(
                    users.c.tenant_id == self._tenant_id,
                    users.c.id.in_(staged.where(changes.c.kind == staging.DEACTIVATED)),
                )
                .values(enabled=False, deactivation_reason=LEFT_MAPPED_GROUPS)
            )
        conn.execute(
            users.update()
            .where(
                users.c.tenant_id == self._tenant_id,
                users.c.id.in_(staged.where(changes.c.kind == staging.REACTIVATED)),
            )
            .values(enabled=True, deactivation_reason=None)
        )
        # Roles, from the states just written.
        desired = staging.desired_roles
        conn.execute(
            desired.insert().from_select(["user_id", "role_key"], self._sql.desired(scope, policy))
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
            self._sql.in_scope(user_roles.c.user_id, scope),
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
                    sa.literal(staging.ROLES),
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
