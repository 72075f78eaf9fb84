"""Who is enabled and which roles they hold: the one definition of the lifecycle rule.

The rule, in words:

* The IdP's ``active`` decides first. A user it sets to false is disabled
  (reason ``idp_deactivated``); a deleted user is disabled (``deleted``).
* An active user is enabled, unless the tenant deactivates users in no mapped
  group and the user is in none (reason ``left_mapped_groups``).
* A recompute (memberships, rules or settings changed) moves users only
  between enabled and ``left_mapped_groups``: the IdP's ``active`` and a
  deletion are applied by the change that carries them, so a user the IdP
  deactivated, or a deleted one, stays as it is.
* A disabled or deleted user holds no role. An enabled one holds the roles of
  the rules matching its groups: in ``single`` mode only the strongest rule's
  (the smallest priority number, ties going to the older rule), in
  ``multiple`` mode every matched role; matched by no rule, the tenant's
  default role, if it has one.
* A rule matches a group by its displayName (case-insensitively), its
  externalId or its id. A user's groups are their SCIM memberships and the
  group values an IdP asserted at their last single sign-on; a rule matches
  such a value as it would a group's name (case-insensitively), externalId
  or id (exactly).

``scimgate.storage.recompute`` applies this rule with SQL, one user at a time
through :func:`recompute` and for many users with set statements that
implement the same rule; a property test holds them all equal to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scimgate.model.sso import USER_SIGNED_IN

# Why a user is disabled (``users.deactivation_reason``).
IDP_DEACTIVATED = "idp_deactivated"
LEFT_MAPPED_GROUPS = "left_mapped_groups"
DELETED = "deleted"
DEACTIVATION_REASONS = (IDP_DEACTIVATED, LEFT_MAPPED_GROUPS, DELETED)

# Role modes (``TenantSettings.role_mode``).
SINGLE = "single"
MULTIPLE = "multiple"

# What a rule matches a group by (``role_mappings.match_type``).
BY_DISPLAY_NAME = "display_name"
BY_EXTERNAL_ID = "external_id"
BY_ID = "id"
MATCH_TYPES = (BY_DISPLAY_NAME, BY_EXTERNAL_ID, BY_ID)

# Every event type the lifecycle writes to the outbox (docs/reference/events.md).
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DEACTIVATED = "user.deactivated"
USER_REACTIVATED = "user.reactivated"
USER_DELETED = "user.deleted"
USER_ROLES_CHANGED = "user.roles_changed"
GROUP_CREATED = "group.created"
GROUP_UPDATED = "group.updated"
GROUP_DELETED = "group.deleted"
GROUP_MEMBER_ADDED = "group.member_added"
GROUP_MEMBER_REMOVED = "group.member_removed"
EVENT_TYPES = (
    USER_CREATED,
    USER_UPDATED,
    USER_DEACTIVATED,
    USER_REACTIVATED,
    USER_DELETED,
    USER_ROLES_CHANGED,
    GROUP_CREATED,
    GROUP_UPDATED,
    GROUP_DELETED,
    GROUP_MEMBER_ADDED,
    GROUP_MEMBER_REMOVED,
    USER_SIGNED_IN,
)


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matches one of the user's groups."""

    role_key: str
    priority: int
    rule_id: int


@dataclass(frozen=True, slots=True)
class Policy:
    """The tenant settings the rule reads."""

    mode: str = SINGLE
    default_role: str | None = None
    deactivate_unmapped: bool = False


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What the rule knows of one user; ``matches`` is empty when it is in no mapped group."""

    active: bool
    enabled: bool
    reason: str | None
    matches: tuple[Match, ...] = ()
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Effective:
    enabled: bool
    reason: str | None
    roles: tuple[str, ...]  # sorted


def state_for_active(
    active: bool, in_mapped_group: bool, deactivate_unmapped: bool
) -> tuple[bool, str | None]:
    """(enabled, reason) once the IdP has set ``active`` (a create, a PUT or a PATCH)."""
    if not active:
        return False, IDP_DEACTIVATED
    if deactivate_unmapped and not in_mapped_group:
        return False, LEFT_MAPPED_GROUPS
    return True, None


def wanted_roles(matches: Iterable[Match], mode: str, default_role: str | None) -> tuple[str, ...]:
    """The roles of an enabled user whose groups these rules match, sorted."""
    found = list(matches)
    if not found:
        return (default_role,) if default_role is not None else ()
    if mode == SINGLE:
        return (min(found, key=lambda m: (m.priority, m.rule_id)).role_key,)
    return tuple(sorted({m.role_key for m in found}))


def recompute(user: UserFacts, policy: Policy) -> Effective:
    """The user's enabled state, reason and roles after a recompute (the module's rule)."""
    enabled, reason = user.enabled, user.reason
    if user.deleted:
        return Effective(enabled, reason, ())
    if user.active and (enabled or reason == LEFT_MAPPED_GROUPS):
        in_mapped_group = bool(user.matches)
        moved = state_for_active(True, in_mapped_group, policy.deactivate_unmapped)
        if moved[0] != enabled:
            enabled, reason = moved
    roles = wanted_roles(user.matches, policy.mode, policy.default_role) if enabled else ()
    return Effective(enabled, reason, roles)


def rule_matches(
    match_type: str,
    match_value: str,
    display_name: str | None,
    external_id: str | None,
    group_id: str,
) -> bool:
    """Whether a rule matches a group with this displayName, externalId and id."""
    if match_type == BY_DISPLAY_NAME:
        return display_name is not None and match_value.lower() == display_name.lower()
    if match_type == BY_EXTERNAL_ID:
        return match_value == external_id
    return match_type == BY_ID and match_value == group_id


def rule_matches_value(match_type: str, match_value: str, value: str) -> bool:
    """Whether a rule matches a group value an IdP asserted at sign-in (SAML/OIDC ``groups``)."""
    if match_type == BY_DISPLAY_NAME:
        return match_value.lower() == value.lower()
    return match_type in (BY_EXTERNAL_ID, BY_ID) and match_value == value
