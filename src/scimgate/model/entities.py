"""Plain records the layers hand each other: tenants and SCIM tokens."""

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
