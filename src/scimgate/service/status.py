"""A tenant's provisioning status, computed from its tokens and its audit log.

The state answers "is provisioning working?" in one word, checked in this
order (the first that applies wins):

* ``not configured``: no usable token (none created, or all revoked);
* ``token expired``: every unrevoked token has expired;
* ``errors``: a request failed in the last 24 hours (the newest is shown);
* ``waiting for first request``: tokens exist but no IdP has called yet;
* ``idle``: the last request is older than ``SCIMGATE_IDLE_AFTER_HOURS``;
* ``token expiring``: a token in use expires within 14 days;
* ``healthy``: otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scimgate.model.entities import ScimToken, Tenant
from scimgate.service.clock import utcnow
from scimgate.storage.audit import AuditEntry
from scimgate.storage.database import Database
from scimgate.storage.tenant_activity import tenant_activity

EXPIRY_WARNING = timedelta(days=14)
_DAY = timedelta(hours=24)
_WEEK = timedelta(days=7)

NOT_CONFIGURED = "not configured"
WAITING = "waiting for first request"
HEALTHY = "healthy"
ERRORS = "errors"
TOKEN_EXPIRING = "token expiring"  # noqa: S105 -- a state name
TOKEN_EXPIRED = "token expired"  # noqa: S105 -- a state name
IDLE = "idle"


@dataclass(frozen=True, slots=True)
class TokenStatus:
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool
    expired: bool


@dataclass(frozen=True, slots=True)
class ProvisioningStatus:
    tenant: str
    state: str
    last_request_at: datetime | None
    last_idp: str | None
    last_error: AuditEntry | None
    # {"24h"|"7d": {"<operation>": {"success": n, "failure": n}}}
    counts: dict[str, dict[str, dict[str, int]]]
    users_active: int
    users_deactivated: int
    groups: int
    tokens: list[TokenStatus] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        error = self.last_error
        return {
            "tenant": self.tenant,
            "state": self.state,
            "lastRequestAt": _iso(self.last_request_at),
            "lastIdp": self.last_idp,
            "lastError": None
            if error is None
            else {
                "at": _iso(error.occurred_at),
                "method": error.method,
                "path": error.path,
                "status": error.status,
                "scimType": error.scim_type,
                "detail": error.detail,
                "idp": error.idp,
            },
            "counts": self.counts,
            "users": {"active": self.users_active, "deactivated": self.users_deactivated},
            "groups": self.groups,
            "tokens": [
                {
                    "id": t.id,
                    "name": t.name,
                    "prefix": t.prefix,
                    "createdAt": _iso(t.created_at),
                    "expiresAt": _iso(t.expires_at),
                    "lastUsedAt": _iso(t.last_used_at),
                    "revoked": t.revoked,
                    "expired": t.expired,
                }
                for t in self.tokens
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def operation_name(method: str, resource_type: str | None) -> str:
    """``GET User``, ``PATCH Group``...; requests outside Users/Groups count as ``other``."""
    return f"{method} {resource_type}" if resource_type else f"{method} other"


def provisioning_status(
    db: Database, tenant: Tenant, *, idle_after_hours: float = 72.0, now: datetime | None = None
) -> ProvisioningStatus:
    now = now or utcnow()
    with db.tenant(tenant.id) as repo:
        tokens = repo.list_tokens()
        last = repo.audit.latest()
        last_error = repo.audit.latest(failures_only=True, since=now - _DAY)
        day = repo.audit.counts_since(now - _DAY)
        week = repo.audit.counts_since(now - _WEEK)
        resources = repo.audit.resource_counts()
    token_states = [_token_status(t, now) for t in tokens]
    return ProvisioningStatus(
        tenant=tenant.slug,
        state=_state(
            tokens,
            last.occurred_at if last else None,
            last_error is not None,
            now,
            timedelta(hours=idle_after_hours),
        ),
        last_request_at=last.occurred_at if last else None,
        last_idp=last.idp if last else None,
        last_error=last_error,
        counts={"24h": _tally(day), "7d": _tally(week)},
        users_active=resources["users_active"],
        users_deactivated=resources["users_deactivated"],
        groups=resources["groups"],
        tokens=token_states,
    )


def _token_status(token: ScimToken, now: datetime) -> TokenStatus:
    return TokenStatus(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked=token.revoked_at is not None,
        expired=token.expires_at is not None and token.expires_at <= now,
    )


@dataclass(frozen=True, slots=True)
class TenantState:
    """The one-word state and the last request time, as the operator's tenant list shows."""

    state: str
    last_request_at: datetime | None


def tenant_states(
    db: Database,
    tenants: list[Tenant],
    *,
    idle_after_hours: float = 72.0,
    now: datetime | None = None,
) -> dict[int, TenantState]:
    """The state of each tenant, by tenant id, from a few queries for all of them together
    (``provisioning_status`` computes the same word, plus counts, for one tenant)."""
    now = now or utcnow()
    found = tenant_activity(db, [t.id for t in tenants], now - _DAY)
    idle_after = timedelta(hours=idle_after_hours)
    return {
        tenant_id: TenantState(
            _state(a.tokens, a.last_request_at, a.failed_since, now, idle_after),
            a.last_request_at,
        )
        for tenant_id, a in found.items()
    }


def _state(
    tokens: list[ScimToken],
    last_request_at: datetime | None,
    failed_recently: bool,
    now: datetime,
    idle_after: timedelta,
) -> str:
    unrevoked = [t for t in tokens if t.revoked_at is None]
    if not unrevoked:
        return NOT_CONFIGURED
    usable = [t for t in unrevoked if t.is_usable(now)]
    if not usable:
        return TOKEN_EXPIRED
    if failed_recently:
        return ERRORS
    if last_request_at is None:
        return WAITING
    if now - last_request_at > idle_after:
        return IDLE
    # Expiring only matters when no usable token outlives the warning period.
    if all(t.expires_at is not None and t.expires_at - now <= EXPIRY_WARNING for t in usable):
        return TOKEN_EXPIRING
    return HEALTHY


def _tally(rows: list[tuple[str, str | None, bool, int]]) -> dict[str, dict[str, int]]:
    tally: dict[str, dict[str, int]] = {}
    for method, resource_type, ok, count in rows:
        bucket = tally.setdefault(
            operation_name(method, resource_type), {"success": 0, "failure": 0}
        )
        bucket["success" if ok else "failure"] += count
    return dict(sorted(tally.items()))
