"""Periodic chores the worker runs beside delivery."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scimgate.model.entities import TenantSettings
from scimgate.service.audit import purge_expired
from scimgate.service.connection_health import check_connections
from scimgate.service.saml_metadata import refresh_due
from scimgate.storage.database import Database

if TYPE_CHECKING:
    from scimgate.events.worker import WorkerOptions

logger = logging.getLogger("scimgate.events")


def purge_soft_deleted(db: Database, now: datetime) -> int:
    """Remove users soft-deleted longer ago than their tenant's ``soft_delete_days``.

    One short transaction per tenant, so a big tenant never holds the write
    lock (SQLite) for everyone. Returns how many users were removed.
    """
    with db.directory() as directory:
        tenants = directory.list_tenants()
    removed = 0
    for tenant in tenants:
        try:
            days = max(TenantSettings.from_dict(tenant.settings).soft_delete_days, 0)
        except (TypeError, ValueError):
            logger.warning("tenant %s has unreadable settings; not purging it", tenant.slug)
            continue
        with db.tenant(tenant.id, write=True) as repo:
            removed += repo.users.purge_deleted(now - timedelta(days=days))
    return removed


def purge_audit_log(db: Database, now: datetime, retention_days: int) -> int:
    """Drop audit entries past ``SCIMGATE_AUDIT_RETENTION_DAYS`` (0 keeps them forever)."""
    removed = purge_expired(db, retention_days, now)
    if removed:
        logger.info("purged %d audit entries older than %d days", removed, retention_days)
    return removed


def check_connection_health(db: Database, now: datetime) -> int:
    """Write ``connection.degraded`` / ``connection.recovered`` where a tenant's state
    changed (service/connection_health.py); returns how many changed."""
    return len(check_connections(db, now))


def purge_sso_state(db: Database, now: datetime) -> int:
    """Drop expired single sign-on state: sign-ins never finished, assertion ids past
    their NotOnOrAfter (a replay of them is refused as expired anyway) and codes.

    One short transaction per tenant. Returns how many rows were removed.
    """
    with db.directory() as directory:
        tenants = directory.list_tenants()
    removed = 0
    for tenant in tenants:
        with db.tenant(tenant.id, write=True) as repo:
            removed += repo.sso.purge_expired(now)
    return removed


def refresh_idp_metadata(db: Database, now: datetime, options: WorkerOptions) -> int:
    """Fetch again the SAML IdP metadata URLs that are due (bounded per pass); a failure is
    kept on its connection. Returns how many were fetched, well or not."""
    refreshed, failed = refresh_due(
        db,
        now,
        every=timedelta(hours=options.sso_metadata_refresh_hours),
        limit=options.sso_metadata_refresh_batch,
        egress=options.egress,
        timeout=options.timeout_seconds,
    )
    if refreshed or failed:
        logger.info("IdP metadata: %d refreshed, %d failed", refreshed, failed)
    return refreshed + failed
