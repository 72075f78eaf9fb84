"""What a SCIM service call needs to know: the tenant, its base URL, the limits.

Every tenant-scoped service takes ``(db, tenant)``, the tenant resolved once at
the edge (docs/explanation/architecture.md). A ``TenantScope`` is that same
pair plus what a SCIM response needs, the base URL and the limits, so the
SCIM request services take it instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scimgate.model.entities import Tenant, TenantSettings
from scimgate.storage.database import Database


@dataclass(frozen=True, slots=True)
class Limits:
    max_results: int = 1000
    default_page_size: int = 100
    max_patch_operations: int = 1000
    max_bulk_operations: int = 1000
    max_payload_bytes: int = 1_048_576
    max_filter_length: int = 4096
    body_timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class TenantScope:
    db: Database
    tenant: Tenant
    base_url: str  # the tenant's SCIM base URL, without a trailing slash
    limits: Limits
    settings: TenantSettings = field(default_factory=TenantSettings)

    @classmethod
    def of(cls, db: Database, tenant: Tenant, base_url: str, limits: Limits) -> TenantScope:
        return cls(db, tenant, base_url, limits, TenantSettings.from_dict(tenant.settings))

    @property
    def registered_extensions(self) -> frozenset[str]:
        """Extension schema URNs this tenant registered; their attributes are kept as sent."""
        return frozenset(self.settings.scim_extensions)
