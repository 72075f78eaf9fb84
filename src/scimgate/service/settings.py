"""A tenant's lifecycle and mapping settings: validated, stored, and applied at once.

A change that affects who is enabled or which roles they hold (``default_role``,
``role_mode``, ``deactivate_unmapped``) recomputes the whole tenant in the
same transaction as the change and appends the resulting events, so the
stored settings, the users' states and the event feed never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scimgate.errors import InvalidValue
from scimgate.model.entities import Tenant, TenantSettings
from scimgate.service import lifecycle
from scimgate.service.profile import check_mapping
from scimgate.storage.database import Database

ROLE_MODES = ("single", "multiple")
DELETE_MODES = ("soft", "hard")
MAX_SOFT_DELETE_DAYS = 3650
_MAX_EXTENSIONS = 50
# Settings whose change alters users' enabled state or effective roles.
_LIFECYCLE_KEYS = frozenset({"default_role", "role_mode", "deactivate_unmapped"})


def _choice(name: str, allowed: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise InvalidValue(f"{name} must be one of {', '.join(allowed)}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("deactivate_unmapped must be true or false")
    return value


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("soft_delete_days must be a whole number of days")
    if not 1 <= value <= MAX_SOFT_DELETE_DAYS:
        raise InvalidValue(f"soft_delete_days must be between 1 and {MAX_SOFT_DELETE_DAYS}")
    return value


def _default_role(value: Any) -> Any:
    # Whether the role exists is checked against the database in the transaction.
    if value is not None and (not isinstance(value, str) or not value):
        raise InvalidValue("default_role must be a role key or null")
    return value


def _extensions(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > _MAX_EXTENSIONS:
        raise InvalidValue(f"scim_extensions must be a list of at most {_MAX_EXTENSIONS} URNs")
    for urn in value:
        if not isinstance(urn, str) or not urn.lower().startswith("urn:") or len(urn) > 300:
            raise InvalidValue(f"scim_extensions: {urn!r} is not a schema URN")
    return list(dict.fromkeys(value))


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "default_role": _default_role,
    "role_mode": _choice("role_mode", ROLE_MODES),
    "deactivate_unmapped": _boolean,
    "delete_mode": _choice("delete_mode", DELETE_MODES),
    "soft_delete_days": _days,
    "attribute_mapping": check_mapping,
    "scim_extensions": _extensions,
}


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes with every value checked; raises ``InvalidValue`` on the first bad one."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        check = _CHECKS.get(name)
        if check is None:
            raise InvalidValue(f"unknown setting {name!r}; settings are {', '.join(_CHECKS)}")
        checked[name] = check(value)
    return checked


def get_settings(db: Database, tenant: Tenant) -> TenantSettings:
    with db.tenant(tenant.id) as repo:
        return TenantSettings.from_dict(repo.app.settings())


def update_settings(db: Database, tenant: Tenant, changes: dict[str, Any]) -> TenantSettings:
    """Apply ``changes`` (a partial update) and recompute the tenant if the lifecycle moved."""
    checked = validate_changes(changes)
    with db.tenant(tenant.id, write=True) as repo:
        before = TenantSettings.from_dict(repo.app.settings(for_update=True))
        role = checked.get("default_role")
        if role is not None and not repo.roles.role_exists(role):
            raise InvalidValue(f"default_role: tenant {tenant.slug!r} has no role {role!r}")
        merged = {**before.to_dict(), **checked}
        after = TenantSettings.from_dict(merged)
        if after == before:
            return after
        repo.app.save_settings(after.to_dict())
        if any(getattr(before, k) != getattr(after, k) for k in _LIFECYCLE_KEYS):
            lifecycle.emit(repo, lifecycle.recompute(repo, after, None))
    return after
