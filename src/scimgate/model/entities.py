"""Plain records the layers hand each other: tenants, SCIM tokens and setup links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    slug: str
    name: str
    created_at: datetime
    disabled: bool
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScimToken:
    """A SCIM bearer token's metadata. The secret is never part of it."""

    id: str
    tenant_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class SetupLink:
    """A setup link's metadata: what the customer's IT admin may configure, and until when.

    The secret is never part of it; ``scopes`` holds ``scim``, ``sso`` or both.
    """

    id: str
    tenant_id: int
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    completed_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired``, ``done`` or ``open``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "done" if self.completed_at is not None else "open"


DEFAULT_ATTRIBUTE_MAPPING: dict[str, str] = {
    "email": "emails[primary eq true].value",
    "given_name": "name.givenName",
    "family_name": "name.familyName",
    "display_name": "displayName",
    "title": "title",
    "department": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "employee_number": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "cost_center": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    "manager_id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
}


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """A tenant's lifecycle and mapping settings (stored in ``tenants.settings``)."""

    default_role: str | None = "member"
    role_mode: str = "single"  # "single": highest-priority rule wins; "multiple": union
    deactivate_unmapped: bool = False  # deactivate users who are in no mapped group
    delete_mode: str = "soft"  # "soft": deactivate, hide, purge later; "hard": delete now
    soft_delete_days: int = 30
    attribute_mapping: tuple[tuple[str, str], ...] = tuple(DEFAULT_ATTRIBUTE_MAPPING.items())
    scim_extensions: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TenantSettings:
        mapping = raw.get("attribute_mapping")
        return cls(
            default_role=raw.get("default_role", "member"),
            role_mode=raw.get("role_mode", "single"),
            deactivate_unmapped=bool(raw.get("deactivate_unmapped", False)),
            delete_mode=raw.get("delete_mode", "soft"),
            soft_delete_days=int(raw.get("soft_delete_days", 30)),
            attribute_mapping=(
                tuple(mapping.items())
                if isinstance(mapping, dict)
                else tuple(DEFAULT_ATTRIBUTE_MAPPING.items())
            ),
            scim_extensions=tuple(raw.get("scim_extensions", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "default_role": self.default_role,
            "role_mode": self.role_mode,
            "deactivate_unmapped": self.deactivate_unmapped,
            "delete_mode": self.delete_mode,
            "soft_delete_days": self.soft_delete_days,
            "attribute_mapping": dict(self.attribute_mapping),
            "scim_extensions": list(self.scim_extensions),
        }
