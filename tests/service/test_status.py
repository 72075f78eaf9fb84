"""Provisioning status: one word from tokens and the audit log, plus counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from scimgate.model.entities import Tenant
from scimgate.service import status as st
from scimgate.service.clock import utcnow
from scimgate.service.status import provisioning_status
from scimgate.service.tokens import IssuedToken, revoke_token
from scimgate.storage.audit import append_entries
from scimgate.storage.database import Database


def _log(db: Database, tenant: Tenant, *, hours_ago: float, status: int = 200) -> None:
    append_entries(
        db,
        [
            {
                "occurred_at": utcnow() - timedelta(hours=hours_ago),
                "tenant_id": tenant.id,
                "token_id": None,
                "token_name": "t",
                "idp": "entra",
                "method": "PATCH",
                "path": "/scim/v2/x/Users/1",
                "resource_type": "User",
                "resource_id": "1",
                "status": status,
                "scim_type": "invalidValue" if status == 400 else None,
                "detail": "bad" if status >= 400 else None,
                "duration_ms": 2.0,
                "change": None,
            }
        ],
    )


def test_a_tenant_without_tokens_is_not_configured(
    db: Database, make_tenant: Callable[..., Tenant]
) -> None:
    assert provisioning_status(db, make_tenant("acme")).state == st.NOT_CONFIGURED


def test_a_fresh_token_waits_for_the_first_request_then_turns_healthy(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenant = make_tenant("acme")
    make_token("acme")
    assert provisioning_status(db, tenant).state == st.WAITING
    _log(db, tenant, hours_ago=1)
    report = provisioning_status(db, tenant)
    assert (report.state, report.last_idp) == (st.HEALTHY, "entra")
    assert report.counts["24h"] == {"PATCH User": {"success": 1, "failure": 0}}


def test_a_failure_in_the_last_day_shows_errors_with_the_newest_one(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenant = make_tenant("acme")
    make_token("acme")
    _log(db, tenant, hours_ago=30, status=500)  # older than a day: not counted as current
    _log(db, tenant, hours_ago=2, status=400)
    _log(db, tenant, hours_ago=1)
    report = provisioning_status(db, tenant)
    assert report.state == st.ERRORS
    assert report.last_error is not None
    assert report.last_error.scim_type == "invalidValue"
    assert report.counts["7d"]["PATCH User"] == {"success": 1, "failure": 2}
    assert report.to_dict()["lastError"]["status"] == 400


def test_no_request_for_longer_than_the_idle_period_is_idle(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenant = make_tenant("acme")
    make_token("acme")
    _log(db, tenant, hours_ago=80)
    assert provisioning_status(db, tenant).state == st.IDLE
    assert provisioning_status(db, tenant, idle_after_hours=100).state == st.HEALTHY


def test_tokens_near_or_past_expiry_are_reported(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenant = make_tenant("acme")
    make_token("acme", expires_in_days=10)
    _log(db, tenant, hours_ago=1)
    assert provisioning_status(db, tenant).state == st.TOKEN_EXPIRING
    later = utcnow() + timedelta(days=11)
    assert provisioning_status(db, tenant, now=later).state == st.TOKEN_EXPIRED


def test_revoking_the_only_token_means_not_configured_again(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenant = make_tenant("acme")
    issued = make_token("acme")
    revoke_token(db, "acme", issued.token.id)
    report = provisioning_status(db, tenant)
    assert report.state == st.NOT_CONFIGURED
    assert report.tokens[0].revoked
