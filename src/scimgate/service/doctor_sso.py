"""The connection doctor's single sign-on rules.

They read a tenant's SSO connections and its refused sign-ins (the audit rows
``service/sign_in.record_refusal`` writes, ``resource_type`` ``SignIn`` with
the refusal's check code in ``scim_type``) from the same ``Facts`` as the
SCIM rules, and are described in docs/how-to/connection-doctor.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from scimgate.config import Settings
from scimgate.errors import SsoRejected
from scimgate.model.sso import PROTOCOL_SAML, Connection
from scimgate.service.doctor_rules import ERROR, OFTEN, WARNING, Facts, Finding, _seen, iso
from scimgate.service.saml_values import certificate
from scimgate.storage.audit import SIGN_IN, AuditEntry

CERT_NOTICE = timedelta(days=30)  # an IdP certificate expiring this soon

# What to do about a sign-in refused again and again for the same check.
_FIXES: dict[str, str] = {
    "audience": (
        "In the IdP's application for scimgate, set the Audience (SP entity id, "
        "'Identifier' in Entra ID) to the entity id this tenant's SP metadata gives."
    ),
    "destination": (
        "Set the IdP's ACS URL ('Single sign-on URL', 'Reply URL') to the ACS URL of "
        "this tenant's SP metadata, exactly: scheme, host, path."
    ),
    "recipient": (
        "Set the IdP's ACS URL ('Recipient') to the ACS URL of this tenant's SP metadata."
    ),
    "issuer": (
        "Give the connection the IdP's entity id (idp_entity_id), or its metadata URL "
        "so scimgate reads it from there."
    ),
    "signature": (
        "The IdP signs with a certificate the connection does not hold, or signs nothing "
        "the connection requires: upload the IdP's current metadata (or certificate) and "
        "make the IdP sign the assertion."
    ),
    "expired": (
        "The IdP's clock and scimgate's differ, or the browser took too long: check both "
        "servers use NTP."
    ),
    "metadata": (
        "The connection's IdP values are missing or unreadable: give it the IdP's metadata "
        "URL or document."
    ),
    "nonce": "The IdP returned a token for another sign-in: check no proxy caches its answers.",
    "state": (
        "Sign-ins come back unknown or late: start them from the host app's link, not from "
        "a bookmark of the IdP's page, or allow IdP-initiated sign-in on the connection."
    ),
    "redirect_uri": (
        "The host app sends a redirect_uri not in SCIMGATE_SSO_REDIRECT_URIS: add it there "
        "exactly, or fix the host app's link."
    ),
    "disabled_user": (
        "People SCIM has deactivated keep trying to sign in: nothing to fix in scimgate if "
        "that is intended; otherwise re-activate them in the IdP's provisioning."
    ),
}
_DEFAULT_FIX = (
    "Open the console's Single sign-on page: the last sign-ins say what was refused; "
    "change the IdP or the connection so the two agree."
)


def _connection_certs(connection: Connection) -> list[datetime]:
    raw = connection.config.get("idp_certificates") or []
    texts = [raw] if isinstance(raw, str) else raw
    ends: list[datetime] = []
    for text in texts if isinstance(texts, list) else []:
        try:
            ends.append(certificate(str(text)).not_after)
        except SsoRejected:
            continue
    return ends


def _certificate_finding(facts: Facts, connection: Connection) -> Finding | None:
    ends = _connection_certs(connection)
    if not ends or max(ends) - facts.now > CERT_NOTICE:
        return None
    last = max(ends)
    expired = last <= facts.now
    if expired:
        title = f"The IdP certificate of SSO connection {connection.name!r} has expired"
        when = f"expired on {last:%Y-%m-%d %H:%M} UTC"
    else:
        days = math.ceil((last - facts.now) / timedelta(days=1))
        title = f"The IdP certificate of SSO connection {connection.name!r} expires in {days} days"
        when = f"expires on {last:%Y-%m-%d %H:%M} UTC"
    return Finding(
        rule="sso_certificate_expiring",
        severity=ERROR if expired else WARNING,
        title=title,
        explanation=(
            f"The newest signing certificate the connection holds for its IdP {when}. "
            "Once it has expired the IdP signs with a new one the connection does not "
            "hold, and every sign-in through it is refused."
        ),
        fix=(
            "Have the IdP's administrator add the IdP's new signing certificate, then "
            "update the connection: give it the IdP's metadata URL (fetched again on a "
            "schedule) or upload the new metadata; keep the old certificate until the IdP "
            "switches over."
        ),
        idp=connection.protocol,
        evidence={"connection": connection.name, "notAfter": iso(last)},
    )


def _metadata_finding(connection: Connection) -> Finding | None:
    error = connection.config.get("idp_metadata_error")
    if not error:
        return None
    has_values = bool(connection.config.get("idp_certificates"))
    return Finding(
        rule="sso_metadata_refresh_failing",
        severity=WARNING if has_values else ERROR,
        title=f"The IdP metadata of SSO connection {connection.name!r} cannot be fetched",
        explanation=(
            f"The last fetch of {connection.config.get('idp_metadata_url')} failed: {error}. "
            + (
                "Sign-ins go on with the metadata fetched before, but a new IdP "
                "certificate will not be picked up."
                if has_values
                else "The connection has no IdP values yet, so no one can sign in through it."
            )
        ),
        fix=(
            "Check the URL opens from the scimgate host and answers the IdP's metadata "
            "document, and that its address is allowed (private addresses need "
            "SCIMGATE_WEBHOOK_ALLOW_PRIVATE or SCIMGATE_WEBHOOK_ALLOWED_CIDRS); or upload "
            "the metadata instead."
        ),
        idp=connection.protocol,
        evidence={
            "connection": connection.name,
            "url": connection.config.get("idp_metadata_url"),
            "error": str(error),
            "checkedAt": connection.config.get("idp_metadata_checked_at"),
        },
    )


def _idp_connections(facts: Facts, settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    for connection in facts.connections:
        if not connection.enabled or connection.protocol != PROTOCOL_SAML:
            continue
        for finding in (_metadata_finding(connection), _certificate_finding(facts, connection)):
            if finding is not None:
                found.append(finding)
    return found


def _repeated_refusals(facts: Facts, settings: Settings) -> list[Finding]:
    groups: dict[tuple[str, str], list[AuditEntry]] = defaultdict(list)
    for entry in facts.failures:
        if entry.resource_type == SIGN_IN and entry.scim_type:
            groups[(entry.token_name or "?", entry.scim_type)].append(entry)
    found: list[Finding] = []
    for (name, check), entries in groups.items():
        if len(entries) < OFTEN:
            continue
        found.append(
            Finding(
                rule="sso_repeated_refusals",
                severity=WARNING,
                title=(
                    f"Sign-ins through {name!r} were refused {len(entries)} times "
                    f"for the same reason ({check})"
                ),
                explanation=f"The last refusal said: {entries[0].detail or check}.",
                fix=_FIXES.get(check, _DEFAULT_FIX),
                idp=entries[0].idp,
                evidence={**_seen(entries), "connection": name, "check": check},
            )
        )
    return found


SSO_RULES: tuple[Callable[[Facts, Settings], list[Finding]], ...] = (
    _idp_connections,
    _repeated_refusals,
)
