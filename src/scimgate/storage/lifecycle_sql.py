"""The lifecycle rule written as SQL, for recomputes over many users at once.

``scimgate.model.lifecycle.recompute`` defines who is enabled and which roles
they hold, one user at a time. Applying it row by row in Python to a 100k-user
tenant would cost far more than the change itself, so ``RecomputeStore``
(``scimgate.storage.recompute``) runs the same rule as set statements built
from these fragments:

* ``to_deactivate`` and ``to_reactivate``: the users a recompute moves between
  enabled and ``left_mapped_groups`` (the rule's second and third points);
* ``desired``: the wanted (user, role) pairs of enabled users (its fourth);
* ``matched``: which rules match each user's groups, SCIM memberships and the
  group values an IdP asserted at sign-in alike (its last).

A change to the rule is made in the model and here, together; the property
test in ``tests/storage/test_recompute.py`` fails until both agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from scimgate.model.lifecycle import LEFT_MAPPED_GROUPS, SINGLE, Policy
from scimgate.storage import staging
from scimgate.storage.roles import rule_matches_group, rule_matches_value
from scimgate.storage.tables import (
    group_members,
    groups,
    role_mappings,
    sso_user_groups,
    user_roles,
    users,
)

# Recompute scopes past this many ids run over the whole tenant instead of an IN list.
# Up to this many users a recompute compares in one statement and returns what
# changed; beyond, it stages the changes in temporary tables
# (``RecomputeStore.staged``).
SMALL_SCOPE = 1_000

# A recompute scope: every user of the tenant (None), or these user ids.
Scope = list[str] | None


class LifecycleSql:
    """Statement fragments for one tenant's recompute over ``scope``."""

    def __init__(self, conn: sa.Connection, tenant_id: int) -> None:
        self._dialect = conn.dialect.name
        self._tenant_id = tenant_id

    def in_scope(self, column: sa.Column[str], scope: Scope) -> ColumnElement[bool]:
        if scope is None:
            return sa.true()
        if len(scope) <= SMALL_SCOPE:
            return column.in_(scope)
        # Staged by ``RecomputeStore.staged``: one subquery instead of the ids bound each time.
        return column.in_(sa.select(staging.scope_ids.c.user_id))

    def matched(self, scope: Scope) -> sa.CompoundSelect[Any]:
        """(user_id, role_key, priority, rule_id) for every membership or asserted
        group value a rule maps (a user may appear once per match)."""
        return sa.union_all(self._matched_groups(scope), self._matched_values(scope))

    def _matched_groups(self, scope: Scope) -> sa.Select[Any]:
        """The SCIM memberships rules map.

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
                            rule_matches_group(self._tenant_id),
                        ),
                    ).join(group_members, group_members.c.group_id == groups.c.id)
                )
                .where(role_mappings.c.tenant_id == self._tenant_id)
            )
        return (
            sa.select(*columns)
            .select_from(
                group_members.join(groups, groups.c.id == group_members.c.group_id).join(
                    role_mappings, rule_matches_group(self._tenant_id)
                )
            )
            .where(
                group_members.c.tenant_id == self._tenant_id,
                self.in_scope(group_members.c.member_id, scope),
            )
        )

    def _matched_values(self, scope: Scope) -> sa.Select[Any]:
        """The group values IdPs asserted at sign-in that rules map (from the rules,
        on the value indexes, over the whole tenant; from the users' values otherwise)."""
        columns = (
            sso_user_groups.c.user_id,
            role_mappings.c.role_key,
            role_mappings.c.priority,
            role_mappings.c.id.label("rule_id"),
        )
        joined = sso_user_groups.join(
            role_mappings,
            sa.and_(
                sso_user_groups.c.tenant_id == role_mappings.c.tenant_id,
                rule_matches_value(self._tenant_id),
            ),
        )
        return (
            sa.select(*columns)
            .select_from(joined)
            .where(
                sso_user_groups.c.tenant_id == self._tenant_id,
                self.in_scope(sso_user_groups.c.user_id, scope),
            )
        )

    def in_mapped_group(self, scope: Scope = None) -> ColumnElement[bool]:
        """The outer ``users`` row is in at least one mapped group (SCIM or asserted).

        SQLite: an IN over the (uncorrelated) set of mapped members, which it
        builds once instead of probing memberships again for every user.
        PostgreSQL: EXISTS, which it plans as a hash semi- or anti-join; its
        NOT IN over a subquery larger than work_mem becomes a scan of the
        subquery per user (a 100k-user recompute ran for over ten minutes).
        """
        members = self._matched_groups(scope).with_only_columns(group_members.c.member_id)
        asserted = self._matched_values(scope).with_only_columns(sso_user_groups.c.user_id)
        if self._dialect == "postgresql":
            return sa.or_(
                sa.exists(members.where(group_members.c.member_id == users.c.id)),
                sa.exists(asserted.where(sso_user_groups.c.user_id == users.c.id)),
            )
        return users.c.id.in_(sa.union(members, asserted))

    def users_in_scope(self, scope: Scope) -> list[ColumnElement[bool]]:
        return [
            users.c.tenant_id == self._tenant_id,
            users.c.deleted_at.is_(None),
            self.in_scope(users.c.id, scope),
        ]

    def desired(self, scope: Scope, policy: Policy) -> sa.Select[Any]:
        matched = self.matched(scope).subquery("matched")
        if policy.mode == SINGLE:
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
        enabled = sa.select(users.c.id).where(*self.users_in_scope(scope), users.c.enabled)
        wanted: sa.Select[Any] = sa.select(mapped_sub.c.user_id, mapped_sub.c.role_key).where(
            mapped_sub.c.user_id.in_(enabled)
        )
        if policy.default_role is not None:
            fallback = sa.select(
                users.c.id.label("user_id"), sa.literal(policy.default_role).label("role_key")
            ).where(*self.users_in_scope(scope), users.c.enabled, ~self.in_mapped_group(scope))
            # The branches are disjoint (users in a mapped group, users in none).
            return sa.union_all(wanted, fallback).subquery("desired").select()
        return wanted

    def current(self, scope: Scope) -> sa.Select[Any]:
        return sa.select(user_roles.c.user_id, user_roles.c.role_key).where(
            user_roles.c.tenant_id == self._tenant_id,
            self.in_scope(user_roles.c.user_id, scope),
        )

    def to_deactivate(self, scope: Scope) -> list[ColumnElement[bool]]:
        """Users "deactivate users in no mapped group" turns off: active, enabled, in none."""
        return [
            *self.users_in_scope(scope),
            users.c.active,
            users.c.enabled,
            ~self.in_mapped_group(scope),
        ]

    def to_reactivate(self, scope: Scope, deactivate_unmapped: bool) -> list[ColumnElement[bool]]:
        """Users it turned off who may come back: all of them when the setting is off,
        those in a mapped group again when it is on (never those the IdP deactivated)."""
        back = [
            *self.users_in_scope(scope),
            users.c.active,
            sa.not_(users.c.enabled),
            users.c.deactivation_reason == LEFT_MAPPED_GROUPS,
        ]
        if deactivate_unmapped:
            back.append(self.in_mapped_group(scope))
        return back
