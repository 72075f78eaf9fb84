"""Periodic chores the worker runs beside delivery."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from scimgate.model.entities import TenantSettings
from scimgate.service.audit import purge_expired
from scimgate.storage.database import Database

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
