"""Provisioning status: one word from tokens and the audit log, plus counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from scimgate.model.entities import Tenant
from scimgate.service import status as st
from scimgate.service.clock import utcnow
from scimgate.service.status import provisioning_status
from scimgate.service.tenants import get_tenant
from scimgate.service.tokens import IssuedToken, revoke_token
from scimgate.storage.audit_writer import append_entries
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
    revoke_token(db, get_tenant(db, "acme"), issued.token.id)
    report = provisioning_status(db, tenant)
    assert report.state == st.NOT_CONFIGURED
    assert report.tokens[0].revoked


def test_the_tenant_list_shows_every_state_as_the_status_page_does(
    db: Database, make_tenant: Callable[..., Tenant], make_token: Callable[..., IssuedToken]
) -> None:
    tenants = {
        state: make_tenant(slug)
        for state, slug in [
            (st.NOT_CONFIGURED, "none"),
            (st.WAITING, "waiting"),
            (st.HEALTHY, "healthy"),
            (st.ERRORS, "errors"),
            (st.TOKEN_EXPIRING, "expiring"),
            (st.TOKEN_EXPIRED, "expired"),
            (st.IDLE, "idle"),
        ]
    }
    revoke_token(db, get_tenant(db, "none"), make_token("none").token.id)
    for slug in ("waiting", "healthy", "errors", "idle"):
        make_token(slug)
    make_token("expiring", expires_in_days=10)
    expired = make_token("expired", expires_in_days=1)
    # Oldest entries first, as the recorder writes them.
    _log(db, tenants[st.IDLE], hours_ago=80)
    _log(db, tenants[st.ERRORS], hours_ago=2, status=500)
    for state in (st.HEALTHY, st.ERRORS, st.TOKEN_EXPIRING):
        _log(db, tenants[state], hours_ago=1)
    now = utcnow()
    # The one-day token counts as expired two days on; everything else still holds then.
    later = now + timedelta(days=2)
    assert expired.token.expires_at is not None
    listed = st.tenant_states(db, list(tenants.values()), now=now)
    listed_later = st.tenant_states(db, [tenants[st.TOKEN_EXPIRED]], now=later)
    found = {t.slug: listed[t.id].state for t in tenants.values()}
    found["expired"] = listed_later[tenants[st.TOKEN_EXPIRED].id].state
    assert found == {t.slug: state for state, t in tenants.items()}
    for tenant in tenants.values():
        moment = later if tenant.slug == "expired" else now
        assert provisioning_status(db, tenant, now=moment).state == found[tenant.slug]
    assert listed[tenants[st.HEALTHY].id].last_request_at is not None
    assert listed[tenants[st.WAITING].id].last_request_at is None
