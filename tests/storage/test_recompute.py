"""Every recompute path applies the one lifecycle rule of ``scimgate.model.lifecycle``.

The one-user path, the set-based path over a list of users and the staged
whole-tenant path are written differently for speed; on random small tenants
they must leave every user with the enabled state, reason and roles the pure
rule gives. A user's groups are SCIM memberships and the group values an IdP
asserted at single sign-on (``sso_user_groups``) alike.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scimgate.model import lifecycle
from scimgate.storage.database import Database
from scimgate.storage.repository import TenantRepository
from scimgate.storage.tables import (
    group_members,
    groups,
    role_mappings,
    sso_user_groups,
    tenants,
    user_roles,
    users,
)

ROLE_KEYS = ("admin", "dev", "ops")
GROUP_NAMES = ("Eng", "Ops", "Sales")
EXTERNAL_IDS = ("x1", "x2", "x3")
# (active, enabled, reason, deleted): the states a user can be in when a recompute starts.
STATES = {
    "enabled": (True, True, None, False),
    "left": (True, False, lifecycle.LEFT_MAPPED_GROUPS, False),
    "idp": (False, False, lifecycle.IDP_DEACTIVATED, False),
    "deleted_active": (True, False, lifecycle.DELETED, True),
    "deleted_inactive": (False, False, lifecycle.DELETED, True),
}
MOMENT = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rule:
    match_type: str
    # display_name: a name (any case); external_id: an externalId; id: a group's index.
    value: str | int
    role_key: str
    priority: int


@dataclass(frozen=True)
class Population:
    states: list[str]
    stored_roles: list[frozenset[str]]  # roles held before the recompute, maybe stale
    group_names: list[str]
    group_external_ids: list[str | None]
    members: frozenset[tuple[int, int]]  # (user index, group index)
    rules: list[Rule]
    policy: lifecycle.Policy
    # (user index, value): group values an IdP asserted at the user's last sign-in.
    asserted: frozenset[tuple[int, str]] = frozenset()


def _case(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper()])


@st.composite
def _rules(draw: st.DrawFn, names: list[str]) -> Rule:
    """A rule that mostly matches one of the groups, so users often hold several."""
    match_type = draw(
        st.sampled_from([lifecycle.BY_DISPLAY_NAME, lifecycle.BY_EXTERNAL_ID, lifecycle.BY_ID])
    )
    value: str | int
    if match_type == lifecycle.BY_DISPLAY_NAME:
        value = draw(st.sampled_from([*names, "Nobody"]).flatmap(_case))
    elif match_type == lifecycle.BY_EXTERNAL_ID:
        value = draw(st.sampled_from(EXTERNAL_IDS))
    else:
        value = draw(st.integers(0, len(names)))  # len(names): an id no group has
    return Rule(match_type, value, draw(st.sampled_from(ROLE_KEYS)), draw(st.integers(0, 2)))


@st.composite
def _populations(draw: st.DrawFn) -> Population:
    user_count = draw(st.integers(1, 6))
    names = list(draw(st.permutations(GROUP_NAMES))[: draw(st.integers(0, len(GROUP_NAMES)))])
    pairs = list(itertools.product(range(user_count), range(len(names))))
    joined = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))

    def per_user(strategy: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(strategy, min_size=user_count, max_size=user_count))

    return Population(
        states=per_user(st.sampled_from(sorted(STATES))),
        stored_roles=per_user(st.frozensets(st.sampled_from(ROLE_KEYS))),
        group_names=[draw(_case(name)) for name in names],
        group_external_ids=[draw(st.sampled_from([None, *EXTERNAL_IDS])) for _ in names],
        members=frozenset(pair for pair, member in zip(pairs, joined, strict=True) if member),
        rules=draw(st.lists(_rules(names), max_size=6)),
        asserted=draw(
            st.frozensets(
                st.tuples(
                    st.integers(0, user_count - 1),
                    st.sampled_from([*GROUP_NAMES, "Nobody", *EXTERNAL_IDS]).flatmap(_case),
                ),
                max_size=4,
            )
        ),
        policy=lifecycle.Policy(
            mode=draw(st.sampled_from([lifecycle.SINGLE, lifecycle.MULTIPLE])),
            default_role=draw(st.sampled_from([None, "dev", "member"])),
            deactivate_unmapped=draw(st.booleans()),
        ),
    )


# Cases the rule must get right, whatever the random ones reach: in single mode
# the smallest priority wins and ties go to the older rule; a user back in a
# mapped group is reactivated, one in none deactivated; deleted users and users
# the IdP deactivated keep their state and lose their roles.
_TIES = Population(
    states=["enabled", "left", "enabled", "idp", "deleted_active", "left"],
    stored_roles=[
        frozenset(keys) for keys in ({"ops"}, (), {"dev"}, {"dev"}, {"admin"}, {"admin"})
    ],
    group_names=["Eng", "ops"],
    group_external_ids=["x1", None],
    members=frozenset({(0, 0), (0, 1), (1, 1), (3, 0), (4, 0)}),
    rules=[
        Rule(lifecycle.BY_DISPLAY_NAME, "OPS", "ops", 1),
        Rule(lifecycle.BY_EXTERNAL_ID, "x1", "dev", 1),
        Rule(lifecycle.BY_ID, 0, "admin", 0),
        Rule(lifecycle.BY_ID, 2, "admin", 0),
    ],
    policy=lifecycle.Policy(lifecycle.SINGLE, "member", deactivate_unmapped=True),
)
_EXAMPLES = [
    _TIES,
    # Asserted values alone: one matching a rule by name (another case), one an
    # externalId rule, one nothing; user 2 is in no SCIM group at all.
    replace(
        _TIES,
        members=frozenset({(0, 0)}),
        asserted=frozenset({(2, "ops"), (5, "x1"), (1, "Nobody"), (0, "OPS")}),
    ),
    replace(_TIES, rules=_TIES.rules[:2]),
    replace(_TIES, policy=lifecycle.Policy(lifecycle.MULTIPLE, None, deactivate_unmapped=False)),
    replace(
        _TIES, rules=[], policy=lifecycle.Policy(lifecycle.SINGLE, "dev", deactivate_unmapped=False)
    ),
]


@dataclass(frozen=True)
class Stored:
    tenant_id: int
    user_ids: list[str]
    facts: dict[str, lifecycle.UserFacts]


def _store(db: Database, slug: str, population: Population) -> Stored:
    """Write the population as rows and return, for each user, what the rule reads of it."""
    user_ids = [str(uuid.uuid4()) for _ in population.states]
    group_ids = [str(uuid.uuid4()) for _ in population.group_names]
    with db.engine.begin() as conn:
        tenant_id = int(
            conn.execute(
                sa.insert(tenants)
                .values(slug=slug, name=slug, created_at=MOMENT)
                .returning(tenants.c.id)
            ).scalar_one()
        )
        for index, (user_id, state) in enumerate(zip(user_ids, population.states, strict=True)):
            active, enabled, reason, deleted = STATES[state]
            conn.execute(
                sa.insert(users).values(
                    id=user_id,
                    tenant_id=tenant_id,
                    user_name=f"user{index}@example.com",
                    user_name_lower=f"user{index}@example.com",
                    active=active,
                    created=MOMENT,
                    last_modified=MOMENT,
                    version=1,
                    doc={},
                    enabled=enabled,
                    deactivation_reason=reason,
                    deleted_at=MOMENT if deleted else None,
                )
            )
            for key in sorted(population.stored_roles[index]):
                conn.execute(
                    sa.insert(user_roles).values(user_id=user_id, role_key=key, tenant_id=tenant_id)
                )
        for group_id, name, external_id in zip(
            group_ids, population.group_names, population.group_external_ids, strict=True
        ):
            conn.execute(
                sa.insert(groups).values(
                    id=group_id,
                    tenant_id=tenant_id,
                    display_name=name,
                    display_name_lower=name.lower(),
                    external_id=external_id,
                    created=MOMENT,
                    last_modified=MOMENT,
                    version=1,
                    doc={},
                )
            )
        for user_index, group_index in sorted(population.members):
            conn.execute(
                sa.insert(group_members).values(
                    group_id=group_ids[group_index],
                    member_id=user_ids[user_index],
                    tenant_id=tenant_id,
                )
            )
        rule_rows = []
        for rule in population.rules:
            value = rule.value
            if isinstance(value, int):
                value = group_ids[value] if value < len(group_ids) else str(uuid.uuid4())
            rule_id = conn.execute(
                sa.insert(role_mappings)
                .values(
                    tenant_id=tenant_id,
                    match_type=rule.match_type,
                    match_value=value,
                    match_value_lower=value.lower(),
                    role_key=rule.role_key,
                    priority=rule.priority,
                    created_at=MOMENT,
                )
                .returning(role_mappings.c.id)
            ).scalar_one()
            rule_rows.append((rule, value, int(rule_id)))
        for user_index, value in sorted(population.asserted):
            conn.execute(
                sa.insert(sso_user_groups).values(
                    user_id=user_ids[user_index],
                    value=value,
                    value_lower=value.lower(),
                    tenant_id=tenant_id,
                )
            )
    facts = {}
    for index, user_id in enumerate(user_ids):
        active, enabled, reason, deleted = STATES[population.states[index]]
        matches = tuple(
            lifecycle.Match(rule.role_key, rule.priority, rule_id)
            for group_index, group_id in enumerate(group_ids)
            if (index, group_index) in population.members
            for rule, value, rule_id in rule_rows
            if lifecycle.rule_matches(
                rule.match_type,
                value,
                population.group_names[group_index],
                population.group_external_ids[group_index],
                group_id,
            )
        )
        matches += tuple(
            lifecycle.Match(rule.role_key, rule.priority, rule_id)
            for asserted_by, asserted in sorted(population.asserted)
            if asserted_by == index
            for rule, value, rule_id in rule_rows
            if lifecycle.rule_matches_value(rule.match_type, value, asserted)
        )
        facts[user_id] = lifecycle.UserFacts(active, enabled, reason, matches, deleted)
    return Stored(tenant_id, user_ids, facts)


@contextmanager
def _rolled_back(db: Database, tenant_id: int) -> Iterator[TenantRepository]:
    """A repository whose writes are undone, so each path starts from the same rows."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield TenantRepository(conn, tenant_id)
        finally:
            transaction.rollback()


def _outcome(repo: TenantRepository, user_ids: list[str]) -> dict[str, lifecycle.Effective]:
    rows = repo._conn.execute(
        sa.select(users.c.id, users.c.enabled, users.c.deactivation_reason).where(
            users.c.id.in_(user_ids)
        )
    )
    held = repo.roles.roles_of(user_ids)
    return {
        user_id: lifecycle.Effective(bool(enabled), reason, tuple(held.get(user_id, [])))
        for user_id, enabled, reason in rows
    }


def _one_user(repo: TenantRepository, user_ids: list[str], policy: lifecycle.Policy) -> None:
    for user_id in user_ids:
        repo.recompute.one_user(user_id, policy)


def _set_based(repo: TenantRepository, user_ids: list[str], policy: lifecycle.Policy) -> None:
    repo.recompute.enabled(user_ids, policy)
    repo.recompute.roles(user_ids, policy)


def _staged(repo: TenantRepository, user_ids: list[str], policy: lifecycle.Policy) -> None:
    with repo.staging():
        repo.recompute.staged(None, policy)


PATHS: dict[str, Callable[[TenantRepository, list[str], lifecycle.Policy], None]] = {
    "one user": _one_user,
    "set-based": _set_based,
    "staged": _staged,
}


def test_every_recompute_path_gives_what_the_rule_gives(db: Database) -> None:
    slugs = (f"tenant-{n}" for n in itertools.count())

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(population=_populations())
    @example(population=_EXAMPLES[0])
    @example(population=_EXAMPLES[1])
    @example(population=_EXAMPLES[2])
    @example(population=_EXAMPLES[3])
    @example(population=_EXAMPLES[4])
    def check(population: Population) -> None:
        stored = _store(db, next(slugs), population)
        wanted = {
            user_id: lifecycle.recompute(facts, population.policy)
            for user_id, facts in stored.facts.items()
        }
        for name, path in PATHS.items():
            with _rolled_back(db, stored.tenant_id) as repo:
                path(repo, stored.user_ids, population.policy)
                assert _outcome(repo, stored.user_ids) == wanted, name

    check()
