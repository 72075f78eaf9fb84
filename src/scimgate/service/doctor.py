"""The connection doctor: what is wrong with a tenant's SCIM connection, in plain words.

``diagnose`` reads the tenant's tokens, its audit log of the last 24 hours and
a few counts, and returns one ``Finding`` per problem it recognises, each
with a stable rule code, what it means, and what to change in the settings of
the IdP that sent the requests (``service/doctor_advice.py``). Every rule is
described in docs/how-to/connection-doctor.md.

A failure the IdP has since stopped making is not reported: for the rules
about the URL and the token, a successful request from the same IdP after the last
failing one means the setting was fixed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from scimgate.config import Settings
from scimgate.model.entities import Tenant
from scimgate.model.identity import fold_user_name
from scimgate.service.clock import utcnow
from scimgate.service.doctor_rules import (
    ERROR,
    RATE_SAMPLE,
    RULES,
    WARNING,
    WINDOW,
    Facts,
    Finding,
    iso,
    taken_name,
)
from scimgate.service.doctor_sso import SSO_RULES
from scimgate.storage.audit import AuditEntry, AuditFilter
from scimgate.storage.database import Database

__all__ = ["ERROR", "WARNING", "Finding", "diagnose", "doctor_report"]

_MAX_FAILURES = 1000  # failing entries read per diagnosis, newest first


def diagnose(
    db: Database,
    tenant: Tenant,
    *,
    now: datetime | None = None,
    settings: Settings,
    idp: str | None = None,
) -> list[Finding]:
    """Every problem the rules recognise in ``tenant``'s connection, errors first.

    ``idp`` is the IdP the reader uses (the setup wizard's choice): a finding
    whose requests do not tell which IdP sent them gives the fix in its words.
    """
    facts = replace(_gather(db, tenant, now or utcnow(), settings), chosen_idp=idp)
    found = [finding for rule in (*RULES, *SSO_RULES) for finding in rule(facts, settings)]
    return sorted(found, key=lambda f: f.severity != ERROR)


def doctor_report(
    db: Database, tenant: Tenant, *, now: datetime | None = None, settings: Settings
) -> dict[str, Any]:
    """The JSON shape the host API and ``scimgate status --doctor --json`` share."""
    moment = now or utcnow()
    findings = diagnose(db, tenant, now=moment, settings=settings)
    return {
        "tenant": tenant.slug,
        "checkedAt": iso(moment),
        "healthy": not any(f.severity == ERROR for f in findings),
        "findings": [f.to_dict() for f in findings],
    }


def _gather(db: Database, tenant: Tenant, now: datetime, settings: Settings) -> Facts:
    since = now - WINDOW
    with db.tenant(tenant.id) as repo:
        audit = repo.audit
        failures = audit.page(AuditFilter(outcome="failure", since=since), _MAX_FAILURES)
        failures = [e for e in failures if e.occurred_at <= now]
        taken = [taken_name(e) for e in failures if e.status == 409]
        around: list[AuditEntry] = []
        limited = [e for e in failures if e.status == 429]
        if limited:
            start = limited[0].occurred_at - timedelta(seconds=60)
            around = audit.page(AuditFilter(since=start), RATE_SAMPLE)
        week = audit.counts_since(now - timedelta(days=7))
        return Facts(
            tenant=tenant,
            now=now,
            base_url=settings.scim_base_url(tenant.slug),
            tokens=repo.list_tokens(),
            failures=failures,
            last_request=audit.latest(),
            last_success={
                idp: found[0].id
                for idp in {e.idp for e in failures}
                if (found := audit.page(AuditFilter(outcome="success", idp=idp), 1))
            },
            last_group_write=_first(audit.page(AuditFilter(resource_type="Group"), 1)),
            group_writes=sum(
                count
                for method, resource_type, ok, count in week
                if ok and resource_type == "Group" and method in ("POST", "PUT", "PATCH")
            ),
            resources=audit.resource_counts(),
            stored_names=audit.stored_user_names(
                sorted({fold_user_name(name) for name in taken if name})
            ),
            around_429=around,
            connections=repo.sso.list_connections(),
        )


def _first(entries: list[AuditEntry]) -> AuditEntry | None:
    return entries[0] if entries else None
