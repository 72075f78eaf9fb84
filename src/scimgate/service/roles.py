"""A tenant's app roles and its group → role mapping rules.

A rule gives the members of one IdP group (matched by displayName,
case-insensitively, by externalId or by id) one role; a smaller ``priority``
number wins in ``single`` role mode, ties going to the older rule (the rule is
``scimgate.model.lifecycle``). Every rule
change recomputes the tenant's roles and enabled states with set-based SQL in
the transaction of the change (``scimgate.service.lifecycle.recompute``) and
appends the events of what changed, so a rule and its effects commit together.
"""

from __future__ import annotations

import re

from scimgate.errors import Conflict, InvalidValue, NotFound, Uniqueness
from scimgate.model.entities import Tenant, TenantSettings
from scimgate.model.lifecycle import BY_DISPLAY_NAME
from scimgate.model.lifecycle import MATCH_TYPES as MATCH_TYPES
from scimgate.service import lifecycle
from scimgate.service.clock import utcnow
from scimgate.storage.database import Database
from scimgate.storage.repository import TenantRepository
from scimgate.storage.roles import RoleRow as RoleRow
from scimgate.storage.roles import RuleRow as RuleRow

DEFAULT_PRIORITY = 100
MAX_PRIORITY = 1_000_000
_ROLE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")


class RoleNotFound(NotFound):
    default_detail = "No such role"


class RuleNotFound(NotFound):
    default_detail = "No such role mapping"


def _recompute(repo: TenantRepository) -> None:
    settings = TenantSettings.from_dict(repo.app.settings())
    lifecycle.emit(repo, lifecycle.recompute(repo, settings, None))


# -- roles ---------------------------------------------------------------------


def list_roles(db: Database, tenant: Tenant) -> list[RoleRow]:
    with db.tenant(tenant.id) as repo:
        return repo.roles.list_roles()


def add_role(db: Database, tenant: Tenant, key: str, name: str | None = None) -> RoleRow:
    if not isinstance(key, str) or not _ROLE_KEY.match(key):
        raise InvalidValue(
            "a role key must be 1-64 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit"
        )
    name = (name or key).strip()
    if not name or len(name) > 200:
        raise InvalidValue("a role name must have 1-200 characters")
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.roles.add_role(key, name, utcnow()):
            raise Uniqueness(f"tenant {tenant.slug!r} already has a role {key!r}")
        return next(r for r in repo.roles.list_roles() if r.key == key)


def delete_role(db: Database, tenant: Tenant, key: str) -> None:
    """Delete a role no rule uses and that is not the default role (409 otherwise)."""
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.roles.role_exists(key):
            raise RoleNotFound(f"tenant {tenant.slug!r} has no role {key!r}")
        settings = TenantSettings.from_dict(repo.app.settings())
        if settings.default_role == key:
            raise Conflict(f"{key!r} is the default role; choose another default_role first")
        using = [r.id for r in repo.roles.list_rules() if r.role_key == key]
        if using:
            shown = ", ".join(map(str, using[:10]))
            raise Conflict(f"role {key!r} is used by role mappings {shown}; remove them first")
        held = bool(repo.app.users_page(None, 1, role=key))
        repo.roles.delete_role(key)
        if held:
            _recompute(repo)


# -- rules -----------------------------------------------------------------------


def list_rules(db: Database, tenant: Tenant) -> list[tuple[RuleRow, int]]:
    """Every rule, strongest first, with how many users it matches now."""
    with db.tenant(tenant.id) as repo:
        counts = repo.roles.rule_member_counts()
        return [(rule, counts.get(rule.id, 0)) for rule in repo.roles.list_rules()]


def _check_rule(group: str, match_type: str, priority: int) -> None:
    if match_type not in MATCH_TYPES:
        raise InvalidValue(f"match_type must be one of {', '.join(MATCH_TYPES)}")
    if not isinstance(group, str) or not group.strip() or len(group) > 512:
        raise InvalidValue("group must name a group in 1-512 characters")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidValue("priority must be a whole number")
    if not 0 <= priority <= MAX_PRIORITY:
        raise InvalidValue(f"priority must be between 0 and {MAX_PRIORITY}")


def _same_group(rule: RuleRow, match_type: str, group: str) -> bool:
    if rule.match_type != match_type:
        return False
    if match_type == BY_DISPLAY_NAME:
        return rule.match_value.lower() == group.lower()
    return rule.match_value == group


def add_rule(
    db: Database,
    tenant: Tenant,
    group: str,
    role: str,
    *,
    priority: int = DEFAULT_PRIORITY,
    match_type: str = BY_DISPLAY_NAME,
) -> RuleRow:
    """Map members of ``group`` to ``role``; recomputes the tenant at once."""
    _check_rule(group, match_type, priority)
    group = group.strip()
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.roles.role_exists(role):
            raise InvalidValue(f"tenant {tenant.slug!r} has no role {role!r}")
        existing = repo.roles.list_rules()
        if any(r.role_key == role and _same_group(r, match_type, group) for r in existing):
            raise Uniqueness(f"group {group!r} is already mapped to role {role!r}")
        rule_id = repo.roles.add_rule(match_type, group, role, priority, utcnow())
        _recompute(repo)
        return next(r for r in repo.roles.list_rules() if r.id == rule_id)


def remove_rule(db: Database, tenant: Tenant, rule_id: int) -> None:
    with db.tenant(tenant.id, write=True) as repo:
        if not repo.roles.delete_rule(rule_id):
            raise RuleNotFound(f"tenant {tenant.slug!r} has no role mapping {rule_id}")
        _recompute(repo)
