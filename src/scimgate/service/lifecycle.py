"""Lifecycle rules and the events they produce, applied inside the change's transaction.

* Who is enabled and which roles they hold is defined once, in
  ``scimgate.model.lifecycle`` (its docstring states the rule); this module
  applies it when a change can move it, through ``TenantRepository.recompute``.
* Effective roles are recomputed whenever memberships, rules or a user's
  state change; a disabled user has no roles.
* Every change appends events to the outbox in the same transaction, so an
  event exists exactly when its change committed.
"""

from __future__ import annotations

from typing import Any

from scimgate.model import lifecycle as rule
from scimgate.model.entities import TenantSettings
from scimgate.model.lifecycle import DELETED as DELETED
from scimgate.model.lifecycle import IDP_DEACTIVATED as IDP_DEACTIVATED
from scimgate.model.lifecycle import LEFT_MAPPED_GROUPS as LEFT_MAPPED_GROUPS
from scimgate.model.lifecycle import (
    USER_DEACTIVATED,
    USER_REACTIVATED,
    USER_ROLES_CHANGED,
    Policy,
)
from scimgate.service.clock import utcnow
from scimgate.storage import staging
from scimgate.storage.events import NewEvent
from scimgate.storage.lifecycle_sql import SMALL_SCOPE, Scope
from scimgate.storage.recompute import RoleChange
from scimgate.storage.repository import TenantRepository


def policy(settings: TenantSettings) -> Policy:
    """The settings the lifecycle rule reads."""
    return Policy(settings.role_mode, settings.default_role, settings.deactivate_unmapped)


def initial_state(settings: TenantSettings, active: bool) -> tuple[bool, str | None]:
    """(enabled, reason) of a new user, who belongs to no group yet."""
    return rule.state_for_active(active, False, settings.deactivate_unmapped)


def state_for_active(
    repo: TenantRepository, settings: TenantSettings, user_id: str, active: bool
) -> tuple[bool, str | None]:
    """(enabled, reason) after the IdP set ``active``."""
    # Whether the user is in a mapped group matters only in this case: skip the query otherwise.
    asks = active and settings.deactivate_unmapped
    mapped = asks and repo.recompute.is_in_mapped_group(user_id)
    return rule.state_for_active(active, mapped, settings.deactivate_unmapped)


def initial_roles(settings: TenantSettings, enabled: bool) -> list[str]:
    """The roles of a new user, who belongs to no group yet."""
    if not enabled:
        return []
    return list(rule.wanted_roles((), settings.role_mode, settings.default_role))


def user_event(kind: str, user_id: str, user: dict[str, Any], **extra: Any) -> NewEvent:
    return NewEvent(kind, "User", user_id, {"user": user, **extra})


def group_event(kind: str, group: dict[str, Any], **extra: Any) -> NewEvent:
    return NewEvent(kind, "Group", str(group["id"]), {"group": group, **extra})


def state_events(
    user_id: str,
    user: dict[str, Any],
    was_enabled: bool,
    enabled: bool,
    reason: str | None,
) -> list[NewEvent]:
    if was_enabled and not enabled:
        return [user_event(USER_DEACTIVATED, user_id, user, reason=reason)]
    if enabled and not was_enabled:
        return [user_event(USER_REACTIVATED, user_id, user)]
    return []


def recompute(
    repo: TenantRepository,
    settings: TenantSettings,
    scope: Scope,
    found: list[NewEvent] | None = None,
) -> list[NewEvent]:
    """Re-derive enabled state and roles for ``scope`` (None: the whole tenant).

    ``found`` are events the caller has collected so far; returns the events
    still to emit, in order: ``found``, then deactivations, reactivations and
    role changes. For a few users that is ``found`` plus the new events; for
    many (a rule or setting change) ``found`` is emitted at once and the new
    events are written by the database from staged changes, so the result is
    empty.
    """
    found = list(found or [])
    rule_policy = policy(settings)
    if scope is None or len(scope) > SMALL_SCOPE:
        emit(repo, found)
        with repo.staging():
            repo.recompute.staged(scope, rule_policy)
            repo.events.add_staged(utcnow())
        return []
    if len(scope) == 1:
        moved, change = repo.recompute.one_user(scope[0], rule_policy)
        deactivated = scope if moved == staging.DEACTIVATED else []
        reactivated = scope if moved == staging.REACTIVATED else []
        changes = [change] if change is not None else []
    else:
        deactivated, reactivated = repo.recompute.enabled(scope, rule_policy)
        changes = repo.recompute.roles(scope, rule_policy)
    return found + _recompute_events(repo, deactivated, reactivated, changes)


def _recompute_events(
    repo: TenantRepository,
    deactivated: list[str],
    reactivated: list[str],
    changes: list[RoleChange],
) -> list[NewEvent]:
    """Deactivations, reactivations, then role changes, each by user id."""
    touched = sorted(set(deactivated) | set(reactivated) | {c.user_id for c in changes})
    if not touched:
        return []
    users = repo.users.snapshots(touched)
    return [
        *(
            user_event(USER_DEACTIVATED, u, users[u], reason=LEFT_MAPPED_GROUPS)
            for u in sorted(deactivated)  # UPDATE ... RETURNING gives no order
            if u in users
        ),
        *(user_event(USER_REACTIVATED, u, users[u]) for u in sorted(reactivated) if u in users),
        *(
            user_event(
                USER_ROLES_CHANGED,
                c.user_id,
                users[c.user_id],
                before=list(c.before),
                after=list(c.after),
            )
            for c in changes
            if c.user_id in users
        ),
    ]


def disabled(repo: TenantRepository, user_id: str, user: dict[str, Any]) -> list[NewEvent]:
    """``recompute`` for one user the IdP just deactivated (``active`` false), in one statement.

    By the rule (``scimgate.model.lifecycle``) a disabled user holds no role
    and a recompute never re-enables a user who is not ``active``, so the
    general recompute (two UPDATEs and a CTE/EXCEPT statement, costly to build
    on every PATCH) reduces to dropping the user's roles. ``user`` is the
    user's snapshot after the change.
    """
    removed = repo.roles.revoke_all(user_id)
    if not removed:
        return []
    return [user_event(USER_ROLES_CHANGED, user_id, user, before=removed, after=[])]


def emit(repo: TenantRepository, found: list[NewEvent]) -> None:
    repo.events.add(found, utcnow())
