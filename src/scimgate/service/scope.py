"""What a SCIM service call needs to know: the tenant, its base URL, the limits."""

from __future__ import annotations

from dataclasses import dataclass

from scimgate.model.entities import Tenant
from scimgate.storage.database import Database


@dataclass(frozen=True, slots=True)
class Limits:
    max_results: int = 1000
    default_page_size: int = 100
    max_patch_operations: int = 1000
    max_bulk_operations: int = 1000
    max_payload_bytes: int = 1_048_576
    max_filter_length: int = 4096


@dataclass(frozen=True, slots=True)
class TenantScope:
    db: Database
    tenant: Tenant
    base_url: str  # the tenant's SCIM base URL, without a trailing slash
    limits: Limits

    @property
    def registered_extensions(self) -> frozenset[str]:
        """Extension schema URNs this tenant registered; their attributes are kept as sent."""
        return frozenset(self.tenant.settings.get("scim_extensions", ()))
